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
    {
      // The token lies past the first MiB: a cut answer must not read as "no token".
      name: 'optional MFA, answered with more than the probe reads',
      target: authFixture({ flaws: ['optional-mfa-oversized-answer'] }),
      status: 'error',
      expect: /longer than the probe reads/,
    },
  ],
});
