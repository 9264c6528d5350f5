/**
 * The targets every HTTP check must pass: the well-configured fixture and the
 * reference service.
 */
import { startHttpFixture } from '../../../fixtures/http/servers.js';
import type { ValidCase } from '../../harness/check-tester.js';
import { startReferenceTarget } from '../../support/reference-service.js';

export function validTargets(withParams?: Record<string, unknown>): ValidCase[] {
  const withCase = withParams ? { with: withParams } : {};
  return [
    { name: 'well-configured fixture', target: () => startHttpFixture(), ...withCase },
    { name: 'reference service', target: () => startReferenceTarget(), ...withCase },
  ];
}
