import { describe, expect, it } from 'vitest';
import httpCors, {
  allowedHostileOrigins,
  corsParams,
  derivedHostileOrigins,
  judgeCors,
} from '../../../checks/http/cors.js';
import { FRONTEND_ORIGIN, startFrontendCorsServer } from '../../../fixtures/http/cors-servers.js';
import { startHttpFixture, startUnreachableTarget } from '../../../fixtures/http/servers.js';
import { testCheck } from '../../harness/check-tester.js';
import { startReferenceTarget } from '../../support/reference-service.js';
import { validTargets } from './valid-targets.js';

const frontend = { allowed_origins: [FRONTEND_ORIGIN] };

testCheck(httpCors, {
  valid: [
    ...validTargets(),
    ...validTargets(frontend),
    { name: 'an exact allow-list of the frontend', target: () => startFrontendCorsServer('exact'), with: frontend },
    {
      name: 'the reference service allowing the frontend',
      target: () => startReferenceTarget({ env: { SECGATE_CORS_ORIGINS: FRONTEND_ORIGIN } }),
      with: frontend,
    },
  ],
  invalid: [
    {
      name: 'any origin reflected',
      target: () => startHttpFixture({ flaw: 'cors-reflects-origin' }),
      expect:
        /preflight OPTIONS \/api\/v1\/users\/me: reflects foreign origin https:\/\/evil\.example in Access-Control-Allow-Origin with credentials/,
    },
    {
      name: 'the null origin reflected',
      target: () => startHttpFixture({ flaw: 'cors-reflects-origin' }),
      expect: /simple request GET \/health: reflects foreign origin null/,
    },
    {
      name: 'wildcard with credentials',
      target: () => startHttpFixture({ flaw: 'cors-wildcard-with-credentials' }),
      expect: /Access-Control-Allow-Origin \* with Access-Control-Allow-Credentials: true/,
    },
    {
      name: 'an allow-list that tests only the start of the origin',
      target: () => startHttpFixture({ flaw: 'cors-allows-host-prefix' }),
      expect:
        /reflects foreign origin https:\/\/127\.0\.0\.1\.evil\.example in Access-Control-Allow-Origin with credentials: the target host with a foreign domain after it/,
    },
    {
      name: 'an allow-list that tests only the end of the origin',
      target: () => startHttpFixture({ flaw: 'cors-allows-host-suffix' }),
      expect: /reflects foreign origin https:\/\/evil127\.0\.0\.1 .*a foreign name ending in the target host/,
    },
    {
      name: 'an allow-list that ignores the scheme: plain http is allowed',
      target: () => startHttpFixture({ flaw: 'cors-ignores-scheme' }),
      expect: /reflects foreign origin http:\/\/127\.0\.0\.1:\d+ .*the target host over plain http/,
    },
    {
      name: "an allow-list that tests only the start of the frontend's origin",
      target: () => startFrontendCorsServer('prefix'),
      with: frontend,
      expect:
        /preflight OPTIONS \/api\/v1\/users\/me: reflects foreign origin https:\/\/app\.example\.evil\.example in Access-Control-Allow-Origin with credentials: the allowed origin https:\/\/app\.example with a foreign domain after it \(prefix test\)/,
    },
    {
      name: "an allow-list that tests only the end of the frontend's host",
      target: () => startFrontendCorsServer('suffix'),
      with: frontend,
      expect:
        /simple request GET \/health: reflects foreign origin https:\/\/evilapp\.example in Access-Control-Allow-Origin with credentials: a foreign name ending in the host of the allowed origin https:\/\/app\.example \(suffix test\)/,
    },
    {
      name: "an allow-list that compares only the frontend's host: plain http is allowed",
      target: () => startFrontendCorsServer('host-only'),
      with: frontend,
      expect:
        /reflects foreign origin http:\/\/app\.example in Access-Control-Allow-Origin with credentials: the allowed origin https:\/\/app\.example over plain http \(a test that ignores the scheme\)/,
    },
    {
      name: "an allow-list that compares only the frontend's host: another port is allowed",
      target: () => startFrontendCorsServer('host-only'),
      with: frontend,
      expect:
        /reflects foreign origin https:\/\/app\.example:65535 in Access-Control-Allow-Origin with credentials: the allowed origin https:\/\/app\.example on another port \(a test that ignores the port\)/,
    },
    { name: 'target unreachable', target: startUnreachableTarget, status: 'error', expect: /refused \(ECONNREFUSED\)/ },
  ],
});

describe('derivedHostileOrigins', () => {
  it('builds prefix, suffix, scheme-downgrade and sibling origins from a host name', () => {
    expect(derivedHostileOrigins('https://api.shop.example:8443/').map((entry) => entry.origin)).toEqual([
      'https://api.shop.example.evil.example',
      'https://evilapi.shop.example',
      'http://api.shop.example:8443',
      'https://secgate-evil.shop.example',
    ]);
  });
  it('has no sibling for an IP address or a one-label name', () => {
    expect(derivedHostileOrigins('https://127.0.0.1:8443').map((entry) => entry.origin)).toEqual([
      'https://127.0.0.1.evil.example',
      'https://evil127.0.0.1',
      'http://127.0.0.1:8443',
    ]);
    expect(derivedHostileOrigins('https://localhost').map((entry) => entry.origin)).not.toContain(
      expect.stringMatching(/secgate-evil/),
    );
  });
});

describe('allowedHostileOrigins', () => {
  it.each([
    {
      allowed: 'https://app.example',
      why: 'prefix, suffix, subdomain, scheme, port and null origins',
      origins: [
        'https://app.example.evil.example',
        'https://app.example-evil.example',
        'https://evilapp.example',
        'https://evil.app.example',
        'http://app.example',
        'https://app.example:65535',
        'null',
      ],
    },
    {
      allowed: 'http://localhost:65535',
      why: 'the port kept where a suffix test sees it, no downgrade of plain http, another free port',
      origins: [
        'http://localhost.evil.example',
        'http://localhost-evil.example',
        'http://evillocalhost:65535',
        'http://evil.localhost:65535',
        'http://localhost:65534',
        'null',
      ],
    },
    {
      allowed: 'https://*.app.example',
      why: 'no subdomain of a wildcard parent (allowed on purpose); the others from one of its subdomains',
      origins: [
        'https://secgate.app.example.evil.example',
        'https://secgate.app.example-evil.example',
        'https://evilapp.example',
        'http://secgate.app.example',
        'https://secgate.app.example:65535',
        'null',
      ],
    },
    {
      allowed: 'https://10.0.0.7',
      why: 'no subdomain of an IP address',
      origins: [
        'https://10.0.0.7.evil.example',
        'https://10.0.0.7-evil.example',
        'https://evil10.0.0.7',
        'http://10.0.0.7',
        'https://10.0.0.7:65535',
        'null',
      ],
    },
  ])('$allowed: $why', ({ allowed, origins }) => {
    expect(allowedHostileOrigins([allowed]).map((entry) => entry.origin)).toEqual(origins);
  });
  it('sends nothing without allowed origins', () => {
    expect(allowedHostileOrigins([])).toEqual([]);
  });
});

describe('allowed_origins', () => {
  it.each([
    'https://app.example/',
    'https://app.example/login',
    'app.example',
    'ftp://app.example',
    'https://user@app.example',
    'https://App.example',
    'https://a.*.example',
    'https://*app.example',
  ])('refuses %s, which is not an origin', (value) => {
    expect(corsParams.safeParse({ allowed_origins: [value] }).error?.issues[0]?.message).toMatch(
      /expected an origin such as https:\/\/app\.example/,
    );
  });
  it.each(['https://app.example', 'http://localhost:3000', 'https://*.app.example', 'https://[::1]:8443'])(
    'accepts %s',
    (value) => {
      expect(corsParams.safeParse({ allowed_origins: [value] }).success).toBe(true);
    },
  );
});

describe('judgeCors', () => {
  it('accepts an allow-list that does not contain the foreign origin', () => {
    expect(judgeCors('https://evil.example', 'https://app.example', 'true').ok).toBe(true);
  });
  it('accepts a public wildcard without credentials', () => {
    expect(judgeCors('https://evil.example', '*', undefined).ok).toBe(true);
  });
  it('matches the reflected origin case-insensitively', () => {
    expect(judgeCors('https://evil.example', 'HTTPS://EVIL.EXAMPLE', undefined).ok).toBe(false);
  });
});
