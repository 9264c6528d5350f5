/**
 * http.debug-pages: the service never answers with a framework's debug page —
 * Django's technical 404 (every URL pattern) or 500 (traceback and settings),
 * the Werkzeug debugger, Rails' exception page, Laravel's, ASP.NET's developer
 * page, an Express or any other Node.js stack trace. Provoked the way any scanner does: paths that
 * cannot exist (at the root and under the API prefixes), a malformed body to
 * the login, a path with a broken escape; each answer's body is matched
 * against the signatures in framework-defaults.ts. Probing records which
 * debug page each answer is, if any; judgeDebugPages is pure.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { type CheckContext, type CheckOutcome, defineCheck, type Observation } from '../../src/engine/types.js';
import { authMapping } from '../../src/probes/auth-client.js';
import {
  attemptFailureRequest,
  describeFailure,
  describeRequest,
  type HttpFailure,
  targetUrl,
} from '../../src/probes/http-attempt.js';
import { findingsVerdict } from '../outcome.js';
import { DEBUG_SIGNATURES, debugSignatureOf } from './framework-defaults.js';

export const debugPagesParams = z
  .object({
    prefixes: z
      .array(z.string().regex(/^\/.*\/$/, { message: 'expected a prefix such as /api/v1/' }))
      .default(['/api/v1/'])
      .describe('API prefixes under which an unknown path is requested too'),
    login_path: z
      .string()
      .regex(/^\//)
      .optional()
      .describe('the login path gets a malformed JSON body (a parser error is a classic way to a technical 500)'),
    extra_paths: z
      .array(z.string().regex(/^\//, { message: 'expected a path starting with /' }))
      .default([])
      .describe('more requests known to fail on this service (a path that raises, say)'),
  })
  .strict();
type DebugPagesParams = z.output<typeof debugPagesParams>;

/** One request meant to fail, and what came back: the debug page its body is (by signature id), or no answer. */
export interface DebugPageProbe {
  method: string;
  path: string;
  url: string;
  /** Why it was sent: `a path that cannot exist`. */
  why: string;
  answer:
    | {
        status: number;
        /** The id of the DEBUG_SIGNATURES entry the body matched, if any. */
        debugPage: string | undefined;
      }
    | undefined;
  failure: HttpFailure | undefined;
}

/** The verdict on every answer. Pure: a debug page fails, no answer is an error (fail closed). */
export function judgeDebugPages(seen: readonly DebugPageProbe[]): CheckOutcome {
  const observations: Observation[] = [];
  const failures: string[] = [];
  const unobserved: string[] = [];
  for (const request of seen) {
    const probe = `${describeRequest(request.method, request.url)} (${request.why})`;
    const { answer } = request;
    if (!answer) {
      const why = request.failure ? describeFailure(request.failure) : 'no answer';
      observations.push({ probe, actual: { error: why }, ok: false });
      unobserved.push(`${request.path}: ${why}`);
      continue;
    }
    const source =
      answer.debugPage === undefined
        ? undefined
        : (DEBUG_SIGNATURES.find((signature) => signature.id === answer.debugPage)?.source ?? answer.debugPage);
    observations.push({
      probe,
      expected: 'an error answer that is no framework debug page',
      actual: { status: answer.status, ...(answer.debugPage ? { debug_page: answer.debugPage } : {}) },
      ok: source === undefined,
      note: source ? `debug page: ${request.path} answered ${answer.status} with the ${source}` : 'plain error answer',
    });
    if (source) failures.push(`${request.path} answered ${answer.status} with the ${source}`);
  }
  if (seen.length === 0) unobserved.push('no request was sent');
  return findingsVerdict({ failures, unobserved }, observations, {
    pass: `none of the ${seen.length} error answers is a framework debug page`,
    failPrefix: 'debug page: ',
  });
}

/** Provokes the error answers, the way any scanner does: everything judgeDebugPages needs. */
export async function probeDebugPages(ctx: CheckContext, params: DebugPagesParams): Promise<DebugPageProbe[]> {
  const missing = `secgate-no-such-page-${randomBytes(6).toString('hex')}`;
  const loginPath = params.login_path ?? authMapping(ctx).login.path;
  const requests: { method: string; path: string; body?: string; why: string }[] = [
    { method: 'GET', path: `/${missing}`, why: 'a path that cannot exist' },
    { method: 'GET', path: `/${missing}/`, why: 'a path that cannot exist, with a trailing slash' },
    ...params.prefixes.map((prefix) => ({ method: 'GET', path: `${prefix}${missing}`, why: 'under an API prefix' })),
    { method: 'GET', path: `/${missing}/%E0%A4%A`, why: 'a path with a broken escape' },
    { method: 'POST', path: loginPath, body: '{"secgate": ', why: 'malformed JSON to the login' },
    ...params.extra_paths.map((path) => ({ method: 'GET', path, why: 'named in with.extra_paths' })),
  ];
  return Promise.all(
    requests.map(async (request): Promise<DebugPageProbe> => {
      const url = targetUrl(ctx.target.url, request.path);
      const attempt = await attemptFailureRequest(ctx, url, {
        method: request.method,
        ...(request.body !== undefined ? { body: request.body, headers: { 'content-type': 'application/json' } } : {}),
      });
      const sent = { method: request.method, path: request.path, url: url.toString(), why: request.why };
      if (attempt.failure) return { ...sent, answer: undefined, failure: attempt.failure };
      // The body is read here and only its kind kept: a debug page lists settings, which stay out of the record.
      const debugPage = debugSignatureOf(attempt.response.body)?.id;
      return { ...sent, answer: { status: attempt.response.status, debugPage }, failure: undefined };
    }),
  );
}

export default defineCheck({
  id: 'http.debug-pages',
  title: 'No error answer is a framework debug page listing routes, settings or code',
  source: 'control S7 (docs/controls.md#S7): No debug pages in production',
  docs: 'docs/controls.md#S7',
  severity: 'medium',
  remediation:
    'Turn debug mode off in production (Django: DEBUG = False with ALLOWED_HOSTS; Flask: no debug=True; Rails: consider_all_requests_local = false; Laravel: APP_DEBUG=false; NODE_ENV=production) and serve plain error pages.',
  rationale: 'A technical error page hands out the route table, the settings and the source around the failing line.',
  effects: 'none',
  params: debugPagesParams,
  strength: { prefixes: 'verified', extra_paths: 'verified' },
  async run(ctx, params) {
    return judgeDebugPages(await probeDebugPages(ctx, params));
  },
});
