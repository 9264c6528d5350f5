/**
 * http.auth-required's judge, on sample observations: no server. Each row is what a probe could have
 * seen; the verdict and the phrase that names the break come from the judge alone.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type AuthProbeSeen, judgeAuthRequired } from '../../../checks/http/auth-required.js';
import { judgeTable } from '../../harness/judge-table.js';

const params: Parameters<typeof judgeAuthRequired>[1] = {
  rejection_statuses: [401],
  variants: ['head', 'case'],
  public: ['/health'],
  protected: [{ path: '/api/v1/users/me', methods: ['GET'] }],
  prefixes: ['/api/v1/'],
};

function request(
  kind: AuthProbeSeen['kind'],
  method: string,
  path: string,
  credentialLabel: string,
  status: number | undefined,
  body = '{"error":"unauthorized"}',
  contentType = 'application/json; charset=utf-8',
): AuthProbeSeen {
  return {
    kind,
    method,
    path,
    request: `${method} https://127.0.0.1:8443${path}`,
    credentialLabel,
    credential:
      credentialLabel === 'no credentials'
        ? credentialLabel
        : { kind: credentialLabel, length: 40, sha256: '0a1b2c3d4e5f' },
    expected: kind === 'variant' ? [] : kind === 'public' ? [200] : [401],
    status,
    body: status === undefined ? undefined : { text: body, truncated: false, contentType },
    failure: undefined,
  };
}

const me = '/api/v1/users/me';
const secure: AuthProbeSeen[] = [
  request('protected', 'GET', me, 'no credentials', 401),
  request('protected', 'GET', me, 'garbage bearer token', 401),
  request('protected', 'GET', me, 'tampered JWT (alg none, no signature)', 401),
  request('unknown-sub-path', 'GET', '/api/v1/secgate-unknown-0a1b', 'no credentials', 401),
  request('variant', 'HEAD', me, 'no credentials', 401),
  request('variant', 'GET', '/API/V1/USERS/ME', 'no credentials', 404),
  request('public', 'GET', '/health', 'no credentials', 200, '{"status":"ok"}'),
  // The yardsticks for the forged credentials' rejection bodies.
  request('unknown-sub-path', 'GET', '/api/v1/secgate-unknown-0a1b', 'garbage bearer token', 401),
  request('unknown-sub-path', 'GET', '/api/v1/secgate-unknown-0a1b', 'tampered JWT (alg none, no signature)', 401),
];

/** A single-page app's shell, as its catch-all serves it for any unknown path. */
const shell = '<!doctype html><html><head><title>Notes</title></head><body><div id="root"></div></body></html>';
const html = 'text/html; charset=utf-8';
const catchAll = (text = shell, contentType = html, truncated = false): AuthProbeSeen => ({
  ...request('catch-all', 'GET', '/secgate-no-such-page-0a1b', 'no credentials', 200, text, contentType),
  expected: [],
  body: { text, truncated, contentType },
});
/** The secure sample with the capitalised spelling answered 200 with `text`, and the catch-all's answer. */
function spa(text = shell, contentType = html, control = catchAll()): AuthProbeSeen[] {
  const capitalised = request('variant', 'GET', '/API/V1/USERS/ME', 'no credentials', 200, text, contentType);
  return [...secure.map((probe, at) => (at === 5 ? capitalised : probe)), control];
}

/**
 * The shell as a server that sets a CSP nonce and a CSRF token renders it: both differ on every
 * response, so they are made here, at run time, never written down.
 */
const noncedShell = (): string => {
  const nonce = randomBytes(18).toString('base64');
  const csrf = randomBytes(24).toString('base64url');
  return shell
    .replace('</head>', `<meta name="csrf-token" content="${csrf}"></head>`)
    .replace('</body>', `<script nonce="${nonce}" src="/assets/index.js"></script></body>`);
};

/** nginx's stock 403 page, as a proxy in front of the app answers a spelling it refuses. */
const nginx403 =
  '<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
/** The secure sample with the capitalised spelling refused by a proxy in front of the app. */
const proxyRefused = secure.map((probe, at) =>
  at === 5 ? request('variant', 'GET', '/API/V1/USERS/ME', 'no credentials', 403, nginx403, 'text/html') : probe,
);

/** The secure sample with the request at `index` answered `status`. */
function answering(index: number, status: number): AuthProbeSeen[] {
  return secure.map((probe, at) => (at === index ? { ...probe, status } : probe));
}

judgeTable<AuthProbeSeen[], typeof params>(
  'judgeAuthRequired',
  (seen, given) => judgeAuthRequired(seen, given ?? params),
  [
    {
      name: 'everything rejected, variants not served, health reachable',
      seen: secure,
      status: 'pass',
      expect:
        /^6 unauthenticated or forged requests rejected with 401; 2 other spellings \(head, case\) not served; 1 public path reachable$/,
    },
    {
      name: 'no credentials accepted',
      seen: answering(0, 200),
      status: 'fail',
      expect: /^GET \/api\/v1\/users\/me accepted no credentials \(200\)$/,
    },
    {
      name: 'a forged token accepted',
      seen: answering(2, 200),
      status: 'fail',
      expect: /^GET \/api\/v1\/users\/me accepted tampered JWT \(alg none, no signature\) \(200\)$/,
    },
    {
      name: 'refused, but not with a rejection status',
      seen: answering(1, 500),
      status: 'fail',
      expect: /^GET \/api\/v1\/users\/me answered 500 to garbage bearer token, expected 401$/,
    },
    {
      name: 'routing before authentication',
      seen: answering(3, 404),
      status: 'fail',
      expect:
        /^unknown sub-path \/api\/v1\/secgate-unknown-0a1b answered 404 instead of 401: routing runs before authentication$/,
    },
    {
      name: 'another spelling skips authentication',
      seen: answering(5, 200),
      status: 'fail',
      expect:
        /^GET \/API\/V1\/USERS\/ME answered 200 without credentials: this spelling of a protected path skips authentication$/,
    },
    {
      name: "a spelling answers the app's shell, byte for byte the page of a path that cannot exist",
      seen: spa(),
      status: 'pass',
      expect:
        /^6 unauthenticated or forged requests rejected with 401; 2 other spellings \(head, case\) not served \(1 answered the app's shell, the page of a path that cannot exist\); 1 public path reachable$/,
    },
    {
      name: 'a shell with a per-response CSP nonce and CSRF token is still the shell',
      seen: spa(noncedShell(), html, catchAll(noncedShell())),
      status: 'pass',
      expect:
        /not served \(1 answered the app's shell, the page of a path that cannot exist\); 1 public path reachable$/,
    },
    {
      name: 'a nonced shell that renders the user is not the shell',
      seen: spa(
        noncedShell().replace('</body>', '<script>window.__DATA__={"id":1}</script></body>'),
        html,
        catchAll(noncedShell()),
      ),
      status: 'fail',
      expect: /^GET \/API\/V1\/USERS\/ME answered 200 without credentials: this spelling of a protected path skips/,
    },
    {
      name: 'a spelling answers a page like the shell, but with the resource in it',
      seen: spa(shell.replace('</body>', '<script>window.__DATA__={"id":1}</script></body>')),
      status: 'fail',
      expect: /^GET \/API\/V1\/USERS\/ME answered 200 without credentials: this spelling of a protected path skips/,
    },
    {
      name: "the shell's bytes under another Content-Type are not the shell",
      seen: spa(shell, 'text/plain'),
      status: 'fail',
      expect: /^GET \/API\/V1\/USERS\/ME answered 200 without credentials/,
    },
    {
      name: 'a catch-all that answers JSON is never a shell: the same JSON on a spelling fails',
      seen: spa('{"id":1,"username":"alice"}', html, catchAll('{"id":1,"username":"alice"}')),
      status: 'fail',
      expect: /^GET \/API\/V1\/USERS\/ME answered 200 without credentials/,
    },
    {
      name: 'a catch-all read only in part is no yardstick',
      seen: spa(shell, html, catchAll(shell, html, true)),
      status: 'fail',
      expect: /^GET \/API\/V1\/USERS\/ME answered 200 without credentials/,
    },
    {
      name: "the protected path's own spelling (HEAD) never passes for the shell",
      seen: [
        ...secure.map((probe, at) =>
          at === 4 ? request('variant', 'HEAD', me, 'no credentials', 200, shell, html) : probe,
        ),
        catchAll(),
      ],
      status: 'fail',
      expect: /^HEAD \/api\/v1\/users\/me answered 200 without credentials: this spelling of a protected path skips/,
    },
    {
      name: 'the public path locked',
      seen: answering(6, 401),
      status: 'fail',
      expect: /^public path \/health answered 401, expected 200$/,
    },
    {
      name: 'a 401 that carries the protected resource',
      seen: secure.map((probe, at) =>
        at === 0
          ? {
              ...probe,
              body: { text: '{"id":1,"username":"alice","role":"admin"}', truncated: false, contentType: undefined },
            }
          : probe,
      ),
      status: 'fail',
      expect:
        /^GET \/api\/v1\/users\/me answered 401 to no credentials with a body like the served resource: 42 bytes with fields \(id, username, role\) that the rejection of an unknown path \(24 bytes\) lacks$/,
    },
    {
      name: 'a 401 to another spelling that carries a page, where the rejection of an unknown path is a page too',
      seen: secure.map((probe, at) =>
        at === 3
          ? { ...probe, body: { text: '<h1>401 Unauthorized</h1>', truncated: false, contentType: 'text/html' } }
          : at === 4
            ? {
                ...probe,
                body: { text: `<pre>${'note '.repeat(40)}</pre>`, truncated: false, contentType: 'text/html' },
              }
            : probe,
      ),
      status: 'fail',
      expect:
        /^HEAD \/api\/v1\/users\/me answered 401 to no credentials with a body like the served resource: 211 bytes, where the rejection of an unknown path has 25$/,
    },
    {
      name: "a spelling refused by a proxy with its own 403 page, where the app's rejection is JSON: another layer",
      seen: proxyRefused,
      with: { ...params, rejection_statuses: [401, 403] },
      status: 'pass',
      expect: /^6 unauthenticated or forged requests rejected with 401\/403; 2 other spellings/,
    },
    {
      name: 'a route-level JSON error with a documentation link beside its message',
      seen: secure.map((probe, at) =>
        at === 0
          ? {
              ...probe,
              body: {
                text: '{"message":"Requires authentication","documentation_url":"https://docs.example.com/rest"}',
                truncated: false,
                contentType: 'application/json',
              },
            }
          : probe,
      ),
      status: 'pass',
      expect: /^6 unauthenticated or forged requests rejected with 401/,
    },
    {
      name: 'each credential measured against its own rejection: a longer message for a bad token is no leak',
      // Django REST framework + simplejwt: a bad token gets more fields than no token at all.
      seen: secure.map((probe, at) =>
        at === 1 || at === 7
          ? {
              ...probe,
              body: {
                text: '{"detail":"Given token not valid","code":"token_not_valid","messages":[]}',
                truncated: false,
                contentType: 'application/json',
              },
            }
          : probe,
      ),
      status: 'pass',
      expect: /^6 unauthenticated or forged requests rejected with 401/,
    },
    {
      name: 'a forged credential never sent to an unknown path: its rejection body has no yardstick',
      seen: secure.slice(0, 8),
      status: 'error',
      expect:
        /^could not observe: rejection bodies with tampered JWT \(alg none, no signature\) not compared: no unknown path under a protected prefix was requested with it$/,
    },
    {
      name: 'a request without an answer',
      seen: [
        ...secure.slice(1),
        {
          ...request('protected', 'GET', me, 'no credentials', undefined),
          failure: { kind: 'refused', code: 'ECONNREFUSED', message: 'x' },
        },
      ],
      status: 'error',
      expect: /^could not observe: GET https:\/\/127\.0\.0\.1:8443\/api\/v1\/users\/me: refused \(ECONNREFUSED\)$/,
    },
    {
      name: 'no protected request at all: fail closed',
      seen: secure.filter((probe) => probe.kind !== 'protected'),
      status: 'error',
      expect: /no protected path was requested/,
    },
    {
      name: 'a protected route the checklist names was never requested',
      seen: secure,
      with: { ...params, protected: [...params.protected, { path: '/api/v1/notes', methods: ['GET', 'POST'] }] },
      status: 'error',
      expect: /^could not observe: GET \/api\/v1\/notes: not requested; POST \/api\/v1\/notes: not requested$/,
    },
    {
      name: 'the public path never requested: nothing says it is reachable',
      seen: secure.filter((probe) => probe.kind !== 'public'),
      status: 'error',
      expect: /^could not observe: public path \/health: not requested$/,
    },
    {
      name: 'no protected prefix: rejection bodies have no yardstick',
      seen: secure.filter((probe) => probe.kind !== 'unknown-sub-path'),
      with: { ...params, prefixes: [] },
      status: 'error',
      expect: /^could not observe: no protected prefix: rejection bodies have nothing to be compared with/,
    },
    {
      name: 'no unknown path under a prefix requested',
      seen: secure.filter((probe) => probe.kind !== 'unknown-sub-path'),
      status: 'error',
      expect: /^could not observe: an unknown path under \/api\/v1\/: not requested$/,
    },
  ],
);

describe('judgeAuthRequired', () => {
  it('shows a forged token by its fingerprint, never its value', () => {
    const outcome = judgeAuthRequired(secure, params);
    expect(outcome.observations[1]?.actual).toEqual({
      credential: { kind: 'garbage bearer token', length: 40, sha256: '0a1b2c3d4e5f' },
      status: 401,
      body_bytes: 24,
    });
  });

  it('says a spelling refused with a page of another content type was answered by another layer', () => {
    const outcome = judgeAuthRequired(proxyRefused, { ...params, rejection_statuses: [401, 403] });
    expect(outcome.observations[5]?.note).toBe('not served (403); answered by another layer (text/html)');
  });
});
