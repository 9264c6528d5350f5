/**
 * The shipped checklist.yaml, loaded as `npm run demo` hands it a reference
 * service, and its live entries (TLS, HTTP, auth, logs) run through the
 * engine. Used by the tests that take the documented gate end to end.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { allChecks } from '../../checks/index.js';
import { FIXTURE_PROBE_TIMEOUT_MS } from '../../fixtures/timeouts.js';
import { type LoadedChecklist, loadChecklist } from '../../src/engine/checklist/load.js';
import type { ContextOptions } from '../../src/engine/context.js';
import type { CheckResult } from '../../src/engine/run.js';
import { provisionProbeAccounts } from '../../src/service/index.js';
import { runEntries } from './engine-run.js';
import { type ReferenceTarget, SIGNING_KEY_ENV, startReferenceTarget } from './reference-service.js';

const LIVE_SURFACES = /^(tls|http|auth|logs)\./;

export interface ProbeCredentials {
  probePassword: string;
  probeTotpSecret: string;
  noMfaPassword: string;
  /** The service's signing key (PEM), for the expiry probes. */
  signingKeyPem: string;
}

/** The variables checklist.yaml reads, as the demo sets them; credentials default to the target's own probe accounts. */
export function shippedChecklistEnv(
  reference: ReferenceTarget,
  serviceLogFile: string,
  credentials: Partial<ProbeCredentials> = {},
): Record<string, string> {
  const { auth } = reference.context;
  const { caFile, httpUrl } = reference.service;
  if (!caFile || !httpUrl)
    throw new Error("the shipped checklist needs the service's CA file and its plain-HTTP listener");
  return {
    SECGATE_TARGET_URL: reference.service.httpsUrl,
    SECGATE_TARGET_HTTP_URL: httpUrl,
    SECGATE_CA_FILE: caFile,
    DATABASE_URL: reference.service.databaseUrl,
    SECGATE_PROBE_PASSWORD: credentials.probePassword ?? auth.probe_account.password,
    SECGATE_PROBE_TOTP_SECRET: credentials.probeTotpSecret ?? auth.probe_account.totp_secret,
    SECGATE_NOMFA_PASSWORD: credentials.noMfaPassword ?? auth.no_mfa_account.password,
    SECGATE_SERVICE_LOG: serviceLogFile,
    SECGATE_TEST_SIGNING_KEY: credentials.signingKeyPem ?? String(reference.context.env[SIGNING_KEY_ENV]),
  };
}

export interface ShippedLiveGate {
  loaded: LoadedChecklist;
  context: ContextOptions;
  liveIds: string[];
  run(): Promise<CheckResult[]>;
}

/** Loads checklist.yaml with `env`; `adjust` may change the loaded auth mapping before the run. */
export async function shippedLiveGate(
  env: Record<string, string>,
  adjust: (auth: NonNullable<LoadedChecklist['checklist']['auth']>) => void = () => {},
): Promise<ShippedLiveGate> {
  const loaded = await loadChecklist('checklist.yaml', { env, registry: allChecks });
  const live = loaded.entries.filter((entry) => LIVE_SURFACES.test(entry.check.id));
  if (loaded.checklist.auth) adjust(loaded.checklist.auth);
  const context: ContextOptions = {
    // The shipped 5 s probe timeout is for an operator's idle run; on a loaded test machine a slow answer must make
    // the test slower, never turn a pass into an `error` (fixtures/timeouts.ts).
    target: { ...loaded.checklist.target, timeout_ms: FIXTURE_PROBE_TIMEOUT_MS },
    baseDir: path.resolve('.'),
    databaseUrl: loaded.checklist.database?.url,
    auth: loaded.checklist.auth,
    env,
  };
  return { loaded, context, liveIds: live.map((entry) => entry.id), run: () => runEntries(context, live) };
}

/** "id: status — summary" per result, so a failing assertion shows why. */
export const verdicts = (results: CheckResult[]) =>
  results.map(
    (result) => `${result.entry.id}: ${result.status}${result.status === 'pass' ? '' : ` — ${result.outcome.summary}`}`,
  );

/**
 * A reference service whose log goes to a file (what logs.no-credentials reads), with every probe account
 * the shipped checklist names, for the length of `use`.
 */
export async function withLoggedReference(
  use: (reference: ReferenceTarget, serviceLogFile: string) => Promise<void>,
): Promise<void> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'secgate-shipped-'));
  const logFile = path.join(workDir, 'service.log');
  writeFileSync(logFile, '');
  try {
    const reference = await startReferenceTarget({ logger: (line) => appendFileSync(logFile, line) });
    try {
      // The checklist's dedicated probe accounts, with the probe account's credentials (as npm run demo makes them).
      const { auth } = reference.context;
      await provisionProbeAccounts(reference.service.databaseUrl, {
        password: auth.probe_account.password,
        noMfaPassword: auth.no_mfa_account.password,
        totpSecret: auth.probe_account.totp_secret,
      });
      await use(reference, logFile);
    } finally {
      await reference.close();
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
