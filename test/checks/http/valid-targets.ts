/**
 * The targets every HTTP check must pass: the well-configured fixture, and the
 * reference service as soon as its test support module exists (it is built
 * concurrently; this picks it up without another edit).
 */
import { existsSync } from 'node:fs';
import { startHttpFixture } from '../../../fixtures/http/servers.js';
import type { TargetHandle, ValidCase } from '../../harness/check-tester.js';

/** The reference service starts PostgreSQL per case: tens of seconds on a loaded 2-core runner. */
export const CASE_TIMEOUT_MS = 120_000;

const referenceSupport = new URL('../../support/reference-service.ts', import.meta.url);

interface ReferenceServiceModule {
  startReferenceTarget(): Promise<TargetHandle>;
}

export function validTargets(withParams?: Record<string, unknown>): ValidCase[] {
  const cases: ValidCase[] = [
    { name: 'well-configured fixture', target: () => startHttpFixture(), ...(withParams ? { with: withParams } : {}) },
  ];
  if (existsSync(referenceSupport)) {
    // A non-literal specifier: the module may not exist when this file is type-checked.
    const specifier = '../../support/reference-service.js';
    cases.push({
      name: 'reference service',
      target: async () => ((await import(specifier)) as ReferenceServiceModule).startReferenceTarget(),
      ...(withParams ? { with: withParams } : {}),
    });
  }
  return cases;
}
