/**
 * Parameter pieces the auth checks share: the service's event-type vocabulary
 * and the loopback source addresses each check binds its client socket to.
 * Each check owns its addresses so that the failures one check provokes never
 * push another check's address over the service's IP-block threshold.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import type { CheckContext } from '../../src/engine/types.js';

export const sourceAddress = z.string().refine((value) => isIP(value) !== 0, { message: 'expected an IP address' });

/**
 * A client address, or null to let the operating system choose (for targets
 * that are not on loopback, where 127.0.0.x cannot be bound).
 */
export function sourceAddressParam(defaultAddress: string) {
  return sourceAddress.nullable().default(defaultAddress);
}

/**
 * The address a check's flow binds, when the checklist names one (null: the
 * operating system chooses); unset, the flow takes one from the run's
 * source-address pool (target.source_addresses).
 */
export const flowSourceAddressParam = sourceAddress.nullable().optional();

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

/** The values the service writes in its event-type column, per rejection path. */
export const eventTypesSchema = z
  .object({
    bad_password: z.string().min(1).default('bad_password'),
    unknown_user: z.string().min(1).default('unknown_user'),
    bad_totp: z.string().min(1).default('bad_totp'),
    expired_token: z.string().min(1).default('expired_token'),
    invalid_token: z.string().min(1).default('invalid_token'),
    locked_account: z.string().min(1).default('locked_account'),
    blocked_ip: z.string().min(1).default('blocked_ip'),
  })
  .strict();
export type EventTypes = z.output<typeof eventTypesSchema>;
export type RejectionPath = keyof EventTypes;
export const REJECTION_PATHS: readonly RejectionPath[] = [
  'unknown_user',
  'bad_password',
  'bad_totp',
  'expired_token',
  'invalid_token',
  'locked_account',
  'blocked_ip',
];

export const DEFAULT_EVENT_TYPES: EventTypes = {
  bad_password: 'bad_password',
  unknown_user: 'unknown_user',
  bad_totp: 'bad_totp',
  expired_token: 'expired_token',
  invalid_token: 'invalid_token',
  locked_account: 'locked_account',
  blocked_ip: 'blocked_ip',
};

export function eventTypesParam() {
  return eventTypesSchema.default(DEFAULT_EVENT_TYPES);
}

/** Statuses that count as "refused" for a forged or replayed credential. */
export const refusedStatusesParam = z.array(z.number().int().min(400).max(499)).min(1).default([401, 403]);
