import { describe, expect, it } from 'vitest';
import httpCors, { judgeCors } from '../../../checks/http/cors.js';
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
    { name: 'target unreachable', target: startUnreachableTarget, status: 'error', expect: /refused \(ECONNREFUSED\)/ },
  ],
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
