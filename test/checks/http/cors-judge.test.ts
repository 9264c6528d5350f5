/**
 * http.cors' whole judge, on sample observations: no server. Each row is what a probe could have
 * seen; the verdict and the phrase that names the break come from the judge alone (judgeCors, the
 * verdict on one answer, has its own cases in cors.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { type CorsAnswer, type CorsSeen, judgeCorsAnswers } from '../../../checks/http/cors.js';
import type { CheckStatus } from '../../../src/engine/types.js';

const derived = [
  { origin: 'https://evil127.0.0.1', why: 'a foreign name ending in the target host (suffix test)' },
  { origin: 'http://127.0.0.1:8443', why: 'the target host over plain http (a test that ignores the scheme)' },
];
const origins = ['https://evil.example', 'null', ...derived.map((entry) => entry.origin)];

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
const seen: CorsSeen = { origins, derived, answers: closed };

/** The closed sample with one more answer. */
function plus(answer: CorsAnswer): CorsSeen {
  return { ...seen, answers: [...closed, answer] };
}

const cases: { name: string; seen: CorsSeen; status: CheckStatus; phrase: RegExp }[] = [
  {
    name: 'no foreign origin granted anything',
    seen,
    status: 'pass',
    phrase: /^none of 4 foreign origins \(2 derived from the target host\) granted access on 1 paths \(8 requests\)$/,
  },
  {
    name: 'a public wildcard without credentials',
    seen: plus(answered('simple request', 'https://evil.example', '*')),
    status: 'pass',
    phrase: /^none of 4 foreign origins/,
  },
  {
    name: 'an allow-list of its own frontend',
    seen: plus(answered('preflight', 'null', 'https://app.example', 'true')),
    status: 'pass',
    phrase: /^none of 4 foreign origins/,
  },
  {
    name: 'the null origin reflected',
    seen: plus(answered('simple request', 'null', 'null')),
    status: 'fail',
    phrase: /^simple request GET \/health: reflects foreign origin null in Access-Control-Allow-Origin$/,
  },
  {
    name: 'a wildcard with credentials',
    seen: plus(answered('preflight', 'https://evil.example', '*', 'true')),
    status: 'fail',
    phrase: /^preflight OPTIONS \/health: Access-Control-Allow-Origin \* with Access-Control-Allow-Credentials: true$/,
  },
  {
    name: 'a derived origin let in by a suffix test, with the test named',
    seen: plus(answered('preflight', 'https://evil127.0.0.1', 'https://evil127.0.0.1', 'true')),
    status: 'fail',
    phrase:
      /reflects foreign origin https:\/\/evil127\.0\.0\.1 in Access-Control-Allow-Origin with credentials: a foreign name ending in the target host \(suffix test\)$/,
  },
  {
    name: 'a request without an answer',
    seen: plus({
      ...answered('preflight', 'null'),
      answer: undefined,
      failure: { kind: 'timeout', code: 'UND_ERR_HEADERS_TIMEOUT', message: 'x' },
    }),
    status: 'error',
    phrase: /^could not observe: OPTIONS https:\/\/127\.0\.0\.1:8443\/health: timeout \(UND_ERR_HEADERS_TIMEOUT\)$/,
  },
  {
    name: 'nothing sent: fail closed',
    seen: { ...seen, answers: [] },
    status: 'error',
    phrase: /no request was sent/,
  },
];

describe('judgeCorsAnswers', () => {
  it.each(cases)('$name', ({ seen: sample, status, phrase }) => {
    const outcome = judgeCorsAnswers(sample, { paths: ['/health'] });
    expect(outcome.status).toBe(status);
    expect(outcome.summary).toMatch(phrase);
  });
});
