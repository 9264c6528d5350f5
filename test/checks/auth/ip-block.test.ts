import ipBlock from '../../../checks/auth/ip-block.js';
import { testCheck } from '../../harness/check-tester.js';
import { authFixture, referenceService } from './support/auth-fixture-target.js';

testCheck(ipBlock, {
  valid: [
    { name: 'reference service', target: referenceService() },
    { name: 'auth fixture, correct mode', target: authFixture() },
  ],
  invalid: [
    {
      name: 'no IP block',
      target: authFixture({ flaws: ['no-ip-block'] }),
      expect: /no ip_blocks row for 127\.0\.0\.9 after 11 failures/,
    },
    {
      // Every answer is the block's 403, yet the wrong password, the garbage token and the wrong code were checked.
      name: 'auth logic runs for a blocked address before its answer becomes 403',
      target: authFixture({ flaws: ['auth-before-block'] }),
      expect:
        /auth logic ran for the blocked address before it was refused: \d+ failure rows \((?=.*bad_password)(?=.*invalid_token)(?=.*bad_totp)[a-z_, ]+\) written after the block/,
    },
    {
      name: 'only unknown usernames count towards the block',
      target: authFixture({ flaws: ['ip-block-counts-unknown-users-only'] }),
      expect: /no ip_blocks row for 127\.0\.0\.9 after 11 failures/,
    },
    {
      name: 'the refresh endpoint is left out of the block',
      target: authFixture({ flaws: ['ip-block-skips-refresh'] }),
      expect:
        /blocked address not refused: POST \/api\/v1\/auth\/refresh with a real refresh token answered 200, expected 403/,
    },
    {
      name: 'IP block keyed on X-Forwarded-For',
      target: authFixture({ flaws: ['ip-from-forwarded-header'] }),
      expect: /failure recorded under the X-Forwarded-For address 203\.0\.113\.77, not the real 127\.0\.0\.13/,
    },
    {
      name: 'no database to verify the block',
      target: authFixture({ withoutDatabase: true }),
      status: 'error',
      expect: /could not observe the ip_blocks rows: the checklist names no database/,
    },
  ],
});
