/**
 * The registry: a plain list of every check module. Adding a check is adding
 * one import and one entry here.
 */
import type { CheckDefinition } from '../src/engine/types.js';
import authFailureEvents from './auth/failure-events.js';
import authIpBlock from './auth/ip-block.js';
import authLockout from './auth/lockout.js';
import authMfaEnforced from './auth/mfa-enforced.js';
import authNoEnumeration from './auth/no-enumeration.js';
import authRefreshRotation from './auth/refresh-rotation.js';
import authSessionControls from './auth/session-controls.js';
import authTokenTransport from './auth/token-transport.js';
import authTokenValidation from './auth/token-validation.js';
import commandRun from './command/run.js';
import commandRunbook from './command/runbook.js';
import httpAdminConsole from './http/admin-console.js';
import httpAuthRequired from './http/auth-required.js';
import httpCors from './http/cors.js';
import httpDebugPages from './http/debug-pages.js';
import httpDocsDisabled from './http/docs-disabled.js';
import httpHeaders from './http/headers.js';
import httpRedirect from './http/redirect.js';
import httpStatus from './http/status.js';
import httpStrictInput from './http/strict-input.js';
import logsNoCredentials from './logs/no-credentials.js';
import repoCommittedSecrets from './repo/committed-secrets.js';
import repoHistory from './repo/history.js';
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
  httpAdminConsole,
  httpDebugPages,
  httpCors,
  httpStrictInput,
  logsNoCredentials,
  // How the auth system behaves, verified against the rows it writes (effectful ones hold their accounts alone while they run).
  authMfaEnforced,
  authTokenValidation,
  authTokenTransport,
  authRefreshRotation,
  authSessionControls,
  authLockout,
  authIpBlock,
  authFailureEvents,
  authNoEnumeration,
  // What the repository holds.
  repoSecretStrength,
  repoCommittedSecrets,
  repoHistory,
  // What ran on it before merge.
  commandRun,
  commandRunbook,
];

export function findCheck(id: string): CheckDefinition | undefined {
  return allChecks.find((check) => check.id === id);
}
