/**
 * http.debug-pages: the service never answers with a framework's debug page —
 * Django's technical 404 (every URL pattern) or 500 (traceback and settings),
 * the Werkzeug debugger, Rails' exception page, Laravel's, ASP.NET's developer
 * page, an Express or any other Node.js stack trace. Provoked the way any scanner does: paths that
 * cannot exist (at the root and under the API prefixes), a malformed body to
 * the login, a path with a broken escape; each answer's body is matched
 * against the signatures in framework-defaults.ts. Nor does it serve a
 * framework debug console at its default path (the Werkzeug console, Spring
 * Boot Actuator, the Symfony profiler, django-debug-toolbar, Go pprof,
 * Laravel Telescope, Horizon and Debugbar): a 2xx there fails only with what
 * that console alone serves, so an app's shell or a catch-all page answering
 * 200 everywhere is no console. Probing records which debug page or console
 * each answer is, if any; judgeDebugPages is pure.
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
import { DEBUG_CONSOLES, DEBUG_SIGNATURES, debugConsoleOf, debugSignatureOf } from './framework-defaults.js';

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
  /** A debug console's default path (served only in a 2xx), not a request meant to fail. */
  console: boolean;
  answer:
    | {
        status: number;
        /** The id of the DEBUG_SIGNATURES or DEBUG_CONSOLES entry the body matched, if any. */
        debugPage: string | undefined;
      }
    | undefined;
  failure: HttpFailure | undefined;
}

/**
 * Pure: what the answer exposes, by its matched id: a debug page at any status, a console only in a 2xx
 * (a refusal that mentions it serves nothing); an id neither table knows counts as exposed (fail closed).
 */
function exposedBy(debugPage: string | undefined, status: number): string | undefined {
  if (debugPage === undefined) return undefined;
  const console = DEBUG_CONSOLES.find((entry) => entry.id === debugPage);
  if (console !== undefined) return status >= 200 && status < 300 ? console.source : undefined;
  return DEBUG_SIGNATURES.find((signature) => signature.id === debugPage)?.source ?? debugPage;
}

/** The verdict on every answer. Pure: a debug page or a served console fails, no answer is an error (fail closed). */
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
    const source = exposedBy(answer.debugPage, answer.status);
    observations.push({
      probe,
      expected: request.console
        ? 'a refusal, or a page that is not the console'
        : 'an error answer that is no framework debug page',
      actual: { status: answer.status, ...(answer.debugPage ? { debug_page: answer.debugPage } : {}) },
      ok: source === undefined,
      note: source
        ? `debug page: ${request.path} answered ${answer.status} with the ${source}`
        : request.console
          ? `no console (${answer.status})`
          : 'plain error answer',
    });
    if (source) failures.push(`${request.path} answered ${answer.status} with the ${source}`);
  }
  if (seen.length === 0) unobserved.push('no request was sent');
  const consoles = seen.filter((request) => request.console).length;
  return findingsVerdict({ failures, unobserved }, observations, {
    pass: `none of the ${seen.length - consoles} error answers is a framework debug page${
      consoles > 0 ? `; none of the ${consoles} debug console paths serves its console` : ''
    }`,
    failPrefix: 'debug page: ',
  });
}

/** Provokes the error answers, the way any scanner does: everything judgeDebugPages needs. */
export async function probeDebugPages(ctx: CheckContext, params: DebugPagesParams): Promise<DebugPageProbe[]> {
  const missing = `secgate-no-such-page-${randomBytes(6).toString('hex')}`;
  const loginPath = params.login_path ?? authMapping(ctx).login.path;
  const requests: { method: string; path: string; body?: string; why: string; console?: boolean }[] = [
    { method: 'GET', path: `/${missing}`, why: 'a path that cannot exist' },
    { method: 'GET', path: `/${missing}/`, why: 'a path that cannot exist, with a trailing slash' },
    ...params.prefixes.map((prefix) => ({ method: 'GET', path: `${prefix}${missing}`, why: 'under an API prefix' })),
    { method: 'GET', path: `/${missing}/%E0%A4%A`, why: 'a path with a broken escape' },
    { method: 'POST', path: loginPath, body: '{"secgate": ', why: 'malformed JSON to the login' },
    ...params.extra_paths.map((path) => ({ method: 'GET', path, why: 'named in with.extra_paths' })),
    // One request per console path: the entries that share it are all tried on its answer.
    ...[...new Set(DEBUG_CONSOLES.map((entry) => entry.path))].map((path) => ({
      method: 'GET',
      path,
      why: 'a debug console path',
      console: true,
    })),
  ];
  return Promise.all(
    requests.map(async (request): Promise<DebugPageProbe> => {
      const url = targetUrl(ctx.target.url, request.path);
      const attempt = await attemptFailureRequest(ctx, url, {
        method: request.method,
        ...(request.body !== undefined ? { body: request.body, headers: { 'content-type': 'application/json' } } : {}),
      });
      const console = request.console === true;
      const sent = { method: request.method, path: request.path, url: url.toString(), why: request.why, console };
      if (attempt.failure) return { ...sent, answer: undefined, failure: attempt.failure };
      // The body is read here and only its kind kept: a debug page lists settings, which stay out of the record.
      const { body } = attempt.response;
      const debugPage = (console ? debugConsoleOf(request.path, body)?.id : undefined) ?? debugSignatureOf(body)?.id;
      return { ...sent, answer: { status: attempt.response.status, debugPage }, failure: undefined };
    }),
  );
}

export default defineCheck({
  id: 'http.debug-pages',
  title: 'No error answer is a framework debug page listing routes, settings or code; no debug console is served',
  source: 'control S7 (docs/controls.md#S7): No debug pages in production',
  docs: 'docs/controls.md#S7',
  severity: 'medium',
  remediation:
    'Turn debug mode off in production (Django: DEBUG = False with ALLOWED_HOSTS; Flask: no debug=True; Rails: consider_all_requests_local = false; Laravel: APP_DEBUG=false; NODE_ENV=production) and serve plain error pages; leave debug consoles out of the production build or behind authentication (Spring Boot: management.endpoints.web.exposure.include=health; Symfony: no WebProfilerBundle in prod; Go: do not import net/http/pprof on the public listener; Laravel: Telescope and Horizon gates, no barryvdh/laravel-debugbar in production).',
  rationale:
    'A technical error page hands out the route table, the settings and the source around the failing line; a debug console runs code or hands out the configuration and the traffic.',
  effects: 'none',
  params: debugPagesParams,
  strength: { prefixes: 'verified', extra_paths: 'verified' },
  async run(ctx, params) {
    return judgeDebugPages(await probeDebugPages(ctx, params));
  },
});
