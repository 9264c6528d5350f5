import {
  type DocsAnswer,
  type DocsProbe,
  type DocsSeen,
  judgeDocsDisabled,
} from '../../../checks/http/docs-disabled.js';
import { judgeTable } from '../../harness/judge-table.js';

const params = { prefixes: ['/api/v1/'] };
const shellDigest = 'digest of the app shell';

function answered(path: string, answer: Partial<DocsAnswer> & { status: number }): DocsProbe {
  const method = path === '/graphql' ? 'POST' : 'GET';
  return {
    method,
    path,
    request: `${method} https://127.0.0.1:8443${path}`,
    introspection: path === '/graphql',
    answer: { location: undefined, bodySha256: `digest of ${path}`, truncated: false, ...answer },
    failure: undefined,
  };
}

const refused = [
  answered('/docs', { status: 404 }),
  answered('/api/v1/openapi.json', { status: 401 }),
  answered('/graphql', { status: 400 }),
];
const seen: DocsSeen = { controlPath: '/secgate-no-such-page-0a1b', control: undefined, answers: refused };
const spa: DocsSeen['control'] = {
  status: 200,
  location: undefined,
  bodySha256: shellDigest,
  truncated: false,
  looksLikeDocs: false,
};

/** The refused sample with one more answer, behind a catch-all `control`. */
function plus(answer: DocsProbe, control: DocsSeen['control'] = undefined): DocsSeen {
  return { ...seen, control, answers: [...refused, answer] };
}

judgeTable<DocsSeen>('judgeDocsDisabled', (sample) => judgeDocsDisabled(sample, params), [
  { name: 'every docs path refused', seen, status: 'pass', expect: /^none of 3 documentation endpoints is served$/ },
  {
    name: 'Swagger UI served',
    seen: plus(answered('/swagger-ui.html', { status: 200 })),
    status: 'fail',
    expect: /^docs exposed: \/swagger-ui\.html served with 200 \(default of springfox \/ springdoc UI\)$/,
  },
  {
    name: 'the OpenAPI document under an API prefix',
    seen: plus(answered('/api/v1/docs', { status: 200 })),
    status: 'fail',
    expect: /\/api\/v1\/docs served with 200 \(default of FastAPI Swagger UI \(docs_url\), under \/api\/v1\/\)$/,
  },
  {
    name: 'a redirect into the docs',
    seen: plus(answered('/api/schema', { status: 301, location: '/api/schema/swagger-ui/' })),
    status: 'fail',
    expect: /\/api\/schema redirects \(301\) to a docs page: \/api\/schema\/swagger-ui\//,
  },
  {
    name: 'GraphQL introspection answered',
    seen: { ...seen, answers: [...refused.slice(0, 2), answered('/graphql', { status: 200 })] },
    status: 'fail',
    expect: /^docs exposed: \/graphql served with 200$/,
  },
  {
    name: 'GraphQL introspection answered: the schema is in the body',
    seen: { ...seen, answers: [...refused.slice(0, 2), answered('/graphql', { status: 200, schema: true })] },
    status: 'fail',
    expect: /^docs exposed: \/graphql served with 200$/,
  },
  {
    name: 'GraphQL with introspection disabled: 200 with errors and no schema',
    seen: { ...seen, answers: [...refused.slice(0, 2), answered('/graphql', { status: 200, schema: false })] },
    status: 'pass',
    expect: /^none of 3 documentation endpoints is served$/,
    observations: /\/graphql answered 200 with errors and no schema: introspection is disabled/,
  },
  {
    name: "a single-page app's catch-all shell is no documentation",
    seen: plus(answered('/redoc', { status: 200, bodySha256: shellDigest }), spa),
    status: 'pass',
    expect: /^none of 4 documentation endpoints is served$/,
  },
  {
    name: 'a catch-all that reads like docs earns no exemption',
    seen: plus(answered('/redoc', { status: 200, bodySha256: shellDigest }), { ...spa, looksLikeDocs: true }),
    status: 'fail',
    expect: /\/redoc served with 200/,
  },
  {
    name: 'a catch-all read only in part earns no exemption',
    seen: plus(answered('/redoc', { status: 200, bodySha256: shellDigest }), { ...spa, truncated: true }),
    status: 'fail',
    expect: /\/redoc served with 200/,
  },
  {
    name: 'a page that only starts like the catch-all is not the catch-all',
    seen: plus(answered('/redoc', { status: 200, bodySha256: undefined, truncated: true }), spa),
    status: 'fail',
    expect: /\/redoc served with 200/,
  },
  {
    name: 'a docs path without an answer',
    seen: plus({
      ...answered('/docs/', { status: 0 }),
      answer: undefined,
      failure: { kind: 'reset', code: undefined, message: 'socket hang up' },
    }),
    status: 'error',
    expect: /^could not observe: \/docs\/: reset: socket hang up$/,
  },
  {
    name: 'nothing requested: fail closed',
    seen: { ...seen, answers: [] },
    status: 'error',
    expect: /no documentation path was requested/,
  },
]);
