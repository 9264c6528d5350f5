/**
 * http.status: one path answers the expected status over HTTPS, trusting only
 * the configured CA. The simplest proof that the deployment is up and that
 * its certificate chains to the anchor the checklist names.
 */
import { z } from 'zod';
import { defineCheck } from '../../src/engine/types.js';
import { attemptRequest, describeFailure, describeRequest, targetUrl } from '../../src/probes/http-attempt.js';

/** Bodies in evidence are cut short: enough to re-judge a substring match, not a dump. */
const BODY_EXCERPT_CHARS = 200;

export default defineCheck({
  id: 'http.status',
  title: 'A path answers the expected status over HTTPS with the configured CA',
  source: 'control T1 (docs/controls.md#T1): HTTPS answers; plain HTTP never serves content',
  docs: 'docs/controls.md#T1',
  remediation:
    'Make sure the service is running behind the TLS endpoint named in target.url, that its certificate chains to target.ca_file, and that the path answers the expected status.',
  effects: 'none',
  severity: 'medium',
  params: z
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
    .strict(),
  async run(ctx, params) {
    const url = targetUrl(ctx.target.url, params.path);
    const probe = describeRequest(params.method, url);
    const expectedStatuses = Array.isArray(params.status) ? params.status : [params.status];
    const expected = {
      status: expectedStatuses,
      ...(params.body_contains ? { body_contains: params.body_contains } : {}),
    };
    const attempt = await attemptRequest(ctx.http, url, { method: params.method });
    if (attempt.failure) {
      return {
        status: 'error',
        summary: `could not observe ${probe}: ${describeFailure(attempt.failure)}`,
        observations: [
          {
            probe,
            expected,
            actual: { error: describeFailure(attempt.failure) },
            ok: false,
            note: attempt.failure.message,
          },
        ],
      };
    }
    const { response } = attempt;
    const statusOk = expectedStatuses.includes(response.status);
    const bodyOk = params.body_contains === undefined || response.body.includes(params.body_contains);
    const problem = !statusOk
      ? `status ${response.status}, expected ${expectedStatuses.join(' or ')}`
      : !bodyOk
        ? `body does not contain ${JSON.stringify(params.body_contains)}`
        : undefined;
    const observation = {
      probe,
      expected,
      actual: {
        status: response.status,
        ...(params.body_contains
          ? { body_excerpt: ctx.secrets.redact(response.body.slice(0, BODY_EXCERPT_CHARS)) }
          : {}),
      },
      ok: statusOk && bodyOk,
      ...(problem === undefined ? {} : { note: problem }),
    };
    if (!statusOk) {
      return {
        status: 'fail',
        summary: `${probe} answered ${response.status}, expected ${expectedStatuses.join(' or ')}`,
        observations: [observation],
      };
    }
    if (!bodyOk && response.bodyTruncated) {
      // Only the first MiB was read: the text may lie past it. Not seen is not absent.
      return {
        status: 'error',
        summary: `${probe} answered ${response.status} with a body longer than the probe reads (1 MiB): cannot tell whether it contains ${JSON.stringify(params.body_contains)}`,
        observations: [{ ...observation, actual: { ...observation.actual, body_truncated: true } }],
      };
    }
    if (!bodyOk) {
      return {
        status: 'fail',
        summary: `${probe} answered ${response.status} but the body lacks ${JSON.stringify(params.body_contains)}`,
        observations: [observation],
      };
    }
    return { status: 'pass', summary: `${probe} answered ${response.status}`, observations: [observation] };
  },
});
