import mfaEnforced from '../../../checks/auth/mfa-enforced.js';
import { testCheck } from '../../harness/check-tester.js';
import { authFixture, referenceService, unreachableTarget } from './support/auth-fixture-target.js';

testCheck(mfaEnforced, {
  valid: [
    { name: 'reference service', target: referenceService() },
    { name: 'auth fixture, correct mode', target: authFixture() },
  ],
  invalid: [
    {
      name: 'target refuses connections',
      target: unreachableTarget(),
      status: 'error',
      expect: /could not observe the MFA flow: .*ECONNREFUSED/,
    },
    {
      name: 'optional MFA',
      target: authFixture({ flaws: ['optional-mfa'] }),
      expect:
        /MFA optional: secgate-probe-nomfa has no second factor and got an access token from the password alone \(200\)/,
    },
  ],
});
