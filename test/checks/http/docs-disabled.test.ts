import { describe, expect, it } from 'vitest';
import httpDocsDisabled, {
  docsPathsToProbe,
  introspectionAnswered,
  judgeDocsResponse,
} from '../../../checks/http/docs-disabled.js';
import { startPathFixture } from '../../../fixtures/http/path-servers.js';
import { startHttpFixture, startUnreachableTarget } from '../../../fixtures/http/servers.js';
import { startSpaFixture } from '../../../fixtures/http/spa-servers.js';
import { testCheck } from '../../harness/check-tester.js';
import { validTargets } from './valid-targets.js';

/** A docs path each framework serves by default, and the source the failure must name. */
const FRAMEWORK_DEFAULTS: [string, RegExp][] = [
  ['/documentation', /Fastify @fastify\/swagger-ui/],
  ['/docs/', /FastAPI Swagger UI with a trailing slash/],
  ['/api/docs', /NestJS/],
  ['/openapi.yaml', /Connexion/],
  ['/api-json', /NestJS/],
  ['/swagger.json', /swagger-jsdoc/],
  ['/swagger-ui.html', /springfox/],
  ['/v3/api-docs', /springdoc OpenAPI 3 document/],
  ['/api/v1/openapi.json', /FastAPI OpenAPI document \(openapi_url\), under \/api\/v1\//],
  ['/api/v1/docs', /FastAPI Swagger UI \(docs_url\), under \/api\/v1\//],
  ['/api/openapi.json', /Django Ninja OpenAPI document/],
  ['/schema', /Litestar OpenAPI UI/],
  ['/schema/openapi.json', /Litestar OpenAPI document/],
  ['/apidocs/', /Flasgger Swagger UI/],
  ['/apispec_1.json', /Flasgger OpenAPI document/],
  ['/swagger/index.html', /ASP\.NET Swashbuckle UI page, Go gin-swagger/],
  ['/swagger-ui/index.html', /springdoc-openapi UI page/],
  ['/graphiql', /GraphiQL IDE/],
  ['/playground', /GraphQL Playground/],
  ['/api/swagger.json', /swagger-jsdoc, hand-wired Express, under \/api\//],
];

testCheck(httpDocsDisabled, {
  valid: [
    ...validTargets(),
    {
      name: 'a single-page app answers every unknown path, /docs included, with its shell page',
      target: () => startHttpFixture({ spaCatchAll: true }),
    },
    {
      // Each answer's shell carries its own CSP nonce: the same page, though never the same bytes.
      name: 'a single-page app whose shell carries a fresh CSP nonce on every response',
      target: () => startSpaFixture({ nonce: true }),
    },
    {
      name: 'GraphQL with introspection disabled: 200 with an errors array and no schema',
      target: () => startPathFixture({ graphqlIntrospectionDisabled: true }),
    },
  ],
  invalid: [
    {
      name: 'a catch-all that is itself Swagger UI: docs on every path',
      target: () => startHttpFixture({ spaCatchAll: 'swagger-ui' }),
      expect: /docs exposed: \/docs served with 200/,
    },
    {
      // Only the first 1 MiB is read: pages that start alike are not known to be the same page.
      name: 'docs that differ from an oversized catch-all page only after the first MiB',
      target: () => startHttpFixture({ spaCatchAll: 'oversized' }),
      expect: /docs exposed: \/docs served with 200/,
    },
    {
      name: 'real docs behind a single-page app: a page other than the shell',
      target: () => startHttpFixture({ flaw: 'docs-exposed', spaCatchAll: true }),
      expect:
        /docs exposed: \/docs served with 200 \(default of FastAPI Swagger UI \(docs_url\)\); \/redoc served with 200/,
    },
    {
      name: 'Swagger UI and the OpenAPI document are served',
      target: () => startHttpFixture({ flaw: 'docs-exposed' }),
      expect: /docs exposed: \/docs served with 200 .*; \/redoc served with 200 .*; \/openapi\.json served with 200/,
    },
    // Other frameworks' defaults, each left on alone: every one must fail.
    ...FRAMEWORK_DEFAULTS.map(([docsPath, source]) => ({
      name: `docs served at ${docsPath}`,
      target: () => startHttpFixture({ docsPath }),
      expect: new RegExp(
        `docs exposed: ${docsPath.replace(/[./]/g, '\\$&')} served with 200 \\(default of ${source.source}`,
      ),
    })),
    {
      name: 'GraphQL introspection answers',
      target: () => startHttpFixture({ flaw: 'graphql-introspection' }),
      expect: /\/graphql served with 200/,
    },
    {
      name: 'a configured extra path is served',
      target: () => startHttpFixture(),
      with: { extra_paths: ['/health'] },
      expect: /\/health served with 200/,
    },
    { name: 'target unreachable', target: startUnreachableTarget, status: 'error', expect: /\/docs: refused/ },
  ],
});

describe('docsPathsToProbe', () => {
  it('probes every well-known path at the root and under each prefix, once', () => {
    const paths = docsPathsToProbe(['/api/v1/', '/api/'], ['/admin']);
    expect(paths).toContain('/documentation');
    expect(paths).toContain('/api/v1/openapi.json');
    expect(paths).toContain('/api/openapi.json');
    expect(paths).toContain('/admin');
    // /api/docs is well known by itself and also /api/ + /docs: listed once.
    expect(paths.filter((path) => path === '/api/docs')).toHaveLength(1);
    expect(new Set(paths).size).toBe(paths.length);
  });
});

describe('introspectionAnswered', () => {
  it('finds the schema in data.__schema, or in schema words without errors', () => {
    expect(introspectionAnswered('{"data":{"__schema":{"types":[]}}}', false)).toBe(true);
    expect(introspectionAnswered('{"__schema":{"types":[]}}', false)).toBe(true);
    expect(introspectionAnswered('<html><title>GraphiQL</title></html>', false)).toBe(true);
  });
  it('finds none in an errors answer, even one that names __schema', () => {
    const disabled =
      '{"errors":[{"message":"GraphQL introspection is not allowed, but the query contained __schema"}]}';
    expect(introspectionAnswered(disabled, false)).toBe(false);
    expect(
      introspectionAnswered('{"data":null,"errors":[{"message":"Cannot query field \\"__schema\\""}]}', false),
    ).toBe(false);
    expect(introspectionAnswered('{"data":{"__schema":null},"errors":[]}', false)).toBe(false);
  });
  it('takes an answer longer than the probe reads for a schema', () => {
    expect(introspectionAnswered('{"errors":[', true)).toBe(true);
  });
});

describe('judgeDocsResponse', () => {
  it('fails a redirect to a docs page and passes one to a login page', () => {
    expect(judgeDocsResponse(302, '/docs/index.html')).toMatchObject({ ok: false });
    expect(judgeDocsResponse(302, '/login?next=/docs')).toMatchObject({ ok: true });
  });
  it('accepts 401, 403 and 404 and rejects 5xx', () => {
    for (const status of [401, 403, 404]) expect(judgeDocsResponse(status, undefined).ok).toBe(true);
    expect(judgeDocsResponse(500, undefined).ok).toBe(false);
  });
});
