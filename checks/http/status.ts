/**
 * http.status: one path answers the expected status over HTTPS, trusting only
 * the configured CA. The simplest proof that the deployment is up and that
 * its certificate chains to the anchor the checklist names. Probing records
 * what came back; judgeStatus is pure.
 */
import { z } from 'zod';
import { type CheckContext, type CheckOutcome, defineCheck, type Observation } from '../../src/engine/types.js';
import {
  attemptRequest,
  describeFailure,
  describeRequest,
  type HttpFailure,
  targetUrl,
} from '../../src/probes/http-attempt.js';

/** Bodies in evidence are cut short: enough to re-judge a substring match, not a dump. */
const BODY_EXCERPT_CHARS = 200;

export const statusParams = z
  .object({
    path: z
      .string()
      .regex(/^\//, { message: 'expected a path starting with /' })
      .default('/health')
      .describe('the path requested over HTTPS'),
    method: z
      .enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
      .default('GET')
      .describe('the request method'),
    status: z
      .union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)])
      .default(200)
      .describe('one status or a list of acceptable statuses'),
    body_contains: z.string().min(1).optional().describe('a substring the body must contain, e.g. `"status":"ok"`'),
  })
  .strict();
type StatusParams = z.output<typeof statusParams>;

/** What the probe saw: the request, and its answer or why there was none. */
export interface StatusSeen {
  /** `GET https://host:8443/health`. */
  probe: string;
  answer:
    | {
        status: number;
        /** Whether the body holds with.body_contains (read from the raw body); undefined when none is asked for. */
        containsText: boolean | undefined;
        /** The body's start, secrets scrubbed: enough to re-judge the match by eye. */
        excerpt: string;
        /** Only the first MiB was read. */
        truncated: boolean;
      }
    | undefined;
  failure: HttpFailure | undefined;
}

/** The verdict on one answer. Pure: no answer is an error; a text not seen in a cut body is one too. */
export function judgeStatus(seen: StatusSeen, params: Pick<StatusParams, 'status' | 'body_contains'>): CheckOutcome {
  const { probe, answer } = seen;
  const expectedStatuses = Array.isArray(params.status) ? params.status : [params.status];
  const expected = {
    status: expectedStatuses,
    ...(params.body_contains ? { body_contains: params.body_contains } : {}),
  };
  if (!answer) {
    const why = seen.failure ? describeFailure(seen.failure) : 'no answer';
    return {
      status: 'error',
      summary: `could not observe ${probe}: ${why}`,
      observations: [{ probe, expected, actual: { error: why }, ok: false, note: seen.failure?.message ?? why }],
    };
  }
  const statusOk = expectedStatuses.includes(answer.status);
  // Fail closed: a text asked for is found only when the probe says it looked and saw it.
  const bodyOk = params.body_contains === undefined || answer.containsText === true;
  const problem = !statusOk
    ? `status ${answer.status}, expected ${expectedStatuses.join(' or ')}`
    : !bodyOk
      ? `body does not contain ${JSON.stringify(params.body_contains)}`
      : undefined;
  const observation: Observation = {
    probe,
    expected,
    actual: { status: answer.status, ...(params.body_contains ? { body_excerpt: answer.excerpt } : {}) },
    ok: statusOk && bodyOk,
    ...(problem === undefined ? {} : { note: problem }),
  };
  if (!statusOk) {
    return {
      status: 'fail',
      summary: `${probe} answered ${answer.status}, expected ${expectedStatuses.join(' or ')}`,
      observations: [observation],
    };
  }
  if (!bodyOk && answer.truncated) {
    // Only the first MiB was read: the text may lie past it. Not seen is not absent.
    return {
      status: 'error',
      summary: `${probe} answered ${answer.status} with a body longer than the probe reads (1 MiB): cannot tell whether it contains ${JSON.stringify(params.body_contains)}`,
      observations: [
        { ...observation, actual: { status: answer.status, body_excerpt: answer.excerpt, body_truncated: true } },
      ],
    };
  }
  if (!bodyOk) {
    return {
      status: 'fail',
      summary: `${probe} answered ${answer.status} but the body lacks ${JSON.stringify(params.body_contains)}`,
      observations: [observation],
    };
  }
  return { status: 'pass', summary: `${probe} answered ${answer.status}`, observations: [observation] };
}

/** One request to the path: everything judgeStatus needs. */
export async function probeStatus(ctx: CheckContext, params: StatusParams): Promise<StatusSeen> {
  const url = targetUrl(ctx.target.url, params.path);
  const probe = describeRequest(params.method, url);
  const attempt = await attemptRequest(ctx.http, url, { method: params.method });
  if (attempt.failure) return { probe, answer: undefined, failure: attempt.failure };
  const { response } = attempt;
  return {
    probe,
    answer: {
      status: response.status,
      containsText: params.body_contains === undefined ? undefined : response.body.includes(params.body_contains),
      excerpt: ctx.secrets.redact(response.body.slice(0, BODY_EXCERPT_CHARS)),
      truncated: response.bodyTruncated,
    },
    failure: undefined,
  };
}

export default defineCheck({
  id: 'http.status',
  title: 'A path answers the expected status over HTTPS with the configured CA',
  source: 'control T1 (docs/controls.md#T1): HTTPS answers; plain HTTP never serves content',
  docs: 'docs/controls.md#T1',
  remediation:
    'Make sure the service is running behind the TLS endpoint named in target.url, that its certificate chains to target.ca_file, and that the path answers the expected status.',
  effects: 'none',
  severity: 'medium',
  params: statusParams,
  async run(ctx, params) {
    return judgeStatus(await probeStatus(ctx, params), params);
  },
});
