import {
  judgeRedirects,
  type RedirectBodyFacts,
  type RedirectProbe,
  type RedirectSeen,
} from '../../../checks/http/redirect.js';
import type { HttpFailure } from '../../../src/probes/http-attempt.js';
import { judgeTable } from '../../harness/judge-table.js';

const params = {
  paths: ['/', '/health'],
  statuses: [301, 308],
  allow_refused: true,
  allowed_hosts: [],
  max_body_bytes: 4096,
};
const moved: RedirectBodyFacts = { bytes: 0, truncated: false, carriesHttpsPageBytes: undefined };

function answered(path: string, status: number, location?: string, body = moved): RedirectProbe {
  return {
    method: 'GET',
    path,
    url: `http://app.example:8080${path}`,
    answer: { status, location, body },
    failure: undefined,
  };
}
function unanswered(path: string, failure: HttpFailure): RedirectProbe {
  return { method: 'GET', path, url: `http://app.example:8080${path}`, answer: undefined, failure };
}
/** A POST to /login over plain HTTP, answered `status`. */
function posted(status: number, location?: string): RedirectProbe {
  return {
    method: 'POST',
    path: 'POST /login',
    url: 'http://app.example:8080/login',
    answer: { status, location, body: moved },
    failure: undefined,
  };
}

const refusedFailure: HttpFailure = { kind: 'refused', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' };
const redirecting = [
  answered('/', 301, 'https://app.example:8443/'),
  answered('/health', 308, 'https://app.example:8443/health'),
];
const seen: Extract<RedirectSeen, { httpsUrl: string }> = {
  httpUrl: 'http://app.example:8080',
  httpsUrl: 'https://app.example:8443',
  answers: redirecting,
};

/** The redirecting sample with /health answered otherwise. */
function health(answer: RedirectProbe): RedirectSeen {
  return { ...seen, answers: [redirecting[0] ?? answer, answer] };
}

judgeTable<RedirectSeen, typeof params>('judgeRedirects', (sample, given) => judgeRedirects(sample, given ?? params), [
  {
    name: 'permanent redirects to the HTTPS endpoint, path kept',
    seen,
    status: 'pass',
    expect: /^plain HTTP redirects to HTTPS on the same host and path \(2 paths\)$/,
  },
  {
    name: 'nothing listens for plain HTTP',
    seen: { ...seen, answers: [unanswered('/', refusedFailure), unanswered('/health', refusedFailure)] },
    status: 'pass',
    expect: /^plain HTTP refused on http:\/\/app\.example:8080$/,
  },
  {
    name: 'refused, but refusal is not allowed',
    seen: { ...seen, answers: [unanswered('/', refusedFailure), unanswered('/health', refusedFailure)] },
    with: { ...params, allow_refused: false },
    status: 'fail',
    expect: /^plain HTTP is not safely redirected: \/: connection refused; \/health: connection refused$/,
  },
  {
    name: 'a POST redirected temporarily, as a POST may be',
    seen: { ...seen, answers: [...redirecting, posted(307, 'https://app.example:8443/login')] },
    status: 'pass',
    expect:
      /^plain HTTP redirects to HTTPS on the same host and path \(2 paths; a request with a body redirected or refused\)$/,
  },
  {
    name: 'a POST refused over plain HTTP',
    seen: { ...seen, answers: [...redirecting, posted(405)] },
    status: 'pass',
    expect: /a request with a body redirected or refused/,
  },
  {
    name: 'a POST taken over plain HTTP',
    seen: { ...seen, answers: [...redirecting, posted(200)] },
    status: 'fail',
    expect:
      /^plain HTTP is not safely redirected: POST \/login: served 200 to a POST over plain HTTP instead of redirecting or refusing it$/,
  },
  {
    name: 'a POST answered "see other": processed, then redirected',
    seen: { ...seen, answers: [...redirecting, posted(303, 'https://app.example:8443/')] },
    status: 'fail',
    expect: /POST \/login: served 303 to a POST over plain HTTP instead of redirecting or refusing it$/,
  },
  {
    name: 'a POST redirected to plain HTTP',
    seen: { ...seen, answers: [...redirecting, posted(308, 'http://app.example:8443/login')] },
    status: 'fail',
    expect: /POST \/login: redirects to http:\/\/ instead of https:\/\/$/,
  },
  {
    name: 'content served over plain HTTP',
    seen: health(answered('/health', 200)),
    status: 'fail',
    expect: /\/health: served 200 over plain HTTP instead of redirecting$/,
  },
  {
    name: 'a temporary redirect',
    seen: health(answered('/health', 302, 'https://app.example:8443/health')),
    status: 'fail',
    expect: /\/health: redirect status 302 is not one of 301, 308$/,
  },
  {
    name: 'a redirect to another host',
    seen: health(answered('/health', 301, 'https://evil.example:8443/health')),
    status: 'fail',
    expect: /\/health: redirects to another host: evil\.example \(expected app\.example\)$/,
  },
  {
    name: 'a redirect that drops the path',
    seen: health(answered('/health', 301, 'https://app.example:8443/')),
    status: 'fail',
    expect: /redirect changes the path: \/health became \/$/,
  },
  {
    name: 'a redirect whose body carries the HTTPS page',
    seen: health(
      answered('/health', 301, 'https://app.example:8443/health', { ...moved, bytes: 60, carriesHttpsPageBytes: 15 }),
    ),
    status: 'fail',
    expect: /carries the page the HTTPS endpoint serves for this path \(15 bytes\) in clear text$/,
  },
  {
    name: 'a redirect with a page-sized body',
    seen: health(answered('/health', 301, 'https://app.example:8443/health', { ...moved, bytes: 9000 })),
    status: 'fail',
    expect: /the redirect's body is 9000 bytes \(at most 4096\): a redirect carries no page$/,
  },
  {
    name: 'a timeout proves nothing',
    seen: health(unanswered('/health', { kind: 'timeout', code: 'UND_ERR_CONNECT_TIMEOUT', message: 'x' })),
    status: 'error',
    expect: /^could not observe the plain-HTTP endpoint: \/health: timeout \(UND_ERR_CONNECT_TIMEOUT\)$/,
  },
  {
    name: 'no plain-HTTP URL in the checklist',
    seen: { httpUrl: undefined },
    status: 'error',
    expect: /^target\.http_url is not set/,
  },
  {
    name: 'nothing requested: fail closed',
    seen: { ...seen, answers: [] },
    status: 'error',
    expect: /no path was requested/,
  },
]);
