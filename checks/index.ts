/**
 * The registry: a plain list of every check module. Adding a check is adding
 * one import and one entry here.
 */
import type { CheckDefinition } from '../src/engine/types.js';
import httpAuthRequired from './http/auth-required.js';
import httpCors from './http/cors.js';
import httpDocsDisabled from './http/docs-disabled.js';
import httpHeaders from './http/headers.js';
import httpRedirect from './http/redirect.js';
import httpStatus from './http/status.js';
import httpStrictInput from './http/strict-input.js';
import repoSecretStrength from './repo/secret-strength.js';
import tlsCertificate from './tls/certificate.js';
import tlsProtocols from './tls/protocols.js';

export const allChecks: readonly CheckDefinition[] = [
  // What any client sees from the network.
  tlsProtocols,
  tlsCertificate,
  httpStatus,
  httpRedirect,
  httpHeaders,
  httpAuthRequired,
  httpDocsDisabled,
  httpCors,
  httpStrictInput,
  // What the repository holds.
  repoSecretStrength,
];

export function findCheck(id: string): CheckDefinition | undefined {
  return allChecks.find((check) => check.id === id);
}
