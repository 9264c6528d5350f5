import { describe, expect, it } from 'vitest';
import tokenTransport, { missingCookieFlags, offeredParameters } from '../../../checks/auth/token-transport.js';
import { testCheck } from '../../harness/check-tester.js';
import { authFixture, referenceService } from './support/auth-fixture-target.js';

testCheck(tokenTransport, {
  valid: [
    { name: 'reference service', target: referenceService() },
    { name: 'auth fixture, correct mode', target: authFixture() },
  ],
  invalid: [
    {
      name: 'token accepted from the query string',
      target: authFixture({ flaws: ['token-in-query'] }),
      expect: /token accepted from the URL query \?token= \(200\)/,
    },
  ],
});

describe('offeredParameters', () => {
  it("adds the credential's own name, once", () => {
    expect(offeredParameters(['token', 'access_token'], 'sessionid')).toEqual(['token', 'access_token', 'sessionid']);
    expect(offeredParameters(['token', 'access_token'], 'access_token')).toEqual(['token', 'access_token']);
  });
});

describe('missingCookieFlags', () => {
  it('names every missing protection of a credential cookie', () => {
    expect(missingCookieFlags('session=abc; Path=/')).toEqual(['HttpOnly', 'Secure', 'SameSite']);
    expect(missingCookieFlags('session=abc; Path=/; HttpOnly; Secure')).toEqual(['SameSite']);
    expect(missingCookieFlags('session=abc; HttpOnly; Secure; SameSite=Strict')).toEqual([]);
  });
});
