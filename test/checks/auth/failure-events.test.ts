import failureEvents, { failureEventsParams } from '../../../checks/auth/failure-events.js';
import { testCheck } from '../../harness/check-tester.js';
import { authFixture, referenceService, SIGNING_KEY_ENV } from './support/auth-fixture-target.js';

const withKey = { signing_key_env: SIGNING_KEY_ENV };
/** How a service secgate did not build names two paths in its audit table. */
const OWN_KINDS = { missing_token: 'anonymous', mfa_not_enrolled: 'no-mfa-device' };
/** The default paths plus bad_challenge, which the fixture audits as invalid_token: two paths, one type, one address. */
const withBadChallenge = {
  ...withKey,
  events: [...failureEventsParams.parse({}).events, 'bad_challenge'],
};
const challengeAsInvalidToken = { bad_challenge: 'invalid_token' };

testCheck(failureEvents, {
  valid: [
    { name: 'reference service', target: referenceService(), with: withKey },
    { name: 'auth fixture, correct mode, every path', target: authFixture(), with: withKey },
    {
      name: 'auth fixture, no signing key, expired_token left out',
      target: authFixture(),
      with: { events: ['unknown_user', 'bad_password', 'bad_totp', 'invalid_token', 'locked_account', 'blocked_ip'] },
    },
    {
      // A service that audits two more paths under its own names, declared once in auth.event_types.
      name: "the service's own kinds for missing_token and mfa_not_enrolled, declared in the checklist",
      target: authFixture({ auditedKinds: OWN_KINDS, eventTypes: OWN_KINDS }),
      with: { ...withKey, events: ['missing_token', 'mfa_not_enrolled', 'unknown_user'] },
    },
    {
      name: 'a path that writes one of several kinds the checklist allows',
      target: authFixture({ auditedKinds: OWN_KINDS, eventTypes: { missing_token: ['anonymous-api', 'anonymous'] } }),
      with: { events: ['missing_token'] },
    },
    {
      name: 'a forged MFA challenge audited under invalid_token, beside the invalid-token path',
      target: authFixture({ eventTypes: challengeAsInvalidToken }),
      with: withBadChallenge,
    },
    {
      name: 'a dedicated probe account of its own, under auth.accounts',
      target: authFixture({ extraAccounts: ['audit_probe'] }),
      with: { ...withKey, account: 'audit_probe', events: ['bad_password', 'locked_account'] },
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
      // The invalid-token path's row is the only invalid_token row from the address: it cannot also stand for this one.
      name: 'a forged MFA challenge writes no audit row, while the invalid-token path writes one of the same type',
      target: authFixture({ flaws: ['unaudited-bad-challenge'], eventTypes: challengeAsInvalidToken }),
      with: withBadChallenge,
      expect:
        /^no invalid_token row of its own for the bad_challenge path: the 1 matching row from 127\.0\.0\.11 belongs to other rejections \(POST \/api\/v1\/auth\/mfa\/verify with a challenge the service never issued answered 401\)$/,
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
      // The rows are there, under the service's own name: without the mapping they cannot be recognised.
      name: "the service's own kind, not declared in the checklist",
      target: authFixture({ auditedKinds: OWN_KINDS }),
      with: { events: ['missing_token'] },
      expect:
        /no missing_token row for the missing_token path \(GET \/api\/v1\/users\/me without credentials answered 401\)/,
    },
    {
      name: 'the path audits nothing',
      target: authFixture(),
      with: { events: ['mfa_not_enrolled'] },
      expect: /no mfa_not_enrolled row for the mfa_not_enrolled path/,
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
