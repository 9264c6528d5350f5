/**
 * http.debug-pages: the service never answers with a framework's debug page —
 * Django's technical 404 (every URL pattern) or 500 (traceback and settings),
 * the Werkzeug debugger, Rails' exception page, Laravel's, ASP.NET's developer
 * page, an Express stack trace. Provoked the way any scanner does: paths that
 * cannot exist (at the root and under the API prefixes), a malformed body to
 * the login, a path with a broken escape; each answer's body is matched
 * against the signatures in framework-defaults.ts.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { defineCheck, type Observation } from '../../src/engine/types.js';
import { authMapping } from '../../src/probes/auth-client.js';
import { attemptFailureRequest, describeFailure, describeRequest, targetUrl } from '../../src/probes/http-attempt.js';
import { findingsVerdict } from '../outcome.js';
import { debugSignatureOf } from './framework-defaults.js';

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
  params: z
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
    .strict(),
  strength: { prefixes: 'verified', extra_paths: 'verified' },
  async run(ctx, params) {
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
    const results = await Promise.all(
      requests.map(async (request) => {
        const url = targetUrl(ctx.target.url, request.path);
        return {
          request,
          url,
          attempt: await attemptFailureRequest(ctx, url, {
            method: request.method,
            ...(request.body !== undefined
              ? { body: request.body, headers: { 'content-type': 'application/json' } }
              : {}),
          }),
        };
      }),
    );
    const observations: Observation[] = [];
    const failures: string[] = [];
    const unobserved: string[] = [];
    for (const { request, url, attempt } of results) {
      const probe = `${describeRequest(request.method, url)} (${request.why})`;
      if (attempt.failure) {
        observations.push({ probe, actual: { error: describeFailure(attempt.failure) }, ok: false });
        unobserved.push(`${request.path}: ${describeFailure(attempt.failure)}`);
        continue;
      }
      const signature = debugSignatureOf(attempt.response.body);
      observations.push({
        probe,
        expected: 'an error answer that is no framework debug page',
        actual: { status: attempt.response.status, ...(signature ? { debug_page: signature.id } : {}) },
        ok: signature === undefined,
        note: signature
          ? `debug page: ${request.path} answered ${attempt.response.status} with the ${signature.source}`
          : 'plain error answer',
      });
      if (signature) failures.push(`${request.path} answered ${attempt.response.status} with the ${signature.source}`);
    }
    return findingsVerdict({ failures, unobserved }, observations, {
      pass: `none of the ${requests.length} error answers is a framework debug page`,
      failPrefix: 'debug page: ',
    });
  },
});
