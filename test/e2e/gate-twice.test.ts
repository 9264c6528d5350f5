/**
 * Two gate runs in a row must both pass. The effectful checks unlock and
 * unblock what they provoked, but a service that counts failures over a
 * rolling window still counts the probes' failure rows: without the forget
 * statements (auth.cleanup.forget_*), the second run within the window starts
 * with its probe addresses at the threshold and fails controls that hold.
 */
import { describe, expect, it } from 'vitest';
import {
  FIXTURE_FORGET_ACCOUNT_FAILURES_SQL,
  FIXTURE_FORGET_ADDRESS_FAILURES_SQL,
  FIXTURE_UNBLOCK_IP_SQL,
  FIXTURE_UNLOCK_ACCOUNT_SQL,
} from '../../fixtures/auth/schema.js';
import type { ContextOptions } from '../../src/engine/context.js';
import { authFixture, SIGNING_KEY_ENV } from '../checks/auth/support/auth-fixture-target.js';
import { plannedEntry, runEntries } from '../support/engine-run.js';
import { shippedChecklistEnv, shippedLiveGate, verdicts, withLoggedReference } from '../support/shipped-checklist.js';

describe('two gate runs in a row', () => {
  it('both pass: the shipped checklist, twice against one reference service and its database', async () => {
    await withLoggedReference(async (reference, logFile) => {
      // What `npm run demo` hands the gate.
      const gate = await shippedLiveGate(shippedChecklistEnv(reference, logFile));
      for (const run of ['first', 'second']) {
        expect(verdicts(await gate.run()), `${run} run`).toEqual([
          ...gate.liveIds.map((id) => `${id}: pass`),
          'secgate.cleanup: pass',
        ]);
      }
    });
  });

  // Each case has a fixture, a database and addresses of its own: they may run side by side.
  describe.concurrent('against a service that counts failures over a rolling window', () => {
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
