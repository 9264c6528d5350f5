import { describe, expect, it } from 'vitest';
import tokenValidation, { tokenValidationParams } from '../../../checks/auth/token-validation.js';
import { testCheck } from '../../harness/check-tester.js';
import { authFixture, referenceService, SIGNING_KEY_ENV } from './support/auth-fixture-target.js';

const withKey = { signing_key_env: SIGNING_KEY_ENV };
/** No key: the check lets a 2-second token expire (plus 1 s of leeway) and presents it again. */
const shortLived = { accessTtlSeconds: 2 };
const replayAfterExpiry = { expiry_wait_max_s: 30, expiry_leeway_s: 1 };

testCheck(tokenValidation, {
  // Two cases wait for a token to expire; each has its own fixture.
  concurrent: true,
  valid: [
    { name: 'reference service', target: referenceService(), with: withKey },
    { name: 'auth fixture, correct mode, with the test signing key', target: authFixture(), with: withKey },
    {
      name: 'auth fixture, correct mode, no key: expiry proven by replaying the expired real token',
      target: authFixture(shortLived),
      with: replayAfterExpiry,
    },
    {
      name: 'auth fixture, correct mode, forgeries only, expiry left out visibly',
      target: authFixture(),
      with: { prove_expiry: false },
    },
  ],
  invalid: [
    {
      name: 'alg: none accepted',
      target: authFixture({ flaws: ['alg-none-accepted'] }),
      with: withKey,
      expect: /forged token accepted: alg: none with the real claims got 200/,
    },
    {
      // Only the exact lowercase spelling is refused; alg names are case-sensitive, so None is not a signature.
      name: 'alg: none refused, but None and NONE accepted',
      target: authFixture({ flaws: ['alg-none-any-case'] }),
      with: withKey,
      // The whole summary: both other spellings taken, the lowercase one not among them.
      expect:
        /^forged token accepted: alg: None with the real claims got 200; forged token accepted: alg: NONE with the real claims got 200$/,
    },
    {
      name: 'audience not checked: a token minted for another API accepted',
      target: authFixture({ flaws: ['audience-unchecked'] }),
      with: withKey,
      expect: /^forged token accepted: aud set to another audience, signed with the service key got 200$/,
    },
    {
      name: "the key in the token's own jwk header trusted (CVE-2018-0114)",
      target: authFixture({ flaws: ['embedded-jwk-trusted'] }),
      with: withKey,
      expect: /^forged token accepted: RS256 signed with a foreign key carried in its own jwk header got 200$/,
    },
    {
      name: 'the kid read as a key file path: a kid naming /dev/null makes the empty key valid',
      target: authFixture({ flaws: ['kid-path-key'] }),
      with: withKey,
      expect:
        /^forged token accepted: HS256 with kid "(\.\.\/)+dev\/null" \(a path to an empty file\), signed with an empty key got 200$/,
    },
    {
      name: 'expiry not checked',
      target: authFixture({ flaws: ['expiry-unchecked'] }),
      with: withKey,
      expect: /forged token accepted: expired an hour ago, signed with the service key got 200/,
    },
    {
      name: 'expiry not checked, found without the key: the real token still works after it expired',
      target: authFixture({ flaws: ['expiry-unchecked'], ...shortLived }),
      with: replayAfterExpiry,
      expect: /expired token accepted: the real token, replayed \d+ s after it expired, got 200/,
    },
    {
      name: 'no key and the real token lives longer than the check may wait: expiry cannot be proven',
      target: authFixture(),
      with: { expiry_wait_max_s: 5 },
      status: 'error',
      expect:
        /could not observe expired tokens: no signing key \(with\.signing_key_env\), and the real token expires in \d+ s counting 30 s of leeway, longer than expiry_wait_max_s \(5 s\)/,
    },
  ],
});

describe('auth.token-validation parameters', () => {
  it('refuse to promise expiry without a way to prove it (exit 2 when the checklist loads)', () => {
    const result = tokenValidationParams.safeParse({});
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(
      /expiry can only be proven with the signing key \(signing_key_env\), by replaying the real token once it expired \(expiry_wait_max_s\), or for a server-side session by ageing one/,
    );
    expect(tokenValidationParams.safeParse({ prove_expiry: false }).success).toBe(true);
    expect(tokenValidationParams.safeParse({ signing_key_env: 'KEY' }).success).toBe(true);
  });

  it('need the environment variables they name', () => {
    expect(tokenValidation.requires?.(tokenValidationParams.parse({ signing_key_env: 'STAGING_KEY' }))).toEqual([
      'account:probe_account',
      'env:STAGING_KEY',
    ]);
  });
});
