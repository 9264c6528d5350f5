/**
 * http.strict-input: the API validates request bodies strictly (seed 000
 * item 3, `extra="forbid"`). On one JSON endpoint (the login by default):
 * a body with an unknown field is rejected with 400/422 rather than being
 * processed; a `__proto__` key is rejected too; malformed JSON is a 4xx; an
 * oversized body is 413; a wrong content type is refused; nothing is a 5xx.
 *
 * Robustness: a 400 for the unknown-field body only proves strictness if the
 * same body *without* that field is not rejected as invalid, so a baseline
 * request is sent first. Against the login that baseline is one failed login
 * for a user that does not exist — the only side effect of this check.
 * Probing records each answer; judgeStrictInput is pure.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  type CheckContext,
  type CheckOutcome,
  defineCheck,
  type Json,
  type Observation,
} from '../../src/engine/types.js';
import { authMapping } from '../../src/probes/auth-client.js';
import {
  attemptFailureRequest,
  describeFailure,
  describeRequest,
  type HttpFailure,
  targetUrl,
} from '../../src/probes/http-attempt.js';

/** Every probe the check sends, in order: a record without one of them proves less than the summary says. */
export const PROBE_NAMES = [
  'baseline',
  'unknown field',
  'prototype key',
  'malformed JSON',
  'wrong field type',
  'non-object body',
  'oversized body',
  'wrong content type',
] as const;
export type ProbeName = (typeof PROBE_NAMES)[number];

interface InputProbe {
  name: ProbeName;
  /** What the body was, for evidence (random filler and passwords described, not copied). */
  sent: string;
  body: string;
  contentType: string;
  /** Statuses that satisfy the control; for the baseline, statuses that must NOT come back. */
  expected: number[];
}

export interface InputJudgement {
  ok: boolean;
  /** True when the answer makes the rest of the evidence unattributable (baseline rejected). */
  inconclusive?: boolean;
  note: string;
}

/** Pure: judges one probe's status. */
export function judgeInputProbe(name: ProbeName, status: number, expected: number[]): InputJudgement {
  if (status >= 500) return { ok: false, note: `${name} caused a server error (${status})` };
  if (name === 'baseline') {
    return expected.includes(status)
      ? {
          ok: false,
          inconclusive: true,
          note: `the baseline body without unknown fields is already rejected (${status}); set \`body\` to a valid request body`,
        }
      : { ok: true, note: `baseline body accepted for processing (${status})` };
  }
  if (expected.includes(status)) return { ok: true, note: `${name} rejected (${status})` };
  if (name === 'unknown field' || name === 'prototype key') {
    const processed = status >= 200 && status < 300 ? 'processed' : 'treated as a normal request';
    return {
      ok: false,
      note: `${name} accepted: answered ${status} (${processed}), expected ${expected.join(' or ')}`,
    };
  }
  return {
    ok: false,
    note: `${name} answered ${status}, expected ${isAnyFourXx(expected) ? '4xx' : expected.join(' or ')}`,
  };
}

const FOUR_XX = Array.from({ length: 100 }, (_, index) => 400 + index);

export const strictInputParams = z
  .object({
    path: z
      .string()
      .regex(/^\//, { message: 'expected a path starting with /' })
      .optional()
      .describe("the endpoint to probe; defaults to the checklist's auth.login.path"),
    method: z.enum(['POST', 'PUT', 'PATCH']).default('POST').describe('the method the bodies are sent with'),
    body: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'A body the endpoint accepts as valid (it may still fail, e.g. 401); defaults to a login for a nonexistent user',
      ),
    unknown_field: z
      .string()
      .min(1)
      .default('is_admin')
      .describe('a field the endpoint does not declare, added to the valid body: it must be rejected'),
    rejection_statuses: z
      .array(z.number().int().min(400).max(499))
      .min(1)
      .default([400, 422])
      .describe('statuses that count as "rejected as invalid input"'),
    content_type_statuses: z
      .array(z.number().int().min(400).max(499))
      .min(1)
      .default([400, 415, 422])
      .describe('statuses that count as "rejected" for a body sent with a wrong content type'),
    oversize_bytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(2 * 1024 * 1024)
      .describe('size of the oversized body, which must be refused with 413'),
  })
  .strict();
type StrictInputParams = z.output<typeof strictInputParams>;

/** One body sent, and the answer: its status and the start of its body (scrubbed), or why there was none. */
export interface InputAnswer {
  name: ProbeName;
  /** What the body was, for evidence (random filler and passwords described, not copied). */
  sent: string;
  /** Statuses that satisfy the control; for the baseline, statuses that must NOT come back. */
  expected: number[];
  answer: { status: number; excerpt: string } | undefined;
  failure: HttpFailure | undefined;
}

/** What the probe saw: the request line and every body's answer, in the order sent. */
export interface StrictInputSeen {
  /** `POST https://host/api/v1/auth/login`. */
  request: string;
  answers: InputAnswer[];
}

/** Every 4xx: the whole range, as the evidence names it. */
function isAnyFourXx(statuses: readonly number[]): boolean {
  return statuses.length === FOUR_XX.length && FOUR_XX.every((status) => statuses.includes(status));
}

/**
 * The verdict on every body. Pure: a break fails; a rejected baseline makes the rejections
 * unattributable (error); a body without an answer is an error; else it passes.
 */
export function judgeStrictInput(seen: StrictInputSeen): CheckOutcome {
  const { request } = seen;
  const observations: Observation[] = [];
  const failures: string[] = [];
  const unobserved: string[] = [];
  let inconclusive: string | undefined;
  for (const probe of seen.answers) {
    const base = {
      probe: `${request} [${probe.name}]`,
      expected: (probe.name === 'baseline'
        ? { status: `not ${probe.expected.join('/')} and not 5xx` }
        : { status: isAnyFourXx(probe.expected) ? '4xx' : probe.expected }) as Json,
    };
    const { answer } = probe;
    if (!answer) {
      const why = probe.failure ? describeFailure(probe.failure) : 'no answer';
      observations.push({
        ...base,
        actual: { sent: probe.sent, error: why },
        ok: false,
        note: probe.failure?.message ?? why,
      });
      unobserved.push(`${probe.name}: ${why}`);
      continue;
    }
    const judgement = judgeInputProbe(probe.name, answer.status, probe.expected);
    observations.push({
      ...base,
      actual: { sent: probe.sent, status: answer.status, body_excerpt: answer.excerpt },
      ok: judgement.ok,
      note: judgement.note,
    });
    if (judgement.inconclusive) inconclusive = judgement.note;
    else if (!judgement.ok) failures.push(judgement.note);
  }
  // Fail closed: strictness is proven only against a baseline that was sent, and only for the probes that were.
  for (const name of PROBE_NAMES) {
    if (!seen.answers.some((probe) => probe.name === name)) unobserved.push(`${name}: not sent`);
  }

  if (failures.length > 0) return { status: 'fail', summary: failures.join('; '), observations };
  if (inconclusive !== undefined) {
    return { status: 'error', summary: `cannot attribute the rejections: ${inconclusive}`, observations };
  }
  if (unobserved.length > 0) {
    return { status: 'error', summary: `could not observe ${request}: ${unobserved.join('; ')}`, observations };
  }
  return {
    status: 'pass',
    summary: `${request} rejects unknown fields, malformed, mistyped, oversized and wrong-content-type bodies without a 5xx`,
    observations,
  };
}

/**
 * The valid body with its first field's value of another JSON type: a string (or number, boolean) becomes
 * the object `{"$gt":""}` (the shape of a query-operator injection), an object or array becomes a string.
 * An empty body gets `unknown_field` with that object.
 */
export function withWrongFieldType(body: Record<string, unknown>, unknownField: string): string {
  const [first] = Object.entries(body);
  if (!first) return JSON.stringify({ [unknownField]: { $gt: '' } });
  const [name, value] = first;
  const other = value !== null && typeof value === 'object' ? '$gt' : { $gt: '' };
  return JSON.stringify({ ...body, [name]: other });
}

/** Sends the baseline, then each malformed body, one at a time: everything judgeStrictInput needs. */
export async function probeStrictInput(ctx: CheckContext, params: StrictInputParams): Promise<StrictInputSeen> {
  const path = params.path ?? authMapping(ctx).login.path;
  const usernameField = authMapping(ctx).login.username_field;
  const passwordField = authMapping(ctx).login.password_field;
  const randomPassword = randomBytes(18).toString('base64url');
  ctx.secrets.register(randomPassword);
  const body: Record<string, unknown> = params.body ?? {
    [usernameField]: `secgate-strict-input-${randomBytes(4).toString('hex')}`,
    [passwordField]: randomPassword,
  };
  /** The body as evidence: the random password is named, not copied. */
  const describe = (text: string): string =>
    text.split(randomPassword).join(`<random password, ${randomPassword.length} chars>`);
  const json = JSON.stringify(body);
  const withUnknown = JSON.stringify({ ...body, [params.unknown_field]: true });
  // JSON.stringify drops __proto__ keys of object literals, so the text is built by hand.
  const withPrototypeKey = `${json.slice(0, -1)}${json === '{}' ? '' : ','}"__proto__":{"${params.unknown_field}":true}}`;
  const malformed = `${json.slice(0, -1)},`;
  const mistyped = withWrongFieldType(body, params.unknown_field);
  const wrapped = `[${json}]`;
  const filler = 'a'.repeat(params.oversize_bytes);
  const oversized = JSON.stringify({ ...body, [usernameField]: filler });
  const jsonType = 'application/json';

  const probes: InputProbe[] = [
    {
      name: 'baseline',
      sent: describe(json),
      body: json,
      contentType: jsonType,
      expected: params.rejection_statuses,
    },
    {
      name: 'unknown field',
      sent: describe(withUnknown),
      body: withUnknown,
      contentType: jsonType,
      expected: params.rejection_statuses,
    },
    {
      name: 'prototype key',
      sent: describe(withPrototypeKey),
      body: withPrototypeKey,
      contentType: jsonType,
      expected: params.rejection_statuses,
    },
    { name: 'malformed JSON', sent: describe(malformed), body: malformed, contentType: jsonType, expected: FOUR_XX },
    // Well-formed JSON of another shape: a handler that checks keys but trusts types must not reach a 5xx.
    { name: 'wrong field type', sent: describe(mistyped), body: mistyped, contentType: jsonType, expected: FOUR_XX },
    { name: 'non-object body', sent: describe(wrapped), body: wrapped, contentType: jsonType, expected: FOUR_XX },
    {
      name: 'oversized body',
      sent: `${Buffer.byteLength(oversized)} bytes of JSON (${usernameField} is ${params.oversize_bytes} × "a")`,
      body: oversized,
      contentType: jsonType,
      expected: [413],
    },
    {
      name: 'wrong content type',
      sent: `${describe(json)} as text/plain`,
      body: json,
      contentType: 'text/plain',
      expected: params.content_type_statuses,
    },
  ];

  const url = targetUrl(ctx.target.url, path);
  // One at a time: a service that rate-limits must see the baseline before the rest. Each is a failed or
  // malformed login the service may count, so each comes from the run's source-address pool.
  const answers: InputAnswer[] = [];
  for (const probe of probes) {
    const attempt = await attemptFailureRequest(ctx, url, {
      method: params.method,
      headers: { 'content-type': probe.contentType },
      body: probe.body,
      maxBodyBytes: 64 * 1024,
    });
    const sent = { name: probe.name, sent: probe.sent, expected: probe.expected };
    if (attempt.failure) answers.push({ ...sent, answer: undefined, failure: attempt.failure });
    else {
      const excerpt = ctx.secrets.redact(attempt.response.body.slice(0, 160));
      answers.push({ ...sent, answer: { status: attempt.response.status, excerpt }, failure: undefined });
    }
  }
  return { request: describeRequest(params.method, url), answers };
}

export default defineCheck({
  id: 'http.strict-input',
  title: 'Request bodies are validated strictly: unknown fields, malformed JSON, oversized and mistyped bodies are 4xx',
  source: 'control S5 (docs/controls.md#S5): Strict input',
  docs: 'docs/controls.md#S5',
  remediation:
    'Declare a JSON schema for every route with additionalProperties: false (Pydantic: extra="forbid"), keep the JSON parser that rejects __proto__, set a body limit (Fastify bodyLimit, nginx client_max_body_size) and accept only application/json on JSON routes.',
  effects: 'none',
  severity: 'medium',
  params: strictInputParams,
  strength: { rejection_statuses: 'accepted', content_type_statuses: 'accepted' },
  async run(ctx, params) {
    return judgeStrictInput(await probeStrictInput(ctx, params));
  },
});
