import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import httpRedirect, { judgeRedirect, judgeRedirectBody, plainHttpRequests } from '../../../checks/http/redirect.js';
import { startPathFixture } from '../../../fixtures/http/path-servers.js';
import { startHttpFixture } from '../../../fixtures/http/servers.js';
import { type TargetHandle, testCheck } from '../../harness/check-tester.js';

/**
 * http_url names a port that refuses, while the port browsers try (here a random port standing
 * in for 80) serves the application over plain HTTP.
 */
let standardPort = 0;
async function refusedButStandardPortServes(): Promise<TargetHandle> {
  const fixture = await startHttpFixture({ plainHttp: 'refused' });
  const plain = createServer((_request, response) => response.end('served over plain HTTP'));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  standardPort = (plain.address() as AddressInfo).port;
  return {
    context: fixture.context,
    async close() {
      plain.closeAllConnections();
      await new Promise<void>((resolve) => plain.close(() => resolve()));
      await fixture.close();
    },
  };
}

import { validTargets } from './valid-targets.js';

testCheck(httpRedirect, {
  valid: [
    ...validTargets(),
    { name: 'no plain-HTTP listener (connection refused)', target: () => startHttpFixture({ plainHttp: 'refused' }) },
    { name: 'a listener that redirects every path and the POST', target: () => startPathFixture() },
    {
      name: 'a listener that redirects every path, the login path of the auth mapping too',
      target: async () => {
        const fixture = await startPathFixture();
        return { ...fixture, context: { ...fixture.context, auth: { login: { path: '/api/v1/auth/login' } } } };
      },
    },
  ],
  invalid: [
    {
      name: 'a listener that redirects only the routes it knows',
      target: () => startPathFixture({ flaw: 'redirects-known-paths-only' }),
      expect: /\/secgate-[0-9a-f]{12}: served 200 over plain HTTP instead of redirecting/,
    },
    {
      name: 'a listener that redirects only the routes it knows: the login path of the auth mapping',
      target: async () => {
        const fixture = await startPathFixture({ flaw: 'redirects-known-paths-only' });
        return { ...fixture, context: { ...fixture.context, auth: { login: { path: '/api/v1/auth/login' } } } };
      },
      expect:
        /; \/api\/v1\/auth\/login: served 200 over plain HTTP instead of redirecting; POST \/api\/v1\/auth\/login: served 200 to a POST over plain HTTP instead of redirecting or refusing it$/,
    },
    {
      name: 'a listener that redirects GETs and takes a POST',
      target: () => startPathFixture({ flaw: 'plain-http-takes-post' }),
      expect:
        /^plain HTTP is not safely redirected: POST \/secgate-[0-9a-f]{12}: served 200 to a POST over plain HTTP instead of redirecting or refusing it$/,
    },
    {
      name: 'http_url refuses, but the standard port serves plain HTTP',
      target: refusedButStandardPortServes,
      get with() {
        return { standard_port: standardPort };
      },
      expect: /\/ on standard port \d+: served 200 over plain HTTP instead of redirecting/,
    },
    {
      name: 'plain HTTP serves 200',
      target: () => startHttpFixture({ flaw: 'plain-http-serves-200' }),
      expect: /served 200 over plain HTTP instead of redirecting/,
    },
    {
      name: 'redirect to another host',
      target: () => startHttpFixture({ flaw: 'redirect-to-other-host' }),
      expect: /redirects to another host: evil\.example/,
    },
    {
      name: 'redirect to http',
      target: () => startHttpFixture({ flaw: 'redirect-to-http' }),
      expect: /redirects to http:\/\/ instead of https:\/\//,
    },
    {
      name: 'redirect to the same host on another port than the HTTPS endpoint',
      target: () => startHttpFixture({ flaw: 'redirect-to-other-port' }),
      expect: /redirects to port 443, not the HTTPS endpoint's port \d+/,
    },
    {
      name: 'redirect whose body carries the page in clear text',
      target: () => startHttpFixture({ flaw: 'redirect-with-content' }),
      expect:
        /\/health: the redirect's body carries the page the HTTPS endpoint serves for this path \(15 bytes\) in clear text/,
    },
    {
      name: 'redirect drops the path and query',
      target: () => startHttpFixture({ flaw: 'redirect-drops-path' }),
      expect: /changes the path: \/api\/v1\/users\/me\?secgate-probe=1 became \/"/,
    },
    {
      name: 'temporary redirect when only permanent ones are allowed',
      target: () => startHttpFixture(),
      with: { statuses: [308] },
      expect: /redirect status 301 is not one of 308/,
    },
    {
      name: 'refused connection when refusal is not allowed',
      target: () => startHttpFixture({ plainHttp: 'refused' }),
      with: { allow_refused: false },
      expect: /connection refused/,
    },
    {
      name: 'plain-HTTP listener that never answers',
      target: () => startHttpFixture({ plainHttp: 'silent', timeoutMs: 500 }),
      status: 'error',
      expect: /could not observe the plain-HTTP endpoint: \/: timeout/,
    },
    {
      name: 'no http_url in the checklist',
      target: async () => {
        const handle = await startHttpFixture();
        const { http_url: _withoutHttpUrl, ...target } = handle.context.target;
        return { ...handle, context: { ...handle.context, target } };
      },
      status: 'error',
      expect: /target\.http_url is not set/,
    },
  ],
});

describe('plainHttpRequests', () => {
  it("adds a path that cannot exist and the auth mapping's login path, and posts to the login", () => {
    expect(plainHttpRequests(['/', '/health'], '/secgate-0a1b', '/api/v1/auth/login')).toEqual({
      gets: ['/', '/health', '/secgate-0a1b', '/api/v1/auth/login'],
      post: '/api/v1/auth/login',
    });
  });
  it('posts to the path that cannot exist without a login path, and asks for no path twice', () => {
    expect(plainHttpRequests(['/', '/login'], '/secgate-0a1b', '/login')).toEqual({
      gets: ['/', '/login', '/secgate-0a1b'],
      post: '/login',
    });
    expect(plainHttpRequests(['/'], '/secgate-0a1b', undefined)).toEqual({
      gets: ['/', '/secgate-0a1b'],
      post: '/secgate-0a1b',
    });
  });
});

describe('judgeRedirect', () => {
  const requested = new URL('http://app.example:8080/a/b?x=1');
  const endpoint = { hosts: ['app.example'], port: '8443' };
  it("accepts https on the same host and the HTTPS endpoint's port", () => {
    expect(judgeRedirect(requested, 'https://app.example:8443/a/b?x=1', endpoint).ok).toBe(true);
  });
  it.each([
    ['https://app.example:9443/a/b?x=1', /redirects to port 9443, not the HTTPS endpoint's port 8443/],
    ['https://app.example/a/b?x=1', /redirects to port 443, not the HTTPS endpoint's port 8443/],
  ])('rejects another port: %s', (location, note) => {
    expect(judgeRedirect(requested, location, endpoint).note).toMatch(note);
  });
  it('takes 443 for an endpoint without a port', () => {
    expect(judgeRedirect(requested, 'https://app.example/a/b?x=1', { hosts: ['app.example'], port: '' }).ok).toBe(true);
    expect(
      judgeRedirect(requested, 'https://app.example:443/a/b?x=1', { hosts: ['app.example'], port: '443' }).ok,
    ).toBe(true);
  });
  it('rejects a relative Location, which stays on http', () => {
    expect(judgeRedirect(requested, '/a/b?x=1', endpoint).note).toMatch(/http:\/\/ instead of https/);
  });
  it('rejects a redirect that drops the query', () => {
    expect(judgeRedirect(requested, 'https://app.example:8443/a/b', endpoint).note).toMatch(/became \/a\/b$/);
  });
  it('rejects a missing Location', () => {
    expect(judgeRedirect(requested, undefined, endpoint).ok).toBe(false);
  });
});

describe('judgeRedirectBody', () => {
  const redirect = (body: string, bodyTruncated = false) => ({ body, bodyTruncated });
  it('accepts an empty body and a short "moved" page', () => {
    expect(judgeRedirectBody(redirect(''), '{"status":"ok"}', 4096)).toBeUndefined();
    expect(
      judgeRedirectBody(redirect('<html><title>301 Moved Permanently</title></html>'), '{"status":"ok"}', 4096),
    ).toBeUndefined();
  });
  it('rejects a body that carries the HTTPS page, however short', () => {
    expect(judgeRedirectBody(redirect('{"status":"ok"}'), '{"status":"ok"}\n', 4096)?.note).toMatch(
      /carries the page the HTTPS endpoint serves for this path \(15 bytes\) in clear text/,
    );
  });
  it('rejects a body longer than a redirect needs, and one longer than the probe reads', () => {
    expect(judgeRedirectBody(redirect('x'.repeat(5000)), undefined, 4096)?.note).toMatch(/5000 bytes \(at most 4096\)/);
    expect(judgeRedirectBody(redirect('x'.repeat(10), true), undefined, 1_048_576)?.ok).toBe(false);
  });
});
