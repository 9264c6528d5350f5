/**
 * The plain data the auth checks' probe steps hand to their pure judges. A
 * judge never sees the run's context, so whatever needs the redactor (a body,
 * an error's text) is scrubbed here, while probing, and arrives as a string.
 */
import type { CheckContext, CheckOutcome, HttpResponse, Json, Observation } from '../../src/engine/types.js';
import { describeResponse } from '../../src/probes/auth-client.js';
import { errorOutcome } from '../outcome.js';
import { type AnswerParts, comparableHeaders } from './answer-shape.js';

/** A response as a judge sees it: its status, its whole body redacted, and the form the evidence shows. */
export interface ResponseSeen {
  status: number;
  /** Redacted, never cut here: the auth client refuses a cut body before a judge compares two. */
  body: string;
  /** What describeResponse shows (status, the body's start, a retry). */
  shown: Json;
  /** The headers as answer-shape compares them (redacted; cookie values dropped); absent in hand-made samples. */
  headers?: Record<string, string>;
}

export function responseSeen(ctx: CheckContext, response: HttpResponse): ResponseSeen {
  return {
    status: response.status,
    body: ctx.secrets.redact(response.body),
    shown: describeResponse(ctx, response),
    headers: comparableHeaders(response.headers, (value) => ctx.secrets.redact(value)),
  };
}

/** A response as answer-shape compares it. */
export function partsOf(seen: ResponseSeen): AnswerParts {
  return { status: seen.status, headers: seen.headers ?? {}, body: seen.body };
}

/** The summary of an `error` outcome for something not observed, worded and redacted as errorOutcome does. */
export function notObserved(ctx: CheckContext, what: string, cause: unknown): string {
  return errorOutcome(ctx, what, cause).summary;
}

/** The judge's answer when the probe step could not see everything: `error` (fail closed), with what it did see. */
export function unobserved(summary: string, observations: Observation[]): CheckOutcome {
  return { status: 'error', summary, observations };
}

export { is2xx } from '../outcome.js';

/** A secret as a judge sees it: its fingerprint only. Equal fingerprints stand for equal values. */
export type Fingerprint = { length: number; sha256: string };

export function fingerprintOf(ctx: CheckContext, value: string): Fingerprint {
  const { length, sha256 } = ctx.secrets.fingerprint(value);
  return { length, sha256 };
}

export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.length === b.length && a.sha256 === b.sha256;
}

/** An auth answer as a judge sees it: the response, and whether it handed out an access token. */
export interface AnswerSeen {
  response: ResponseSeen;
  accessToken: boolean;
}
