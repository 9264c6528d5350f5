/**
 * auth.token-transport's judge, on sample observations: no service, no database. Each row is what a
 * probe could have seen; the verdict and the phrase that names the break come from the judge alone.
 */
import { describe, expect, it } from 'vitest';
import {
  judgeTokenTransport,
  missingCookieFlags,
  type SeenCookie,
  type TokenTransportSeen,
} from '../../../checks/auth/token-transport.js';
import { judgeTable } from '../../harness/judge-table.js';

const params = { refused_statuses: [401, 403], query_parameters: ['token', 'access_token'] };
const flagged = 'Path=/; HttpOnly; Secure; SameSite=Lax';
const fingerprint = { length: 300, sha256: 'abcdef012345' };

const tokenRefused = { parameter: 'token', answer: { status: 401, shown: { status: 401, body: '' } } };
const refusedInQuery: TokenTransportSeen['inQuery'] = [
  tokenRefused,
  { parameter: 'access_token', answer: { status: 401, shown: { status: 401, body: '' } } },
];
const login = {
  step: 'login',
  locations: [],
  cookies: [{ name: 'csrftoken', attributes: 'Path=/', carriesCredential: false, clears: false }],
};
const mfa = { step: 'mfa_verify', locations: [], cookies: [] };

const seen: TokenTransportSeen = {
  mePath: '/me',
  steps: [
    login,
    {
      step: 'mfa_verify',
      locations: [{ shown: '/home', carriesCredential: false }],
      cookies: [{ name: 'sessionid', attributes: flagged, carriesCredential: true, clears: false }],
    },
  ],
  baselineStatus: 200,
  credential: fingerprint,
  inQuery: refusedInQuery,
  unobserved: undefined,
};

/** The sample with the mfa_verify step's cookie replaced. */
function withCookie(cookie: SeenCookie): TokenTransportSeen {
  return { ...seen, steps: [login, { ...mfa, cookies: [cookie] }] };
}

judgeTable<TokenTransportSeen>('judgeTokenTransport', (sample) => judgeTokenTransport(sample, params), [
  {
    name: 'tokens in bodies and flagged cookies, refused in the query string',
    seen,
    status: 'pass',
    expect: /^tokens only in bodies or protected cookies; none in a URL; a token in the query string is refused$/,
  },
  {
    name: 'the token read from the query string',
    seen: {
      ...seen,
      inQuery: [tokenRefused, { parameter: 'access_token', answer: { status: 200, shown: { status: 200 } } }],
    },
    status: 'fail',
    expect: /^token accepted from the URL query \?access_token= \(200\)$/,
  },
  {
    name: 'a redirect with a token-named parameter',
    seen: {
      ...seen,
      steps: [{ ...mfa, locations: [{ shown: '/cb?access_token=[redacted]', carriesCredential: false }] }],
    },
    status: 'fail',
    expect: /^token in a URL: the mfa_verify response redirects to \/cb\?access_token=\[redacted\]$/,
  },
  {
    name: 'a redirect carrying the credential under another name',
    seen: { ...seen, steps: [{ ...mfa, locations: [{ shown: '/cb#s=[redacted len=40]', carriesCredential: true }] }] },
    status: 'fail',
    expect: /token in a URL: the mfa_verify response redirects to \/cb#s=/,
  },
  {
    name: 'a session cookie scripts can read',
    seen: withCookie({
      name: 'sessionid',
      attributes: 'Path=/; Secure; SameSite=Strict',
      carriesCredential: true,
      clears: false,
    }),
    status: 'fail',
    expect: /^credential cookie sessionid lacks HttpOnly$/,
  },
  {
    name: 'a cookie holding the token under an innocent name, unflagged',
    seen: withCookie({ name: 'prefs', attributes: 'Path=/', carriesCredential: true, clears: false }),
    status: 'fail',
    expect: /^credential cookie prefs lacks HttpOnly, Secure, SameSite$/,
  },
  {
    name: 'a cookie named like a credential, even without the value',
    seen: withCookie({ name: 'auth_hint', attributes: 'Path=/; HttpOnly', carriesCredential: false, clears: false }),
    status: 'fail',
    expect: /^credential cookie auth_hint lacks Secure, SameSite$/,
  },
  {
    name: 'a credential cookie cleared by a bare deletion line: nothing to protect',
    seen: withCookie({ name: 'sessionid', attributes: 'Max-Age=0; Path=/', carriesCredential: false, clears: true }),
    status: 'pass',
    expect: /^tokens only in bodies/,
  },
  {
    name: 'a line that expires the cookie yet carries the credential is judged',
    seen: withCookie({ name: 'sessionid', attributes: 'Max-Age=0; Path=/', carriesCredential: true, clears: true }),
    status: 'fail',
    expect: /^credential cookie sessionid lacks HttpOnly, Secure, SameSite$/,
  },
  {
    name: 'an anti-CSRF cookie is meant to be read by scripts',
    seen: withCookie({ name: 'XSRF-TOKEN', attributes: 'Path=/', carriesCredential: false, clears: false }),
    status: 'pass',
    expect: /^tokens only in bodies/,
  },
  {
    name: 'the real token does not work in the Authorization header: nothing is proven',
    seen: { ...seen, baselineStatus: 401, inQuery: [] },
    status: 'error',
    expect: /^could not observe a working baseline: the real token got 401 in the Authorization header$/,
  },
  {
    name: 'the flow broke before anything was judged',
    seen: {
      ...seen,
      steps: [],
      baselineStatus: undefined,
      inQuery: [],
      unobserved: 'token transport: login answered 500',
    },
    status: 'error',
    expect: /^could not observe token transport: login answered 500$/,
  },
  {
    name: 'a query parameter never offered: fail closed',
    seen: { ...seen, inQuery: refusedInQuery.slice(0, 1) },
    status: 'error',
    expect: /^could not observe a token in the URL query: \?access_token= not offered$/,
  },
]);

describe('judgeTokenTransport', () => {
  it('names the token by its fingerprint in the query-string probes', () => {
    const outcome = judgeTokenTransport(seen, params);
    expect(outcome.observations.map((observation) => observation.probe)).toContain(
      'GET /me?token={"length":300,"sha256":"abcdef012345"} without Authorization',
    );
  });

  it.each([
    ['sessionid=v; Path=/; HttpOnly; Secure; SameSite=Lax', []],
    ['sessionid=v; httponly; secure; samesite=none', []],
    ['sessionid=v; HttpOnly; SameSite=Lax', ['Secure']],
    ['sessionid=v; HttpOnly; Secure; SameSite=Sometimes', ['SameSite']],
  ])('missingCookieFlags(%s)', (line, missing) => {
    expect(missingCookieFlags(line)).toEqual(missing);
  });
});
