import { type CorsAnswer, type CorsSeen, judgeCorsAnswers } from '../../../checks/http/cors.js';
import { judgeTable } from '../../harness/judge-table.js';

const derived = [
  { origin: 'https://evil127.0.0.1', why: 'a foreign name ending in the target host (suffix test)' },
  { origin: 'http://127.0.0.1:8443', why: 'the target host over plain http (a test that ignores the scheme)' },
];
const origins = ['https://evil.example', 'null', ...derived.map((entry) => entry.origin)];
const prefixed = 'https://app.example.evil.example';
const allowedDerived = [
  { origin: prefixed, why: 'the allowed origin https://app.example with a foreign domain after it (prefix test)' },
];

function answered(
  kind: CorsAnswer['kind'],
  origin: string,
  allowOrigin?: string,
  allowCredentials?: string,
): CorsAnswer {
  const method = kind === 'preflight' ? 'OPTIONS' : 'GET';
  return {
    kind,
    method,
    path: '/health',
    origin,
    request: `${method} https://127.0.0.1:8443/health`,
    answer: { status: kind === 'preflight' ? 204 : 200, allowOrigin, allowCredentials },
    failure: undefined,
  };
}

const closed = origins.flatMap((origin) => [answered('preflight', origin), answered('simple request', origin)]);
const seen: CorsSeen = { origins, derived, allowedDerived: [], answers: closed };
const withAllowed: CorsSeen = {
  origins: [...origins, ...allowedDerived.map((entry) => entry.origin)],
  derived,
  allowedDerived,
  answers: [...closed, answered('preflight', prefixed), answered('simple request', prefixed)],
};

/** The closed sample with one more answer. */
function plus(answer: CorsAnswer): CorsSeen {
  return { ...seen, answers: [...closed, answer] };
}

judgeTable<CorsSeen>('judgeCorsAnswers', (sample) => judgeCorsAnswers(sample, { paths: ['/health'] }), [
  {
    name: 'no foreign origin granted anything',
    seen,
    status: 'pass',
    expect: /^none of 4 foreign origins \(2 derived from the target host\) granted access on 1 paths \(8 requests\)$/,
  },
  {
    name: 'a public wildcard without credentials',
    seen: plus(answered('simple request', 'https://evil.example', '*')),
    status: 'pass',
    expect: /^none of 4 foreign origins/,
  },
  {
    name: 'an allow-list of its own frontend',
    seen: plus(answered('preflight', 'null', 'https://app.example', 'true')),
    status: 'pass',
    expect: /^none of 4 foreign origins/,
  },
  {
    name: 'the null origin reflected',
    seen: plus(answered('simple request', 'null', 'null')),
    status: 'fail',
    expect: /^simple request GET \/health: reflects foreign origin null in Access-Control-Allow-Origin$/,
  },
  {
    name: 'a wildcard with credentials',
    seen: plus(answered('preflight', 'https://evil.example', '*', 'true')),
    status: 'fail',
    expect: /^preflight OPTIONS \/health: Access-Control-Allow-Origin \* with Access-Control-Allow-Credentials: true$/,
  },
  {
    name: 'a derived origin let in by a suffix test, with the test named',
    seen: plus(answered('preflight', 'https://evil127.0.0.1', 'https://evil127.0.0.1', 'true')),
    status: 'fail',
    expect:
      /reflects foreign origin https:\/\/evil127\.0\.0\.1 in Access-Control-Allow-Origin with credentials: a foreign name ending in the target host \(suffix test\)$/,
  },
  {
    name: 'origins derived from allowed_origins, none granted',
    seen: withAllowed,
    status: 'pass',
    expect:
      /^none of 5 foreign origins \(2 derived from the target host, 1 from allowed_origins\) granted access on 1 paths \(10 requests\)$/,
  },
  {
    name: "an origin derived from the frontend's let in by a prefix test, with the allowed origin named",
    seen: {
      ...withAllowed,
      answers: [...withAllowed.answers, answered('preflight', prefixed, prefixed, 'true')],
    },
    status: 'fail',
    expect:
      /^preflight OPTIONS \/health: reflects foreign origin https:\/\/app\.example\.evil\.example in Access-Control-Allow-Origin with credentials: the allowed origin https:\/\/app\.example with a foreign domain after it \(prefix test\)$/,
  },
  {
    name: 'a request without an answer',
    seen: plus({
      ...answered('preflight', 'null'),
      answer: undefined,
      failure: { kind: 'timeout', code: 'UND_ERR_HEADERS_TIMEOUT', message: 'x' },
    }),
    status: 'error',
    expect: /^could not observe: OPTIONS https:\/\/127\.0\.0\.1:8443\/health: timeout \(UND_ERR_HEADERS_TIMEOUT\)$/,
  },
  {
    name: 'nothing sent: fail closed',
    seen: { ...seen, answers: [] },
    status: 'error',
    expect: /no request was sent/,
  },
]);
