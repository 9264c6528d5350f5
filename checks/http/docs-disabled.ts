/**
 * http.docs-disabled: interactive API documentation and schema endpoints are
 * not served to anonymous clients (seed 002: docs_url=None, openapi_url=None).
 * They are an endpoint inventory handed to an attacker. Each well-known path
 * must answer 404, 401 or 403 (any 4xx is accepted); a 2xx fails, and so does
 * a redirect that lands on a docs page — unless the 2xx is byte for byte the
 * page a path that cannot exist also gets (a single-page app's catch-all).
 * The GraphQL introspection query fails only when its answer holds the
 * schema: with introspection disabled, GraphQL over HTTP answers 200 with an
 * `errors` array.
 * Probing records each answer's status, Location and body digest;
 * judgeDocsDisabled is pure.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  type CheckContext,
  type CheckOutcome,
  defineCheck,
  type HttpResponse,
  type Observation,
} from '../../src/engine/types.js';
import { headerValue } from '../../src/probes/http.js';
import {
  attemptFailureRequest,
  describeFailure,
  describeRequest,
  type HttpFailure,
  targetUrl,
} from '../../src/probes/http-attempt.js';
import { findingsVerdict } from '../outcome.js';
import { withoutOpaqueTokens } from './shell-page.js';

/**
 * Where frameworks serve API documentation when nobody turns it off: data,
 * each path with who serves it there. Every path is probed at the root and
 * under each configured API prefix (FastAPI's full-stack template, for one,
 * puts its OpenAPI document at /api/v1/openapi.json).
 */
export const WELL_KNOWN_DOCS_ENDPOINTS: readonly { path: string; source: string }[] = [
  { path: '/docs', source: 'FastAPI Swagger UI (docs_url)' },
  { path: '/docs/', source: 'FastAPI Swagger UI with a trailing slash (proxies and static hosts append one)' },
  { path: '/redoc', source: 'FastAPI ReDoc (redoc_url)' },
  { path: '/openapi.json', source: 'FastAPI OpenAPI document (openapi_url)' },
  { path: '/openapi.yaml', source: 'Connexion, OpenAPI generators' },
  { path: '/documentation', source: 'Fastify @fastify/swagger-ui (routePrefix)' },
  { path: '/documentation/json', source: 'Fastify @fastify/swagger document' },
  { path: '/swagger', source: 'ASP.NET Swashbuckle UI' },
  { path: '/swagger/v1/swagger.json', source: 'ASP.NET Swashbuckle document' },
  { path: '/swagger-ui', source: 'springdoc-openapi UI' },
  { path: '/swagger-ui/', source: 'springdoc-openapi UI with a trailing slash' },
  { path: '/swagger-ui.html', source: 'springfox / springdoc UI' },
  { path: '/swagger.json', source: 'swagger-jsdoc, hand-wired Express' },
  { path: '/api-docs', source: 'swagger-ui-express convention' },
  { path: '/v2/api-docs', source: 'springfox Swagger 2 document' },
  { path: '/v3/api-docs', source: 'springdoc OpenAPI 3 document' },
  { path: '/api/docs', source: 'NestJS SwaggerModule.setup("api/docs")' },
  { path: '/api-json', source: 'NestJS document for SwaggerModule.setup("api")' },
  { path: '/api/schema/', source: 'Django REST framework + drf-spectacular schema (SpectacularAPIView)' },
  { path: '/api/schema', source: 'drf-spectacular schema without the trailing slash (APPEND_SLASH redirects)' },
  { path: '/api/schema/swagger-ui/', source: 'drf-spectacular Swagger UI (SpectacularSwaggerView)' },
  { path: '/api/schema/redoc/', source: 'drf-spectacular ReDoc (SpectacularRedocView)' },
  { path: '/swagger/', source: 'drf-yasg Swagger UI (schema_view.with_ui("swagger"))' },
  { path: '/redoc/', source: 'drf-yasg ReDoc (schema_view.with_ui("redoc"))' },
  { path: '/swagger.yaml', source: 'drf-yasg schema document' },
  { path: '/api/openapi.json', source: 'Django Ninja OpenAPI document (NinjaAPI mounted at /api/)' },
  { path: '/schema', source: 'Litestar OpenAPI UI (OpenAPIConfig path)' },
  { path: '/schema/openapi.json', source: 'Litestar OpenAPI document' },
  { path: '/apidocs/', source: 'Flasgger Swagger UI' },
  { path: '/apispec_1.json', source: 'Flasgger OpenAPI document' },
  { path: '/swagger/index.html', source: 'ASP.NET Swashbuckle UI page, Go gin-swagger' },
  { path: '/swagger-ui/index.html', source: 'springdoc-openapi UI page (where /swagger-ui.html redirects)' },
  { path: '/graphiql', source: 'GraphiQL IDE (express-graphql, GraphQL Yoga, Strawberry, graphene)' },
  { path: '/playground', source: 'GraphQL Playground (Apollo Server 2, gqlgen, Hot Chocolate)' },
];
const WELL_KNOWN_DOCS_PATHS = WELL_KNOWN_DOCS_ENDPOINTS.map((endpoint) => endpoint.path);

/** Who serves docs at this path by default, for the failure message (a prefixed path names its root form). */
function docsSource(path: string, prefixes: readonly string[]): string | undefined {
  // A path well known by itself (/api/docs) is named by its own source before any prefixed form (/api/ + /docs).
  const own = WELL_KNOWN_DOCS_ENDPOINTS.find((endpoint) => endpoint.path === path);
  if (own !== undefined) return own.source;
  for (const endpoint of WELL_KNOWN_DOCS_ENDPOINTS) {
    const prefix = prefixes.find((candidate) => path === `${candidate.replace(/\/+$/, '')}${endpoint.path}`);
    if (prefix !== undefined) return `${endpoint.source}, under ${prefix}`;
  }
  return undefined;
}

/** Each well-known path at the root and under every prefix (`/api/v1/` + `docs`), without duplicates. */
export function docsPathsToProbe(prefixes: readonly string[], extraPaths: readonly string[]): string[] {
  const underPrefixes = prefixes.flatMap((prefix) =>
    WELL_KNOWN_DOCS_PATHS.map((path) => `${prefix.replace(/\/+$/, '')}${path}`),
  );
  return [...new Set([...WELL_KNOWN_DOCS_PATHS, ...underPrefixes, ...extraPaths])];
}

/** A GraphQL introspection query: answering it publishes the whole schema. */
export const INTROSPECTION_QUERY =
  '{"query":"query SecgateIntrospection { __schema { queryType { name } types { name } } }"}';

/** Words every documentation page or schema carries (Swagger UI, ReDoc, an OpenAPI document, GraphiQL, introspection). */
const DOCS_CONTENT_PATTERN = /swagger|redoc|openapi|graphiql|__schema/i;
const DOCS_LOCATION_PATTERN = /docs|swagger|redoc|openapi|graphiql|graphql|api-docs/i;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

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

/**
 * Pure: does the answer to the introspection query hold the schema? `data.__schema`, or schema words in a
 * body without an `errors` array; a body longer than the probe reads is a schema too (an error is short).
 * A server with introspection disabled answers 200 with `errors` only (GraphQL over HTTP, application/json).
 */
export function introspectionAnswered(body: string, truncated: boolean): boolean {
  if (truncated) return true;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return DOCS_CONTENT_PATTERN.test(body);
  }
  if (parsed === null || typeof parsed !== 'object') return DOCS_CONTENT_PATTERN.test(body);
  const { data, errors } = parsed as { data?: unknown; errors?: unknown };
  if (data !== null && typeof data === 'object' && '__schema' in data && (data as { __schema: unknown }).__schema) {
    return true;
  }
  return !Array.isArray(errors) && DOCS_CONTENT_PATTERN.test(body);
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

export const docsDisabledParams = z
  .object({
    extra_paths: z
      .array(z.string().regex(/^\//, { message: 'expected a path starting with /' }))
      .default([])
      .describe('further paths to probe with GET, e.g. an admin console'),
    prefixes: z
      .array(z.string().regex(/^\/.*\/$/, { message: 'expected a prefix such as /api/v1/' }))
      .default(['/api/v1/', '/api/'])
      .describe(
        "API prefixes under which every well-known docs path is probed too (http.auth-required's prefixes, and /api/ where frameworks mount an unversioned API)",
      ),
    graphql_path: z
      .union([z.string().regex(/^\//, { message: 'expected a path starting with /' }), z.literal(false)])
      .default('/graphql')
      .describe('the GraphQL endpoint to send an introspection query to; `false` to skip'),
  })
  .strict();
type DocsDisabledParams = z.output<typeof docsDisabledParams>;

/** An answer as the judge needs it: no body, only its digest when it was read whole. */
export interface DocsAnswer {
  status: number;
  location: string | undefined;
  /** sha256 of the whole body, its long opaque tokens normalised (shell-page.ts); undefined when only its start was read. */
  bodySha256: string | undefined;
  truncated: boolean;
  /** For the introspection query: whether the body holds the schema (introspectionAnswered); unknown counts as yes. */
  schema?: boolean;
}

/** One docs request, and what came back (or why nothing did). */
export interface DocsProbe {
  method: string;
  path: string;
  /** `GET https://host/docs`. */
  request: string;
  /** It carried the GraphQL introspection query. */
  introspection: boolean;
  answer: DocsAnswer | undefined;
  failure: HttpFailure | undefined;
}

/** What the probe saw: the answer to a path that cannot exist (the catch-all), and each docs request's. */
export interface DocsSeen {
  controlPath: string;
  /** The catch-all's answer, and whether its body reads like documentation itself. */
  control: (DocsAnswer & { looksLikeDocs: boolean }) | undefined;
  answers: DocsProbe[];
}

/**
 * The verdict on every docs path. Pure: a 2xx or a redirect into docs exposes them, unless the page is
 * byte for byte the catch-all's (an ordinary page, whole); a request without an answer is an error.
 */
export function judgeDocsDisabled(seen: DocsSeen, params: Pick<DocsDisabledParams, 'prefixes'>): CheckOutcome {
  const { control } = seen;
  // Only an ordinary page earns the exemption: a catch-all that is itself a docs page exposes docs everywhere.
  // Both bodies must be whole: two pages that only start alike are not the same page.
  const catchAllDigest =
    control && control.status >= 200 && control.status < 300 && !control.truncated && !control.looksLikeDocs
      ? control.bodySha256
      : undefined;
  const expected = 'a 4xx (404, 401 or 403), or a redirect that does not lead to docs';
  const observations: Observation[] = [];
  if (catchAllDigest !== undefined && control) {
    observations.push({
      probe: `GET ${seen.controlPath} (a path that cannot exist)`,
      actual: { status: control.status, body_sha256: catchAllDigest },
      note: 'the target answers unknown paths with a page (a single-page-app catch-all); a docs path that gets exactly this page is not documentation',
    });
  }
  const exposed: string[] = [];
  const unobserved: string[] = [];
  for (const request of seen.answers) {
    const probe = request.introspection ? `${request.request} (GraphQL introspection query)` : request.request;
    const { answer } = request;
    if (!answer) {
      const why = request.failure ? describeFailure(request.failure) : 'no answer';
      observations.push({ probe, expected, actual: { error: why }, ok: false });
      unobserved.push(`${request.path}: ${why}`);
      continue;
    }
    const sameAsCatchAll = catchAllDigest !== undefined && !answer.truncated && answer.bodySha256 === catchAllDigest;
    const refusedIntrospection =
      request.introspection && answer.status >= 200 && answer.status < 300 && answer.schema === false;
    const judgement = sameAsCatchAll
      ? {
          ok: true,
          note: `served the catch-all page (${answer.status}), the same as a path that cannot exist: no documentation`,
        }
      : refusedIntrospection
        ? { ok: true, note: `answered ${answer.status} with errors and no schema: introspection is disabled` }
        : judgeDocsResponse(answer.status, answer.location);
    observations.push({
      probe,
      expected,
      actual: {
        status: answer.status,
        ...(answer.location !== undefined ? { location: answer.location } : {}),
        ...(answer.truncated ? { body_truncated: true } : {}),
      },
      ok: judgement.ok,
      note: `${request.path} ${judgement.note}`,
    });
    if (!judgement.ok) {
      const source = docsSource(request.path, params.prefixes);
      exposed.push(`${request.path} ${judgement.note}${source === undefined ? '' : ` (default of ${source})`}`);
    }
  }
  if (seen.answers.length === 0) unobserved.push('no documentation path was requested');
  return findingsVerdict({ failures: exposed, unobserved }, observations, {
    pass: `none of ${seen.answers.length} documentation endpoints is served`,
    failPrefix: 'docs exposed: ',
  });
}

/** An answer without its body: its digest when it was read whole. */
function docsAnswer(response: HttpResponse): DocsAnswer {
  return {
    status: response.status,
    location: headerValue(response, 'location'),
    // Per-response tokens (a CSP nonce in the shell) normalised, or an app shell would differ from itself.
    bodySha256: response.bodyTruncated ? undefined : sha256(withoutOpaqueTokens(response.body)),
    truncated: response.bodyTruncated,
  };
}

/** Every well-known docs path, the introspection query and a path that cannot exist: everything judgeDocsDisabled needs. */
export async function probeDocsDisabled(ctx: CheckContext, params: DocsDisabledParams): Promise<DocsSeen> {
  const requests: { method: string; path: string; body?: string }[] = [
    ...docsPathsToProbe(params.prefixes, params.extra_paths).map((path) => ({ method: 'GET', path })),
    ...(params.graphql_path === false
      ? []
      : [{ method: 'POST', path: params.graphql_path, body: INTROSPECTION_QUERY }]),
  ];
  // A path that cannot exist: what a single-page app's catch-all serves for any unknown route. A docs
  // path answering 200 with exactly that page is the app shell, not documentation.
  const controlPath = `/secgate-no-such-page-${randomBytes(6).toString('hex')}`;
  // Every request here is meant to be refused, so each may count as a failure at the service.
  const controlRequest = attemptFailureRequest(ctx, targetUrl(ctx.target.url, controlPath));
  // Awaited below; should the other requests throw first, this one must not become an unhandled rejection.
  controlRequest.catch(() => {});
  const answers = await Promise.all(
    requests.map(async (request): Promise<DocsProbe> => {
      const url = targetUrl(ctx.target.url, request.path);
      const attempt = await attemptFailureRequest(ctx, url, {
        method: request.method,
        ...(request.body !== undefined ? { body: request.body, headers: { 'content-type': 'application/json' } } : {}),
      });
      const sent = {
        method: request.method,
        path: request.path,
        request: describeRequest(request.method, url),
        introspection: request.body !== undefined,
      };
      if (attempt.failure) return { ...sent, answer: undefined, failure: attempt.failure };
      const answer = docsAnswer(attempt.response);
      if (!sent.introspection) return { ...sent, answer, failure: undefined };
      const schema = introspectionAnswered(attempt.response.body, attempt.response.bodyTruncated);
      return { ...sent, answer: { ...answer, schema }, failure: undefined };
    }),
  );
  const control = await controlRequest;
  return {
    controlPath,
    control: control.response && {
      ...docsAnswer(control.response),
      looksLikeDocs: DOCS_CONTENT_PATTERN.test(control.response.body),
    },
    answers,
  };
}

export default defineCheck({
  id: 'http.docs-disabled',
  title: 'API documentation (Swagger, ReDoc, OpenAPI, GraphQL introspection) is not served publicly',
  source: 'control S2 (docs/controls.md#S2): No endpoint inventory for an attacker',
  docs: 'docs/controls.md#S2',
  remediation:
    'Disable the documentation routes in production (FastAPI: docs_url=None, redoc_url=None, openapi_url=None; Fastify: do not register @fastify/swagger-ui) or put them behind the same authentication as the API; disable GraphQL introspection.',
  effects: 'none',
  severity: 'medium',
  params: docsDisabledParams,
  strength: { extra_paths: 'verified', prefixes: 'verified' },
  async run(ctx, params) {
    return judgeDocsDisabled(await probeDocsDisabled(ctx, params), params);
  },
});
