import { describe, expect, it } from 'vitest';
import httpAuthRequired, { forgedCredentials, variantRequests } from '../../../checks/http/auth-required.js';
import { startHttpFixture, startUnreachableTarget } from '../../../fixtures/http/servers.js';
import { runCheckOn, testCheck } from '../../harness/check-tester.js';
import { validTargets } from './valid-targets.js';

testCheck(httpAuthRequired, {
  valid: validTargets(),
  invalid: [
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
