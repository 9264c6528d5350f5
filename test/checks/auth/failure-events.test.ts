import failureEvents from '../../../checks/auth/failure-events.js';
import { testCheck } from '../../harness/check-tester.js';
import { authFixture, referenceService, SIGNING_KEY_ENV } from './support/auth-fixture-target.js';

const withKey = { signing_key_env: SIGNING_KEY_ENV };

testCheck(failureEvents, {
  valid: [
    { name: 'reference service', target: referenceService(), with: withKey },
    { name: 'auth fixture, correct mode, every path', target: authFixture(), with: withKey },
    {
      name: 'auth fixture, no signing key, expired_token left out',
      target: authFixture(),
      with: { events: ['unknown_user', 'bad_password', 'bad_totp', 'invalid_token', 'locked_account', 'blocked_ip'] },
    },
  ],
  invalid: [
    {
      name: 'wrong TOTP writes no audit row',
      target: authFixture({ flaws: ['unaudited-bad-totp'] }),
      with: withKey,
      expect:
        /no bad_totp row for the bad_totp path \(POST \/api\/v1\/auth\/mfa\/verify with a wrong TOTP code answered 401\)/,
    },
    {
      name: 'no lockout, so no locked_account path',
      target: authFixture({ flaws: ['no-lockout'] }),
      with: withKey,
      expect: /no locked_account row for the locked_account path/,
    },
    {
      name: 'expired_token requested without a signing key',
      target: authFixture(),
      status: 'error',
      expect: /could not observe the expired_token path: no test signing key/,
    },
    {
      name: 'no database',
      target: authFixture({ withoutDatabase: true }),
      with: withKey,
      status: 'error',
      expect: /could not observe the audit rows: the checklist names no database/,
    },
  ],
});
