/** The security-headers judge on sample answers: no server, each failure mode and what was not observed. */
import { type HeadersAnswer, headersParams, judgeHeaders } from '../../../checks/http/headers.js';
import { judgeTable } from '../../harness/judge-table.js';

const params = headersParams.parse({});
const GOOD = {
  'strict-transport-security': 'max-age=31536000',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

const answer = (
  label: string,
  status: number,
  headers: Record<string, string> = GOOD,
  expect_status = status,
): HeadersAnswer => ({
  probe: { label, method: 'GET', path: `/${label.replaceAll(' ', '-')}`, expect_status },
  request: `GET https://127.0.0.1:8443/${label.replaceAll(' ', '-')}`,
  answer: { status, headers },
});
const without = (name: string) => Object.fromEntries(Object.entries(GOOD).filter(([header]) => header !== name));

judgeTable('judgeHeaders', (answers: HeadersAnswer[]) => judgeHeaders(answers, params), [
  {
    name: 'every header on a 200 and a 404',
    seen: [answer('health', 200), answer('unknown path', 404)],
    status: 'pass',
    expect: /^security headers present on all 2 responses observed \(health 200, unknown path 404\)$/,
  },
  {
    name: 'headers set on success only: the 404 lacks HSTS',
    seen: [answer('health', 200), answer('unknown path', 404, without('strict-transport-security'))],
    status: 'fail',
    expect: /Strict-Transport-Security.* on 404 responses/,
  },
  {
    name: 'a version banner',
    seen: [answer('health', 200, { ...GOOD, server: 'nginx/1.25.3' })],
    status: 'fail',
    expect: /Server/,
  },
  {
    name: 'an HSTS max-age below a year',
    seen: [answer('health', 200, { ...GOOD, 'strict-transport-security': 'max-age=300' })],
    status: 'fail',
    expect: /max-age/,
  },
  {
    name: 'a 401 that came back 200: the class was not observed, and the summary says so',
    seen: [answer('health', 200), answer('protected path without credentials', 200, GOOD, 401)],
    status: 'pass',
    expect: /no 401 response was produced, so none was checked/,
  },
  {
    name: 'a response that never came is not a pass',
    seen: [
      answer('health', 200),
      {
        ...answer('unknown path', 404),
        answer: { failure: 'timeout (UND_ERR_HEADERS_TIMEOUT)', message: 'Headers Timeout Error' },
      },
    ],
    status: 'error',
    expect: /could not observe: unknown path: timeout/,
  },
  {
    name: 'nothing asked for: nothing observed',
    seen: [],
    status: 'error',
    expect: /no response was asked for/,
  },
]);
