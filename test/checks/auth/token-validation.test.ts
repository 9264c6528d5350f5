import tokenValidation from '../../../checks/auth/token-validation.js';
import { testCheck } from '../../harness/check-tester.js';
import { authFixture, referenceService, SIGNING_KEY_ENV } from './support/auth-fixture-target.js';

const withKey = { signing_key_env: SIGNING_KEY_ENV };

testCheck(tokenValidation, {
  valid: [
    { name: 'reference service', target: referenceService(), with: withKey },
    { name: 'auth fixture, correct mode, with the test signing key', target: authFixture(), with: withKey },
    { name: 'auth fixture, correct mode, forgeries only (no key)', target: authFixture() },
  ],
  invalid: [
    {
      name: 'alg: none accepted',
      target: authFixture({ flaws: ['alg-none-accepted'] }),
      expect: /forged token accepted: alg: none with the real claims got 200/,
    },
    {
      name: 'expiry not checked',
      target: authFixture({ flaws: ['expiry-unchecked'] }),
      with: withKey,
      expect: /forged token accepted: expired an hour ago, signed with the service key got 200/,
    },
  ],
});
