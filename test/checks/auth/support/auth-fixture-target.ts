/**
 * Starts the flawed auth fixture on a fresh PostgreSQL database (its own
 * `secgate_auth_<random>` database on the run's server, dropped on close) and
 * hands it to the check tester as a target.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Secret } from 'otpauth';
import { FIXTURE_UNBLOCK_IP_SQL, FIXTURE_UNLOCK_ACCOUNT_SQL } from '../../../../fixtures/auth/schema.js';
import { type AuthFlaw, startFlawedAuthServer } from '../../../../fixtures/auth/server.js';
import { FIXTURE_PROBE_TIMEOUT_MS } from '../../../../fixtures/timeouts.js';
import type { TargetHandle } from '../../../harness/check-tester.js';
import { createScratchDatabase } from '../../../support/database.js';
import { startReferenceTarget } from '../../../support/reference-service.js';

/** The environment variable through which tests hand the fixture's signing key to auth.token-validation. */
export const SIGNING_KEY_ENV = 'SECGATE_TEST_SIGNING_KEY';

export interface AuthFixtureOptions {
  flaws?: readonly AuthFlaw[];
  /** Leave out the checklist's cleanup SQL, to prove the check records that nothing was undone. */
  withoutCleanup?: boolean;
  /** Leave out the database, to prove the check fails closed. */
  withoutDatabase?: boolean;
  /** Lifetime of the access tokens the fixture issues (default 900 s). */
  accessTtlSeconds?: number;
  /** More accounts with TOTP, given to the checklist under auth.accounts by these names. */
  extraAccounts?: readonly string[];
  /** Audit rows for missing_token / mfa_not_enrolled under these kinds (see FlawedAuthServerOptions). */
  auditedKinds?: { missing_token?: string; mfa_not_enrolled?: string };
  /** The checklist's auth.event_types: the service's vocabulary, as a checklist would give it. */
  eventTypes?: Record<string, string | string[]>;
}

/** A target factory for the check tester's tables. */
export function authFixture(options: AuthFixtureOptions = {}): () => Promise<TargetHandle> {
  return async () => {
    const database = await createScratchDatabase({ prefix: 'secgate_auth' });
    const probe = {
      username: 'secgate-probe',
      password: `probe-${randomBytes(12).toString('hex')}`,
      totp_secret: new Secret({ size: 20 }).base32,
    };
    const noMfa = { username: 'secgate-probe-nomfa', password: `nomfa-${randomBytes(12).toString('hex')}` };
    const extra = Object.fromEntries(
      (options.extraAccounts ?? []).map((name) => [
        name,
        {
          username: `secgate-${name}`,
          password: `${name}-${randomBytes(12).toString('hex')}`,
          totp_secret: new Secret({ size: 20 }).base32,
        },
      ]),
    );
    try {
      const server = await startFlawedAuthServer({
        databaseUrl: database.url,
        flaws: options.flaws ?? [],
        ...(options.accessTtlSeconds === undefined ? {} : { accessTtlSeconds: options.accessTtlSeconds }),
        ...(options.auditedKinds ? { auditedKinds: options.auditedKinds } : {}),
        accounts: [
          { username: probe.username, password: probe.password, totpSecret: probe.totp_secret },
          { username: noMfa.username, password: noMfa.password },
          ...Object.values(extra).map((account) => ({
            username: account.username,
            password: account.password,
            totpSecret: account.totp_secret,
          })),
        ],
      });
      return {
        context: {
          target: { url: server.url, caPem: server.caPem, timeout_ms: FIXTURE_PROBE_TIMEOUT_MS },
          databaseUrl: options.withoutDatabase ? undefined : database.url,
          auth: {
            probe_account: probe,
            no_mfa_account: noMfa,
            accounts: extra,
            ...(options.eventTypes ? { event_types: options.eventTypes } : {}),
            ...(options.withoutCleanup
              ? {}
              : {
                  cleanup: { unlock_account_sql: FIXTURE_UNLOCK_ACCOUNT_SQL, unblock_ip_sql: FIXTURE_UNBLOCK_IP_SQL },
                }),
          },
          env: { [SIGNING_KEY_ENV]: server.signingKeyPem },
        },
        async close() {
          try {
            await server.close();
          } finally {
            await database.drop();
          }
        },
      };
    } catch (error) {
      await database.drop();
      throw error;
    }
  };
}

/**
 * The reference service as a valid target, with what its checklist entry
 * gives the auth checks: the cleanup statements for its tables and, as in a
 * test environment, its token signing key (under SIGNING_KEY_ENV).
 */
export function referenceService(): () => Promise<TargetHandle> {
  return () => startReferenceTarget();
}

/** A target whose port refuses connections (a port that was just free), to prove the checks fail closed. */
export function unreachableTarget(): () => Promise<TargetHandle> {
  return async () => {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    return {
      context: {
        target: { url: `https://127.0.0.1:${port}`, timeout_ms: 2_000 },
        auth: {
          probe_account: { username: 'secgate-probe', password: 'unused-password', totp_secret: new Secret().base32 },
          no_mfa_account: { username: 'secgate-probe-nomfa', password: 'unused-password' },
        },
      },
      async close() {},
    };
  };
}
