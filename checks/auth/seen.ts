/**
 * The plain data the auth checks' probe steps hand to their pure judges. A
 * judge never sees the run's context, so whatever needs the redactor (a body,
 * an error's text) is scrubbed here, while probing, and arrives as a string.
 */
import type { CheckContext, CheckOutcome, HttpResponse, Json, Observation } from '../../src/engine/types.js';
import { describeResponse } from '../../src/probes/auth-client.js';
import { errorOutcome } from '../outcome.js';

/** A response as a judge sees it: its status, its whole body redacted, and the form the evidence shows. */
export interface ResponseSeen {
  status: number;
  /** Redacted, never cut here: the auth client refuses a cut body before a judge compares two. */
  body: string;
  /** What describeResponse shows (status, the body's start, a retry). */
  shown: Json;
}

export function responseSeen(ctx: CheckContext, response: HttpResponse): ResponseSeen {
  return { status: response.status, body: ctx.secrets.redact(response.body), shown: describeResponse(ctx, response) };
}

/** The summary of an `error` outcome for something not observed, worded and redacted as errorOutcome does. */
export function notObserved(ctx: CheckContext, what: string, cause: unknown): string {
  return errorOutcome(ctx, what, cause).summary;
}

/** The judge's answer when the probe step could not see everything: `error` (fail closed), with what it did see. */
export function unobserved(summary: string, observations: Observation[]): CheckOutcome {
  return { status: 'error', summary, observations };
}

/** A 2xx answer. */
export function is2xx(status: number): boolean {
  return status >= 200 && status < 300;
}
