/**
 * http.docs-disabled: interactive API documentation and schema endpoints are
 * not served to anonymous clients (seed 002: docs_url=None, openapi_url=None).
 * They are an endpoint inventory handed to an attacker. Each well-known path
 * must answer 404, 401 or 403 (any 4xx is accepted); a 2xx fails, and so does
 * a redirect that lands on a docs page.
 */
import { z } from 'zod';
import { defineCheck, type Observation } from '../../src/engine/types.js';
import { headerValue } from '../../src/probes/http.js';
import { attemptRequest, describeFailure, describeRequest, targetUrl } from '../../src/probes/http-attempt.js';

export const WELL_KNOWN_DOCS_PATHS = [
  '/docs',
  '/redoc',
  '/openapi.json',
  '/swagger',
  '/swagger-ui',
  '/swagger-ui.html',
  '/swagger.json',
  '/api-docs',
  '/v3/api-docs',
];

/** A GraphQL introspection query: answering it publishes the whole schema. */
export const INTROSPECTION_QUERY =
  '{"query":"query SecgateIntrospection { __schema { queryType { name } types { name } } }"}';

const DOCS_LOCATION_PATTERN = /docs|swagger|redoc|openapi|graphiql|graphql|api-docs/i;

export interface DocsJudgement {
  ok: boolean;
  note: string;
}

/** The path a Location points to; its query is ignored (`/login?next=/docs` is a login page). */
function locationPath(location: string): string {
  try {
    return new URL(location, 'https://target.invalid').pathname;
  } catch {
    return location;
  }
}

/** Pure: does this answer expose documentation? */
export function judgeDocsResponse(status: number, location: string | undefined): DocsJudgement {
  if (status >= 200 && status < 300) return { ok: false, note: `served with ${status}` };
  if (status >= 300 && status < 400) {
    if (location !== undefined && DOCS_LOCATION_PATTERN.test(locationPath(location))) {
      return { ok: false, note: `redirects (${status}) to a docs page: ${location}` };
    }
    return { ok: true, note: `redirects (${status}) away from docs: ${location ?? 'no Location'}` };
  }
  if (status >= 400 && status < 500) return { ok: true, note: `not exposed (${status})` };
  return { ok: false, note: `answered ${status}: a server error, not a refusal` };
}

export default defineCheck({
  id: 'http.docs-disabled',
  title: 'API documentation (Swagger, ReDoc, OpenAPI, GraphQL introspection) is not served publicly',
  source: 'seed 002, checklist item "Swagger/OpenAPI docs are disabled or auth-gated"',
  remediation:
    'Disable the documentation routes in production (FastAPI: docs_url=None, redoc_url=None, openapi_url=None; Fastify: do not register @fastify/swagger-ui) or put them behind the same authentication as the API; disable GraphQL introspection.',
  effects: 'none',
  params: z
    .object({
      /** Further paths to probe with GET, e.g. an admin console. */
      extra_paths: z.array(z.string().regex(/^\//, { message: 'expected a path starting with /' })).default([]),
      /** The GraphQL endpoint to send an introspection query to; `false` to skip. */
      graphql_path: z
        .union([z.string().regex(/^\//, { message: 'expected a path starting with /' }), z.literal(false)])
        .default('/graphql'),
    })
    .strict(),
  async run(ctx, params) {
    const requests: { method: string; path: string; body?: string }[] = [
      ...[...WELL_KNOWN_DOCS_PATHS, ...params.extra_paths].map((path) => ({ method: 'GET', path })),
      ...(params.graphql_path === false
        ? []
        : [{ method: 'POST', path: params.graphql_path, body: INTROSPECTION_QUERY }]),
    ];
    const results = await Promise.all(
      requests.map(async (request) => {
        const url = targetUrl(ctx.target.url, request.path);
        const attempt = await attemptRequest(ctx.http, url, {
          method: request.method,
          ...(request.body !== undefined
            ? { body: request.body, headers: { 'content-type': 'application/json' } }
            : {}),
        });
        return { request, label: describeRequest(request.method, url), attempt };
      }),
    );

    const expected = 'a 4xx (404, 401 or 403), or a redirect that does not lead to docs';
    const observations: Observation[] = [];
    const exposed: string[] = [];
    const unobserved: string[] = [];
    for (const { request, label, attempt } of results) {
      const probe = request.body === undefined ? label : `${label} (GraphQL introspection query)`;
      if (attempt.failure) {
        observations.push({ probe, expected, actual: { error: describeFailure(attempt.failure) }, ok: false });
        unobserved.push(`${request.path}: ${describeFailure(attempt.failure)}`);
        continue;
      }
      const location = headerValue(attempt.response, 'location');
      const judgement = judgeDocsResponse(attempt.response.status, location);
      observations.push({
        probe,
        expected,
        actual: { status: attempt.response.status, ...(location !== undefined ? { location } : {}) },
        ok: judgement.ok,
        note: `${request.path} ${judgement.note}`,
      });
      if (!judgement.ok) exposed.push(`${request.path} ${judgement.note}`);
    }

    if (exposed.length > 0) return { status: 'fail', summary: `docs exposed: ${exposed.join('; ')}`, observations };
    if (unobserved.length > 0) {
      return { status: 'error', summary: `could not observe: ${unobserved.join('; ')}`, observations };
    }
    return {
      status: 'pass',
      summary: `none of ${requests.length} documentation endpoints is served`,
      observations,
    };
  },
});
