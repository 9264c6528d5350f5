import { describe, expect, it } from 'vitest';
import httpAuthRequired, {
  answeredByAnotherLayer,
  forgedCredentials,
  pathSpellings,
  rejectionBodyProblem,
  variantRequests,
} from '../../../checks/http/auth-required.js';
import { withoutOpaqueTokens } from '../../../checks/http/shell-page.js';
import { startPathFixture } from '../../../fixtures/http/path-servers.js';
import { startHttpFixture, startUnreachableTarget } from '../../../fixtures/http/servers.js';
import { startSpaFixture } from '../../../fixtures/http/spa-servers.js';
import { runCheckOn, testCheck } from '../../harness/check-tester.js';
import { validTargets } from './valid-targets.js';

/** Both slash-merged spellings of /api/v1/users/me served without credentials. */
const mergedSlashesServed =
  /GET \/\/api\/v1\/users\/me answered 200 without credentials: this spelling of a protected path skips authentication; GET \/api\/\/v1\/users\/me answered 200 without credentials/;

testCheck(httpAuthRequired, {
  valid: [
    ...validTargets(),
    {
      name: 'an auth rule on the raw path prefix, before a router that takes the path as it is',
      target: () => startPathFixture(),
    },
    {
      name: "a single-page app: every unknown spelling gets the app's shell, the API prefix answers 401",
      target: () => startSpaFixture(),
    },
    {
      name: 'a single-page app whose shell carries a fresh CSP nonce on every response',
      target: () => startSpaFixture({ nonce: true }),
    },
  ],
  invalid: [
    {
      name: 'a router that merges slashes behind a raw-prefix auth rule',
      target: () => startPathFixture({ flaw: 'router-merges-slashes' }),
      expect: mergedSlashesServed,
    },
    {
      name: 'a router that decodes percent-escapes behind a raw-prefix auth rule',
      target: () => startPathFixture({ flaw: 'router-decodes-percent' }),
      expect:
        /GET \/%61pi\/v1\/users\/me answered 200 without credentials: this spelling of a protected path skips authentication; GET \/api%2Fv1\/users\/me answered 200 without credentials/,
    },
    {
      name: 'a router that resolves dot segments behind a raw-prefix auth rule',
      target: () => startPathFixture({ flaw: 'router-resolves-dot-segments' }),
      expect: /GET \/\.\/api\/v1\/users\/me answered 200 without credentials/,
    },
    {
      name: 'a router that drops matrix parameters behind a raw-prefix auth rule',
      target: () => startPathFixture({ flaw: 'router-drops-matrix-parameters' }),
      expect: /GET \/api;x\/v1\/users\/me answered 200 without credentials/,
    },
    {
      name: 'a single-page app whose router merges slashes: the user as JSON beside the shell',
      target: () => startSpaFixture({ flaw: 'router-merges-slashes' }),
      expect: mergedSlashesServed,
    },
    {
      name: 'a single-page app that renders the user into the shell of a spelling of the API path',
      target: () => startSpaFixture({ flaw: 'shell-renders-resource' }),
      expect:
        /GET \/\/api\/v1\/users\/me answered 200 without credentials: this spelling of a protected path skips authentication/,
    },
    {
      name: 'a 401 whose body is the protected resource',
      target: () => startPathFixture({ flaw: 'rejection-carries-resource' }),
      expect:
        /GET \/api\/v1\/users\/me answered 401 to no credentials with a body like the served resource: 71 bytes with fields \(id, username, email, role\) that the rejection of an unknown path \(24 bytes\) lacks/,
    },
    {
      name: 'a protected sub-path answers 404',
      target: () => startHttpFixture({ flaw: 'protected-subpath-404' }),
      expect:
        /unknown sub-path \/api\/v1\/secgate-unknown-[0-9a-f]+ answered 404 instead of 401: routing runs before authentication/,
    },
    {
      name: 'a garbage token is accepted',
      target: () => startHttpFixture({ flaw: 'garbage-token-accepted' }),
      expect: /GET \/api\/v1\/users\/me accepted garbage bearer token \(200\)/,
    },
    {
      name: 'a JWT is accepted without verifying its signature',
      target: () => startHttpFixture({ flaw: 'unverified-jwt-accepted' }),
      expect: /POST \/api\/v1\/notes accepted tampered JWT \(HS256, signature from an unknown key\) \(201\)/,
    },
    {
      name: 'the public health path demands authentication',
      target: () => startHttpFixture({ flaw: 'health-requires-auth' }),
      expect: /public path \/health answered 401, expected 200/,
    },
    {
      name: 'HEAD of a protected path is served without credentials',
      target: () => startHttpFixture({ flaw: 'head-skips-auth' }),
      expect:
        /HEAD \/api\/v1\/users\/me answered 200 without credentials: this spelling of a protected path skips authentication/,
    },
    {
      name: 'the trailing-slash spelling is served without credentials',
      target: () => startHttpFixture({ flaw: 'trailing-slash-skips-auth' }),
      expect: /POST \/api\/v1\/notes\/ answered 201 without credentials/,
    },
    {
      name: 'another letter case is served without credentials',
      target: () => startHttpFixture({ flaw: 'case-variant-skips-auth' }),
      expect: /GET \/API\/V1\/USERS\/ME answered 200 without credentials/,
    },
    { name: 'target unreachable', target: startUnreachableTarget, status: 'error', expect: /refused \(ECONNREFUSED\)/ },
  ],
});

describe('variantRequests', () => {
  it('spells a protected path as HEAD, with and without a trailing slash, and in other letter cases', () => {
    expect(variantRequests('/api/v1/notes', ['GET', 'POST'], ['head', 'trailing-slash', 'case'])).toEqual([
      { variant: 'head', method: 'HEAD', path: '/api/v1/notes' },
      { variant: 'trailing-slash', method: 'GET', path: '/api/v1/notes/' },
      { variant: 'trailing-slash', method: 'POST', path: '/api/v1/notes/' },
      { variant: 'case', method: 'GET', path: '/API/V1/NOTES' },
      { variant: 'case', method: 'POST', path: '/API/V1/NOTES' },
      { variant: 'case', method: 'GET', path: '/Api/V1/Notes' },
      { variant: 'case', method: 'POST', path: '/Api/V1/Notes' },
    ]);
  });
  it('drops a trailing slash that is there, sends HEAD only for GET routes, and can be narrowed', () => {
    expect(variantRequests('/api/v1/items/', ['POST'], ['head', 'trailing-slash'])).toEqual([
      { variant: 'trailing-slash', method: 'POST', path: '/api/v1/items' },
    ]);
  });
});

describe('path spellings', () => {
  it('merge, escape, parameterise and dot a path where a router may undo it', () => {
    expect(pathSpellings('/api/v1/users/me', 'double-slash')).toEqual(['//api/v1/users/me', '/api//v1/users/me']);
    expect(pathSpellings('/api/v1/users/me', 'percent-encoding')).toEqual(['/%61pi/v1/users/me', '/api%2Fv1/users/me']);
    expect(pathSpellings('/api/v1/users/me', 'matrix-parameter')).toEqual(['/api;x/v1/users/me', '/api/v1/users/me;x']);
    expect(pathSpellings('/api/v1/users/me', 'dot-segment')).toEqual(['/./api/v1/users/me']);
  });
  it('escape an upper-case letter in upper-case hex, keep the query and a trailing slash, skip what a path lacks', () => {
    expect(pathSpellings('/Notes/', 'percent-encoding')).toEqual(['/%4Eotes/']);
    expect(pathSpellings('/Notes/', 'matrix-parameter')).toEqual(['/Notes;x/']);
    expect(pathSpellings('/me?full=1', 'double-slash')).toEqual(['//me?full=1']);
    expect(pathSpellings('/1/2', 'percent-encoding')).toEqual(['/1%2F2']);
  });
  it("go with the route's first method only", () => {
    const requests = variantRequests('/api/v1/notes', ['POST', 'GET'], ['dot-segment']);
    expect(requests).toEqual([{ variant: 'dot-segment', method: 'POST', path: '/./api/v1/notes' }]);
  });
  it('reach the service exactly as written', async () => {
    const target = await startPathFixture();
    try {
      await runCheckOn(httpAuthRequired, target);
      expect(target.requestTargets).toEqual(
        expect.arrayContaining([
          '//api/v1/users/me',
          '/api//v1/users/me',
          '/%61pi/v1/users/me',
          '/api%2Fv1/users/me',
          '/api;x/v1/users/me',
          '/api/v1/users/me;x',
          '/./api/v1/users/me',
        ]),
      );
    } finally {
      await target.close();
    }
  });
});

describe('rejectionBodyProblem', () => {
  const unknown = { path: '/api/v1/secgate-unknown-0a1b2c3d4e5f', text: '{"error":"unauthorized"}' };
  const rejection = (text: string, path = '/api/v1/users/me', truncated = false) => ({ path, text, truncated });
  it('accepts the same error, another message in the same fields, and error fields of another handler', () => {
    expect(rejectionBodyProblem(rejection(unknown.text), unknown)).toBeUndefined();
    expect(rejectionBodyProblem(rejection('{"error":"token signature invalid"}'), unknown)).toBeUndefined();
    const fastify =
      '{"statusCode":401,"code":"FST_JWT_NO_AUTHORIZATION_IN_HEADER","error":"Unauthorized","message":"No Authorization was found in request.headers"}';
    expect(rejectionBodyProblem(rejection(fastify), unknown)).toBeUndefined();
    const problem =
      '{"type":"about:blank","title":"Unauthorized","status":401,"detail":"missing token","instance":"/api/v1/users/me"}';
    expect(rejectionBodyProblem(rejection(problem), unknown)).toBeUndefined();
  });
  it('accepts an HTML error page that differs only by the longer path it echoes', () => {
    const page = (path: string) => `<html><body><h1>401 Unauthorized</h1><p>${path} needs a login.</p></body></html>`;
    const longPath = '/api/v1/organisations/current/settings/billing/invoices/latest';
    expect(
      rejectionBodyProblem(rejection(page(longPath), longPath), { path: unknown.path, text: page(unknown.path) }),
    ).toBeUndefined();
  });
  it('accepts a route-level error with a documentation link or a request id beside its message', () => {
    const github = '{"message":"Requires authentication","documentation_url":"https://docs.example.com/rest"}';
    expect(rejectionBodyProblem(rejection(github), unknown)).toBeUndefined();
    expect(rejectionBodyProblem(rejection('{"error":"unauthorized","request_id":"r-1","path":"/x"}'), unknown)).toBe(
      undefined,
    );
  });
  it("accepts a page another layer answered (a proxy's HTML before a JSON API), whatever its size", () => {
    const json = { ...unknown, contentType: 'application/json; charset=utf-8' };
    const page = { ...rejection(`<html>${' '.repeat(400)}</html>`), contentType: 'text/html' };
    expect(answeredByAnotherLayer(page, json)).toBe('text/html');
    expect(rejectionBodyProblem(page, json)).toBeUndefined();
    // The same page where the app's own rejections are HTML is measured; so is one with no Content-Type.
    expect(rejectionBodyProblem(page, { ...json, text: '<h1>401</h1>', contentType: 'text/html' })).toBe(
      '413 bytes, where the rejection of an unknown path has 12',
    );
    expect(answeredByAnotherLayer({ ...page, contentType: undefined }, json)).toBeUndefined();
    // JSON mislabelled as HTML, whole or cut short, is the app's own answer: measured.
    const mislabelled = { ...rejection('{"id":1,"username":"alice"}'), contentType: 'text/html' };
    expect(rejectionBodyProblem(mislabelled, json)).toMatch(/with fields \(id, username\)/);
    expect(rejectionBodyProblem({ ...mislabelled, text: `[${'{"id":1},'.repeat(50)}`, truncated: true }, json)).toBe(
      'more than 451 bytes, where the rejection of an unknown path has 24',
    );
  });
  it('rejects fields the rejection of an unknown path lacks, however short', () => {
    expect(rejectionBodyProblem(rejection('{"id":1}'), unknown)).toBe(
      '8 bytes with fields (id) that the rejection of an unknown path (24 bytes) lacks',
    );
    expect(rejectionBodyProblem(rejection('{"error":"unauthorized","user":{"id":1}}'), unknown)).toMatch(
      /with fields \(user, id\)/,
    );
  });
  it('rejects another body longer than the rejection of an unknown path, and one longer than the probe reads', () => {
    const html = { path: unknown.path, text: '<h1>401</h1>' };
    expect(rejectionBodyProblem(rejection(`<ul>${'<li>note</li>'.repeat(20)}</ul>`), html)).toBe(
      '269 bytes, where the rejection of an unknown path has 12',
    );
    expect(rejectionBodyProblem(rejection('x'.repeat(100), '/a', true), html)).toBe(
      'more than 100 bytes, where the rejection of an unknown path has 12',
    );
  });
});

describe('withoutOpaqueTokens', () => {
  it('folds per-response tokens, keeps data and short words', () => {
    const token = (seed: string) => Buffer.from(seed.repeat(16)).toString('base64');
    const page = (nonce: string) => `<script nonce="${nonce}">run()</script>`;
    expect(withoutOpaqueTokens(page(token('a')))).toBe(withoutOpaqueTokens(page(token('b'))));
    expect(withoutOpaqueTokens('{"id":1,"username":"alice"}')).toBe('{"id":1,"username":"alice"}');
  });
});

describe('a single-page app', () => {
  it("passes because the odd spellings got the app's shell, byte for byte a path that cannot exist's page", async () => {
    const target = await startSpaFixture();
    try {
      const outcome = await runCheckOn(httpAuthRequired, target);
      expect(outcome.status).toBe('pass');
      // Per route, the spellings outside the prefix: two double-slash, two escaped, the leading matrix
      // parameter, the dot segment and two letter cases (a POST in another case gets 405, not the shell).
      expect(outcome.summary).toMatch(
        /not served \(16 answered the app's shell, the page of a path that cannot exist\); 1 public path reachable$/,
      );
    } finally {
      await target.close();
    }
  });
});

describe('forged credentials', () => {
  it('are well-formed JWTs that no key of the service signed', () => {
    const [, , hs256, none] = forgedCredentials(new Date('2026-01-01T00:00:00Z'));
    expect(hs256?.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(none?.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.$/);
  });

  it('never appear in the evidence', async () => {
    const target = await startHttpFixture({ flaw: 'garbage-token-accepted' });
    try {
      const evidence = JSON.stringify(await runCheckOn(httpAuthRequired, target));
      expect(evidence).toContain('"sha256"');
      expect(evidence).not.toMatch(/secgate-garbage-[0-9a-f]{24}/);
      expect(evidence).not.toMatch(/eyJ[\w-]+\.eyJ/);
    } finally {
      await target.close();
    }
  });
});
