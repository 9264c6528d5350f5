/**
 * Parameter pieces the auth checks share: the service's event-type vocabulary
 * and the loopback source addresses each check binds its client socket to.
 * Each check owns its addresses so that the failures one check provokes never
 * push another check's address over the service's IP-block threshold.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { eventTypesSchema } from '../../src/engine/checklist/schema.js';
import type { CheckContext } from '../../src/engine/types.js';

export const sourceAddress = z.string().refine((value) => isIP(value) !== 0, { message: 'expected an IP address' });

/**
 * A client address, or null to let the operating system choose (for targets
 * that are not on loopback, where 127.0.0.x cannot be bound).
 */
export function sourceAddressParam(defaultAddress: string) {
  return sourceAddress
    .nullable()
    .default(defaultAddress)
    .describe('the client address the check binds its socket to (null: the operating system chooses)');
}

/**
 * The address a check's flow binds, when the checklist names one (null: the
 * operating system chooses); unset, the flow takes one from the run's
 * source-address pool (target.source_addresses).
 */
export const flowSourceAddressParam = sourceAddress
  .nullable()
  .optional()
  .describe(
    "the address the flow comes from (null: the operating system chooses); unset: one from the run's pool (target.source_addresses)",
  );

/**
 * One address for a whole flow (login, then the token's requests): the one
 * the checklist names, else one from the run's pool reserved for the
 * `failures` requests of the flow that the service may count as failures.
 */
export async function flowAddress(
  ctx: CheckContext,
  configured: string | null | undefined,
  failures: number,
): Promise<string | undefined> {
  if (configured !== undefined) return configured ?? undefined;
  return ctx.addresses.reserve(failures);
}

export { REJECTION_PATHS, type RejectionPath } from '../../src/engine/checklist/schema.js';

/**
 * The service's event-type values, for this check only; unset, the checklist's
 * auth.event_types apply (and a path left out keeps its own name).
 */
export function eventTypesParam() {
  return eventTypesSchema
    .optional()
    .describe("the service's event-type values, for this check only; unset: the checklist's auth.event_types");
}

/**
 * Which account the check logs in with: `probe_account`, `no_mfa_account`, or
 * a name under auth.accounts (a probe account of its own).
 */
export function accountParam(defaultName: string) {
  return z
    .string()
    .regex(/^[a-z][a-z0-9_-]*$/, {
      message: 'expected an account name: probe_account, no_mfa_account or a name under auth.accounts',
    })
    .default(defaultName)
    .describe('the account the check logs in with: probe_account, no_mfa_account or a name under auth.accounts');
}

/** How long an expiry proof may wait for a credential to expire (0 = never wait); each check says what it waits for. */
export const expiryWaitMaxParam = z.number().int().min(0).max(3_600).default(0);

/** Statuses that count as "refused" for a forged or replayed credential. */
export const refusedStatusesParam = z
  .array(z.number().int().min(400).max(499))
  .min(1)
  .default([401, 403])
  .describe('statuses that count as "refused" for a forged or replayed credential');
