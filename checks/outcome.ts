/**
 * How a check turns what it observed into its outcome, shared by every check,
 * always in the same order: a broken control fails (naming each break), else
 * anything that could not be observed makes the check an error (fail closed:
 * silence is not a pass, and the summary says what was not seen), else it passes.
 */
import type { CheckContext, CheckOutcome, HttpResponse, Json, Observation } from '../src/engine/types.js';
import { authFailureCause, describeResponse } from '../src/probes/auth-client.js';

/** `error` with the cause, scrubbed of every secret the run knows. */
export function errorOutcome(
  ctx: CheckContext,
  what: string,
  cause: unknown,
  observations: Observation[] = [],
): CheckOutcome {
  return unobservedOutcome(unobservedWhat(ctx, what, cause), observations);
}

/**
 * What a probe could not observe and why, scrubbed of every secret the run knows: the part of
 * errorOutcome that needs the context, so that a probe can hand it to its pure judge as data.
 */
export function unobservedWhat(ctx: CheckContext, what: string, cause: unknown): string {
  const detail = cause === undefined ? '' : `: ${authFailureCause(cause)}`;
  return ctx.secrets.redact(`${what}${detail}`);
}

/** `error` for what a probe could not observe (already scrubbed), with what it did observe: the pure half. */
export function unobservedOutcome(unobserved: string, observations: Observation[] = []): CheckOutcome {
  return { status: 'error', summary: `could not observe ${unobserved}`, observations };
}

/** `fail` when any observation breaks the control, else `pass`. */
export function verdict(observations: Observation[], passSummary: string, failSummary: string): CheckOutcome {
  const broken = observations.some((observation) => observation.ok === false);
  return { status: broken ? 'fail' : 'pass', summary: broken ? failSummary : passSummary, observations };
}

/** What a check that probes many things found, in sentences. */
export interface Findings {
  /** One sentence per broken control. */
  failures: readonly string[];
  /** One sentence per probe that got no answer to judge (refused, timed out, reset). */
  unobserved: readonly string[];
}

/** `fail` naming every break, else `error` naming everything not observed, else `pass`. */
export function findingsVerdict(
  findings: Findings,
  observations: Observation[],
  summaries: { pass: string; failPrefix?: string; unobservedPrefix?: string },
): CheckOutcome {
  if (findings.failures.length > 0) {
    return { status: 'fail', summary: `${summaries.failPrefix ?? ''}${findings.failures.join('; ')}`, observations };
  }
  if (findings.unobserved.length > 0) {
    const prefix = summaries.unobservedPrefix ?? 'could not observe: ';
    return { status: 'error', summary: `${prefix}${findings.unobserved.join('; ')}`, observations };
  }
  return { status: 'pass', summary: summaries.pass, observations };
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

/** An answer as a probe hands it to a judge: the status to judge, and the evidence to show (secrets scrubbed). */
export interface SeenAnswer {
  status: number;
  /** describeResponse's view: the status and the start of the body, every secret the run knows scrubbed. */
  shown: Json;
}

export function seenAnswer(ctx: CheckContext, response: HttpResponse): SeenAnswer {
  return { status: response.status, shown: describeResponse(ctx, response) };
}

/** A 2xx answer: the baseline a control's refusals are measured against. */
export function is2xx(status: number): boolean {
  return status >= 200 && status <= 299;
}
