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
      name: 'optional MFA, the session in a cookie (the body says "enrol first")',
      target: authFixture({ flaws: ['optional-mfa-cookie'] }),
      expect:
        /MFA optional: secgate-probe-nomfa has no second factor and got a session from the password alone: cookie session from Set-Cookie answered 200 on \/api\/v1\/users\/me/,
    },
    {
      name: 'optional MFA, the token in a response header',
      target: authFixture({ flaws: ['optional-mfa-header'] }),
      expect: /got a session from the password alone: header x-auth-token, sent back as it came answered 200/,
    },
    {
      name: 'optional MFA, the token in another body field',
      target: authFixture({ flaws: ['optional-mfa-other-field'] }),
      expect:
        /got a session from the password alone: body field mfa_enrolment\.session, as a bearer token answered 200/,
    },
    {
      name: 'a session cookie from the password step, before the second factor',
      target: authFixture({ flaws: ['session-before-mfa'] }),
      expect:
        /session before MFA: cookie session from Set-Cookie from the password step of secgate-probe answered 200 on \/api\/v1\/users\/me before the second factor/,
    },
    {
      name: 'a refresh token from the password step, before the second factor',
      target: authFixture({ flaws: ['refresh-before-mfa'] }),
      expect:
        /session before MFA: body field refresh_token from the password step of secgate-probe bought an access token at \/api\/v1\/auth\/refresh that answered 200 on \/api\/v1\/users\/me before the second factor/,
    },
    {
      name: 'a challenge for the account without a second factor, completed with any code',
      target: authFixture({ flaws: ['mfa-verify-without-device'] }),
      expect:
        /MFA bypass: secgate-probe-nomfa has no enrolled second factor, yet completed the second step with a code from no enrolled device \(000000\): \/api\/v1\/auth\/mfa\/verify answered 200 with an access token that answered 200 on \/api\/v1\/users\/me/,
    },
    {
      name: 'a challenge that a wrong code leaves open (six digits to guess at will)',
      target: authFixture({ flaws: ['challenge-survives-wrong-code'] }),
      expect:
        /MFA challenge takes more than one code: after a wrong code, the same challenge took the current code and yielded an access token \(200\)/,
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
