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
import { deriveSigningKeys } from '../../../../src/service/auth/tokens.js';
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
    try {
      const server = await startFlawedAuthServer({
        databaseUrl: database.url,
        flaws: options.flaws ?? [],
        ...(options.accessTtlSeconds === undefined ? {} : { accessTtlSeconds: options.accessTtlSeconds }),
        accounts: [
          { username: probe.username, password: probe.password, totpSecret: probe.totp_secret },
          { username: noMfa.username, password: noMfa.password },
        ],
      });
      return {
        context: {
          target: { url: server.url, caPem: server.caPem, timeout_ms: FIXTURE_PROBE_TIMEOUT_MS },
          databaseUrl: options.withoutDatabase ? undefined : database.url,
          auth: {
            probe_account: probe,
            no_mfa_account: noMfa,
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
 * test environment, its token signing key.
 */
export function referenceService(): () => Promise<TargetHandle> {
  return async () => {
    const reference = await startReferenceTarget();
    const signingKeyPem = deriveSigningKeys(reference.jwtSecret)
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    return {
      context: {
        ...reference.context,
        auth: {
          ...reference.context.auth,
          cleanup: { unlock_account_sql: REFERENCE_UNLOCK_ACCOUNT_SQL, unblock_ip_sql: REFERENCE_UNBLOCK_IP_SQL },
        },
        env: { ...reference.context.env, [SIGNING_KEY_ENV]: signingKeyPem },
      },
      close: () => reference.close(),
    };
  };
}

/** The reference service's cleanup, as its checklist gives it (the same statements as `secgate service unlock|unblock-ip`). */
export const REFERENCE_UNLOCK_ACCOUNT_SQL =
  'UPDATE users SET failed_login_count = 0, first_failed_at = NULL, locked_until = NULL WHERE username = $1';
export const REFERENCE_UNBLOCK_IP_SQL =
  'UPDATE ip_blocks SET lifted_at = clock_timestamp() WHERE ip_address = $1::inet AND lifted_at IS NULL';

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
