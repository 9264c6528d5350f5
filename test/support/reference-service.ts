/**
 * A running reference service on a fresh database, as a TargetHandle for
 * check tests (`testCheck(..., { valid: [{ name: 'reference service', target: startReferenceTarget }] })`).
 *
 * Each service gets its own database and owning login role on the run's
 * server (test/support/database.ts), dropped by close(). Benchmarks run
 * outside vitest: without DATABASE_URL there, the service starts its own
 * embedded PostgreSQL. Probe accounts: `secgate-probe` (TOTP) and
 * `secgate-nomfa` (none). The context also carries the cleanup SQL (unlock /
 * unblock) and, in `env.SECGATE_TEST_SIGNING_KEY`, the signing key for checks
 * that mint expired tokens.
 */
import { randomBytes } from 'node:crypto';
import { chmod, cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { FIXTURE_PROBE_TIMEOUT_MS } from '../../fixtures/timeouts.js';
import type { ContextOptions } from '../../src/engine/context.js';
import {
  provisionAccount,
  REFERENCE_CLEANUP,
  type ReferenceServiceOptions,
  type RunningService,
  signingKeyPem,
  startReferenceService,
} from '../../src/service/index.js';
import type { TargetHandle } from '../harness/check-tester.js';
import { createScratchDatabase } from './database.js';
import { sharedReferencePkiDir } from './reference-pki.js';

export const PROBE_USERNAME = 'secgate-probe';
/** The env variable of the context that holds the service's signing key (PEM), for `with: { signing_key_env }`. */
export const SIGNING_KEY_ENV = 'SECGATE_TEST_SIGNING_KEY';
export const NO_MFA_USERNAME = 'secgate-nomfa';

export interface ReferenceTarget extends TargetHandle {
  service: RunningService;
  /** The secret the service signs tokens with (tests forge tokens with it). */
  jwtSecret: string;
  context: ContextOptions & {
    databaseUrl: string;
    auth: {
      probe_account: { username: string; password: string; totp_secret: string };
      no_mfa_account: { username: string; password: string };
      cleanup: typeof REFERENCE_CLEANUP;
    };
    env: Record<string, string | undefined>;
  };
}

function randomSecret(): string {
  return randomBytes(36).toString('base64url');
}

export async function startReferenceTarget(overrides: ReferenceServiceOptions = {}): Promise<ReferenceTarget> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secgate-service-'));
  // The embedded PostgreSQL runs as the `postgres` user, which must traverse this directory.
  await chmod(dataDir, 0o755);
  // The run's PKI, made once: the service takes the path that reuses an existing PKI instead of generating one.
  const sharedPki = sharedReferencePkiDir();
  if (sharedPki) await cp(sharedPki, path.join(dataDir, 'pki'), { recursive: true });
  const scratch = process.env.DATABASE_URL
    ? await createScratchDatabase({ prefix: 'secgate_service', ownRole: true })
    : undefined;
  // A test may set its own (e.g. weak, in development mode); the context must carry the effective one.
  const jwtSecret = overrides.env?.SECGATE_JWT_SECRET ?? randomSecret();
  let service: RunningService | undefined;
  try {
    service = await startReferenceService({
      dataDir,
      httpsPort: 0,
      httpPort: 0,
      logger: () => {},
      ...overrides,
      ...(scratch ? { databaseUrl: scratch.url } : {}),
      env: { ...(overrides.env ?? {}), SECGATE_JWT_SECRET: jwtSecret },
    });
    const probePassword = randomSecret();
    const noMfaPassword = randomSecret();
    const probe = await provisionAccount(service.databaseUrl, {
      username: PROBE_USERNAME,
      password: probePassword,
      mfa: 'totp',
    });
    await provisionAccount(service.databaseUrl, { username: NO_MFA_USERNAME, password: noMfaPassword, mfa: 'none' });
    if (!probe.totpSecret) throw new Error('provisioning the probe account returned no TOTP secret');
    const running = service;
    let closed = false;
    return {
      service: running,
      jwtSecret,
      context: {
        target: {
          url: running.httpsUrl,
          http_url: running.httpUrl,
          caPem: running.caPem,
          timeout_ms: FIXTURE_PROBE_TIMEOUT_MS,
        },
        databaseUrl: running.databaseUrl,
        auth: {
          probe_account: { username: PROBE_USERNAME, password: probePassword, totp_secret: probe.totpSecret },
          no_mfa_account: { username: NO_MFA_USERNAME, password: noMfaPassword },
          cleanup: REFERENCE_CLEANUP,
        },
        env: { [SIGNING_KEY_ENV]: signingKeyPem(jwtSecret) },
      },
      async close() {
        if (closed) return;
        closed = true;
        await closeQueryPool(running);
        await running.stop();
        await scratch?.drop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await service?.stop().catch(() => {});
    await scratch?.drop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
}

/**
 * One small pool per running service for queryService: a test that reads the audit table before and after
 * each of hundreds of requests must not pay a new PostgreSQL connection (a backend fork) every time.
 */
const queryPools = new WeakMap<RunningService, pg.Pool>();

function queryPoolFor(service: RunningService): pg.Pool {
  let pool = queryPools.get(service);
  if (!pool) {
    pool = new pg.Pool({ connectionString: service.databaseUrl, max: 2 });
    // An idle connection the server closes (the service's database dropped at close) is not the test's error.
    pool.on('error', () => {});
    queryPools.set(service, pool);
  }
  return pool;
}

async function closeQueryPool(service: RunningService): Promise<void> {
  const pool = queryPools.get(service);
  queryPools.delete(service);
  await pool?.end();
}

/** Rows from the service's own database (read what it wrote, or set up a state the test needs). */
export async function queryService<Row extends Record<string, unknown>>(
  target: ReferenceTarget,
  sql: string,
  params: unknown[] = [],
): Promise<Row[]> {
  return (await queryPoolFor(target.service).query<Row>(sql, params)).rows;
}
