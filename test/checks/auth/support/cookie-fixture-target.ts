/**
 * Starts the cookie-session fixture (fixtures/auth/cookie-server.ts) on a
 * database of its own and hands it to the check tester with the checklist
 * mapping a Django-style service needs: cookies for the challenge and the
 * credential, CSRF echo, logout, per-table column names, its own event kinds.
 */
import { randomBytes } from 'node:crypto';
import { Secret } from 'otpauth';
import {
  COOKIE_AUTH_MAPPING,
  type CookieFlaw,
  startCookieAuthServer,
} from '../../../../fixtures/auth/cookie-server.js';
import { FIXTURE_PROBE_TIMEOUT_MS } from '../../../../fixtures/timeouts.js';
import type { TargetHandle } from '../../../harness/check-tester.js';
import { createScratchDatabase } from '../../../support/database.js';

export interface CookieFixtureOptions {
  flaws?: readonly CookieFlaw[];
  sessionTtlSeconds?: number;
  /** Changes to the checklist's auth mapping (a mapping mistake, a section left out). */
  mapping?: (mapping: Record<string, unknown>) => Record<string, unknown>;
}

export function cookieFixture(options: CookieFixtureOptions = {}): () => Promise<TargetHandle> {
  return async () => {
    const database = await createScratchDatabase({ prefix: 'secgate_cookie' });
    const probe = {
      username: 'secgate-probe',
      password: `probe-${randomBytes(12).toString('hex')}`,
      totp_secret: new Secret({ size: 20 }).base32,
    };
    const noMfa = { username: 'secgate-probe-nomfa', password: `nomfa-${randomBytes(12).toString('hex')}` };
    try {
      const server = await startCookieAuthServer({
        databaseUrl: database.url,
        flaws: options.flaws ?? [],
        ...(options.sessionTtlSeconds === undefined ? {} : { sessionTtlSeconds: options.sessionTtlSeconds }),
        accounts: [
          { username: probe.username, password: probe.password, totpSecret: probe.totp_secret },
          { username: noMfa.username, password: noMfa.password },
        ],
      });
      const mapping: Record<string, unknown> = { ...COOKIE_AUTH_MAPPING, probe_account: probe, no_mfa_account: noMfa };
      return {
        context: {
          target: { url: server.url, caPem: server.caPem, timeout_ms: FIXTURE_PROBE_TIMEOUT_MS },
          databaseUrl: database.url,
          auth: options.mapping ? options.mapping(mapping) : mapping,
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
