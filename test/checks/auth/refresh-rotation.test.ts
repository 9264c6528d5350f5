import refreshRotation from '../../../checks/auth/refresh-rotation.js';
import { testCheck } from '../../harness/check-tester.js';
import { startReferenceTarget } from '../../support/reference-service.js';
import { authFixture, referenceService, unreachableTarget } from './support/auth-fixture-target.js';

testCheck(refreshRotation, {
  // Each case waits for the next TOTP step before its second login: they wait side by side.
  concurrent: true,
  valid: [
    { name: 'reference service', target: referenceService() },
    {
      // One code, one success (RFC 6238 §5.2): the second session's login must come with a code of its own.
      name: 'reference service refusing a TOTP code used twice',
      target: () => startReferenceTarget({ rejectTotpReuse: true }),
    },
    { name: 'auth fixture, correct mode', target: authFixture() },
    {
      name: 'auth fixture, correct mode, access token revoked too',
      target: authFixture(),
      with: { expect_access_revoked: true },
    },
  ],
  invalid: [
    {
      name: 'target refuses connections',
      target: unreachableTarget(),
      status: 'error',
      expect: /could not observe refresh rotation: .*ECONNREFUSED/,
    },
    {
      name: 'refresh reuse allowed',
      target: authFixture({ flaws: ['refresh-reuse-allowed'] }),
      expect: /reused refresh token accepted \(200\): a stolen refresh token stays usable/,
    },
    {
      name: 'reuse revokes only the token that replaced the reused one',
      target: authFixture({ flaws: ['refresh-reuse-revokes-child-only'] }),
      expect: /session not revoked: the newest refresh token still works after the first one was reused \(200\)/,
    },
    {
      // Reuse two rotations back is refused and revokes; the token replaced last is still taken, for ever.
      name: 'the refresh token just replaced stays good until its successor is used',
      target: authFixture({ flaws: ['refresh-previous-token-accepted'] }),
      expect:
        /reused refresh token accepted \(200\): the refresh token just replaced, sent again before its successor was used, still bought new tokens/,
    },
  ],
});
