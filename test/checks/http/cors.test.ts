import { describe, expect, it } from 'vitest';
import httpCors, { derivedHostileOrigins, judgeCors } from '../../../checks/http/cors.js';
import { startHttpFixture, startUnreachableTarget } from '../../../fixtures/http/servers.js';
import { testCheck } from '../../harness/check-tester.js';
import { validTargets } from './valid-targets.js';

testCheck(httpCors, {
  valid: validTargets(),
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
