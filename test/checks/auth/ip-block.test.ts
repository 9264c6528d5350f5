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
