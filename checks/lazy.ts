/**
 * The built-in checks by id, each loaded only when asked for: `secgate verify` imports the modules (and,
 * through them, the HTTP, TLS, database and git clients) of the checks its checklist names, not all of them.
 * checks/index.ts is the full registry (list, explain, tests); test/checks/lazy-registry.test.ts keeps the
 * two in step.
 */
import type { CheckDefinition } from '../src/engine/types.js';

const BUILT_IN_LOADERS: Readonly<Record<string, () => Promise<{ default: CheckDefinition }>>> = {
  'auth.failure-events': () => import('./auth/failure-events.js'),
  'auth.ip-block': () => import('./auth/ip-block.js'),
  'auth.lockout': () => import('./auth/lockout.js'),
  'auth.mfa-enforced': () => import('./auth/mfa-enforced.js'),
  'auth.no-enumeration': () => import('./auth/no-enumeration.js'),
  'auth.refresh-rotation': () => import('./auth/refresh-rotation.js'),
  'auth.session-controls': () => import('./auth/session-controls.js'),
  'auth.token-transport': () => import('./auth/token-transport.js'),
  'auth.token-validation': () => import('./auth/token-validation.js'),
  'command.run': () => import('./command/run.js'),
  'command.runbook': () => import('./command/runbook.js'),
  'http.admin-console': () => import('./http/admin-console.js'),
  'http.auth-required': () => import('./http/auth-required.js'),
  'http.cors': () => import('./http/cors.js'),
  'http.debug-pages': () => import('./http/debug-pages.js'),
  'http.docs-disabled': () => import('./http/docs-disabled.js'),
  'http.headers': () => import('./http/headers.js'),
  'http.redirect': () => import('./http/redirect.js'),
  'http.status': () => import('./http/status.js'),
  'http.strict-input': () => import('./http/strict-input.js'),
  'logs.no-credentials': () => import('./logs/no-credentials.js'),
  'repo.committed-secrets': () => import('./repo/committed-secrets.js'),
  'repo.history': () => import('./repo/history.js'),
  'repo.secret-strength': () => import('./repo/secret-strength.js'),
  'tls.certificate': () => import('./tls/certificate.js'),
  'tls.protocols': () => import('./tls/protocols.js'),
};

export const BUILT_IN_CHECK_IDS: readonly string[] = Object.keys(BUILT_IN_LOADERS);

/** The built-in checks with these ids, each module imported once; undefined when an id is not a built-in. */
export async function loadBuiltInChecks(ids: Iterable<string>): Promise<CheckDefinition[] | undefined> {
  const unique = [...new Set(ids)];
  const loaders = unique.map((id) => (Object.hasOwn(BUILT_IN_LOADERS, id) ? BUILT_IN_LOADERS[id] : undefined));
  if (loaders.some((loader) => loader === undefined)) return undefined;
  return Promise.all(
    loaders.map(async (loader) => (await (loader as () => Promise<{ default: CheckDefinition }>)()).default),
  );
}
