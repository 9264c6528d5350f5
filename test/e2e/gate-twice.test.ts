/**
 * Two gate runs in a row must both pass. The effectful checks unlock and
 * unblock what they provoked, but a service that counts failures over a
 * rolling window still counts the probes' failure rows: without the forget
 * statements (auth.cleanup.forget_*), the second run within the window starts
 * with its probe addresses at the threshold and fails controls that hold.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allChecks } from '../../checks/index.js';
import {
  FIXTURE_FORGET_ACCOUNT_FAILURES_SQL,
  FIXTURE_FORGET_ADDRESS_FAILURES_SQL,
  FIXTURE_UNBLOCK_IP_SQL,
  FIXTURE_UNLOCK_ACCOUNT_SQL,
} from '../../fixtures/auth/schema.js';
import { loadChecklist } from '../../src/engine/checklist/load.js';
import type { ContextOptions } from '../../src/engine/context.js';
import type { CheckResult } from '../../src/engine/run.js';
import { authFixture, SIGNING_KEY_ENV } from '../checks/auth/support/auth-fixture-target.js';
import { plannedEntry, runEntries } from '../support/engine-run.js';
import { SIGNING_KEY_ENV as REFERENCE_SIGNING_KEY_ENV, startReferenceTarget } from '../support/reference-service.js';

const LIVE_SURFACES = /^(tls|http|auth|logs)\./;

const verdicts = (results: CheckResult[]) =>
  results.map(
    (result) => `${result.entry.id}: ${result.status}${result.status === 'pass' ? '' : ` — ${result.outcome.summary}`}`,
  );

describe('two gate runs in a row', () => {
  it('both pass: the shipped checklist, twice against one reference service and its database', async () => {
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'secgate-twice-'));
    const logFile = path.join(workDir, 'service.log');
    writeFileSync(logFile, '');
    const reference = await startReferenceTarget({ logger: (line) => appendFileSync(logFile, line) });
    try {
      const { auth } = reference.context;
      // What `npm run demo` hands the gate.
      const env = {
        SECGATE_TARGET_URL: reference.service.httpsUrl,
        SECGATE_TARGET_HTTP_URL: reference.service.httpUrl,
        SECGATE_CA_FILE: reference.service.caFile,
        DATABASE_URL: reference.service.databaseUrl,
        SECGATE_PROBE_PASSWORD: auth.probe_account.password,
        SECGATE_PROBE_TOTP_SECRET: auth.probe_account.totp_secret,
        SECGATE_NOMFA_PASSWORD: auth.no_mfa_account.password,
        SECGATE_SERVICE_LOG: logFile,
        SECGATE_TEST_SIGNING_KEY: reference.context.env[REFERENCE_SIGNING_KEY_ENV],
      };
      const loaded = await loadChecklist('checklist.yaml', { env, registry: allChecks });
      const live = loaded.entries.filter((entry) => LIVE_SURFACES.test(entry.check.id));
      const context: ContextOptions = {
        target: loaded.checklist.target,
        baseDir: path.resolve('.'),
        databaseUrl: loaded.checklist.database?.url,
        auth: loaded.checklist.auth,
        env,
      };
      for (const run of ['first', 'second']) {
        const results = await runEntries(context, live);
        expect(verdicts(results), `${run} run`).toEqual([
          ...live.map((entry) => `${entry.id}: pass`),
          'secgate.cleanup: pass',
        ]);
      }
    } finally {
      await reference.close();
      await rm(workDir, { recursive: true, force: true });
    }
  });

  describe('against a service that counts failures over a rolling window', () => {
    const authChecks = [
      'auth.mfa-enforced',
      'auth.token-validation',
      'auth.token-transport',
      'auth.refresh-rotation',
      'auth.lockout',
      'auth.ip-block',
      'auth.failure-events',
      'auth.no-enumeration',
    ].map((id) =>
      plannedEntry(
        id,
        id === 'auth.token-validation' || id === 'auth.failure-events' ? { signing_key_env: SIGNING_KEY_ENV } : {},
      ),
    );

    const twice = async (forget: boolean) => {
      const fixture = await authFixture({ withoutCleanup: true })();
      try {
        const base = fixture.context.auth as Record<string, unknown>;
        const context: ContextOptions = {
          ...fixture.context,
          auth: {
            ...base,
            cleanup: {
              unlock_account_sql: FIXTURE_UNLOCK_ACCOUNT_SQL,
              unblock_ip_sql: FIXTURE_UNBLOCK_IP_SQL,
              ...(forget
                ? {
                    forget_address_failures_sql: FIXTURE_FORGET_ADDRESS_FAILURES_SQL,
                    forget_account_failures_sql: FIXTURE_FORGET_ACCOUNT_FAILURES_SQL,
                  }
                : {}),
            },
          },
        };
        return [await runEntries(context, authChecks), await runEntries(context, authChecks)];
      } finally {
        await fixture.close();
      }
    };

    it('with the forget statements, the second run passes as the first did', async () => {
      const [first, second] = await twice(true);
      const allPass = [...authChecks.map((entry) => `${entry.id}: pass`), 'secgate.cleanup: pass'];
      expect(verdicts(first ?? []), 'first run').toEqual(allPass);
      expect(verdicts(second ?? []), 'second run').toEqual(allPass);
    });

    it('without them, the second run cannot pass: the window still counts the first run’s probes', async () => {
      const [first, second] = await twice(false);
      expect(verdicts(first ?? []), 'first run').toEqual(authChecks.map((entry) => `${entry.id}: pass`));
      expect(
        (second ?? []).some((result) => result.status !== 'pass'),
        verdicts(second ?? []).join('\n'),
      ).toBe(true);
    });
  });
});
