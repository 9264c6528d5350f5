/**
 * The run's last step: forget the failures the gate's own probes provoked.
 *
 * The effectful checks undo their effect (unlock the account, lift the block),
 * but the failure rows stay — and a service that counts failures over a
 * rolling window (15 minutes, say) still counts them: a second run within the
 * window starts with the probe addresses and accounts near their thresholds,
 * and fails controls that hold. With `auth.cleanup.forget_address_failures_sql`
 * and/or `forget_account_failures_sql` in the checklist, the engine runs them
 * after every check, for each address the run used (`$1` = the address) and
 * each probe account (`$1` = the username), as the entry `secgate.cleanup`.
 * The evidence keeps the record of what the probes provoked and what was forgotten.
 */
import { z } from 'zod';
import type { PlannedEntry } from './checklist/load.js';
import { errorMessage } from './errors.js';
import { type CheckDefinition, defineCheck, type Observation } from './types.js';

export const CLEANUP_CHECK_ID = 'secgate.cleanup';

const cleanupParams = z
  .object({
    /** The addresses the run's checks bound by themselves (the pool's come from ctx.addresses). */
    addresses: z.array(z.string()),
  })
  .strict();

export const forgetProbeFailures: CheckDefinition = defineCheck({
  id: CLEANUP_CHECK_ID,
  title: "The failure rows the gate's probes provoked are forgotten, so the next run starts clean",
  source: 'secgate (two runs in a row must both pass)',
  remediation:
    'Fix the statements in auth.cleanup (forget_address_failures_sql with $1 = an address, forget_account_failures_sql with $1 = a username), or give the database role the right to run them.',
  effects: 'none',
  params: cleanupParams,
  async run(ctx, params) {
    const cleanup = ctx.auth?.cleanup;
    if (!ctx.db) {
      return {
        status: 'error',
        summary: 'could not forget the probes’ failures: the checklist names no database',
        observations: [{ probe: 'auth.cleanup', ok: false, note: 'no database' }],
      };
    }
    const db = ctx.db;
    const addresses = [...new Set([...params.addresses, ...ctx.addresses.usage().map((entry) => entry.address)])];
    const accounts = [
      ...new Set(
        [
          ctx.auth?.probe_account?.username,
          ctx.auth?.no_mfa_account?.username,
          ...Object.values(ctx.auth?.accounts ?? {}).map((account) => account.username),
        ].filter((username): username is string => username !== undefined),
      ),
    ];
    const statements = [
      ...(cleanup?.forget_address_failures_sql
        ? addresses.map((value) => ({
            what: 'forget_address_failures_sql',
            sql: cleanup.forget_address_failures_sql,
            value,
          }))
        : []),
      ...(cleanup?.forget_account_failures_sql
        ? accounts.map((value) => ({
            what: 'forget_account_failures_sql',
            sql: cleanup.forget_account_failures_sql,
            value,
          }))
        : []),
    ];
    const observations: Observation[] = [];
    for (const statement of statements) {
      const probe = `cleanup ${statement.what} for ${statement.value}`;
      try {
        await db.query(statement.sql ?? '', [statement.value]);
        observations.push({ probe, actual: 'ran', ok: true });
      } catch (error) {
        observations.push({ probe, actual: `failed: ${ctx.secrets.redact(errorMessage(error))}`, ok: false });
      }
    }
    const failed = observations.filter((observation) => observation.ok === false);
    if (failed.length > 0) {
      return {
        status: 'error',
        summary: `could not forget the probes’ failures: ${failed.length} of ${observations.length} statements failed (the next run may start near the service's thresholds)`,
        observations,
      };
    }
    return {
      status: 'pass',
      summary: `forgot the failures of ${addresses.length} probe addresses and ${accounts.length} probe accounts`,
      observations:
        observations.length > 0 ? observations : [{ probe: 'auth.cleanup', actual: 'nothing to forget', ok: true }],
    };
  },
});

/** The cleanup entry, run after every check, for the addresses of the checks that probed. */
export function cleanupEntry(ranEntries: readonly PlannedEntry[]): PlannedEntry {
  const addresses = ranEntries.flatMap((entry) =>
    (entry.check.probeAddresses?.(entry.params) ?? []).filter(
      (address): address is string => typeof address === 'string',
    ),
  );
  return { id: CLEANUP_CHECK_ID, check: forgetProbeFailures, params: { addresses }, timeoutMs: 60_000 };
}
