/**
 * Outcome helpers shared by the auth checks: fail-closed errors that name what
 * could not be observed, and verdicts derived from the observations alone.
 */
import type { CheckContext, CheckOutcome, Json, Observation } from '../../src/engine/types.js';
import { authFailureCause } from '../../src/probes/auth-client.js';

/** `error` with the cause, scrubbed of every secret the run knows. */
export function errorOutcome(
  ctx: CheckContext,
  what: string,
  cause: unknown,
  observations: Observation[] = [],
): CheckOutcome {
  const detail = cause === undefined ? '' : `: ${authFailureCause(cause)}`;
  return { status: 'error', summary: ctx.secrets.redact(`could not observe ${what}${detail}`), observations };
}

/** `fail` when any observation breaks the control, else `pass`. */
export function verdict(observations: Observation[], passSummary: string, failSummary: string): CheckOutcome {
  const broken = observations.some((observation) => observation.ok === false);
  return { status: broken ? 'fail' : 'pass', summary: broken ? failSummary : passSummary, observations };
}

/** The `note` of every broken observation, joined: the failing summary says exactly what broke. */
export function brokenNotes(observations: Observation[]): string {
  return observations
    .filter((observation) => observation.ok === false)
    .map((observation) => observation.note ?? observation.probe)
    .join('; ');
}

/** A response is "refused" when its status is in the configured list. */
export function isRefused(status: number, refusedStatuses: readonly number[]): boolean {
  return refusedStatuses.includes(status);
}

/** A secret as evidence: its fingerprint, as a plain JSON object. */
export function fingerprintJson(ctx: CheckContext, value: string): Json {
  const { length, sha256 } = ctx.secrets.fingerprint(value);
  return { length, sha256 };
}
