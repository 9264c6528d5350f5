import lockout from '../../../checks/auth/lockout.js';
import { testCheck } from '../../harness/check-tester.js';
import { authFixture, referenceService } from './support/auth-fixture-target.js';

testCheck(lockout, {
  valid: [
    { name: 'reference service', target: referenceService() },
    { name: 'auth fixture, correct mode', target: authFixture() },
    {
      name: 'a dedicated probe account of its own, under auth.accounts',
      target: authFixture({ extraAccounts: ['lockout_probe'] }),
      with: { account: 'lockout_probe' },
    },
  ],
  invalid: [
    {
      name: 'no lockout',
      target: authFixture({ flaws: ['no-lockout'] }),
      expect: /account not locked: the correct password after 5 wrong ones was accepted \(200 with a MFA challenge\)/,
    },
    {
      name: 'lockout answering a different message',
      target: authFixture({ flaws: ['lockout-distinct-message'] }),
      expect: /locked response differs from the wrong-password response: 401 \{"detail":"Account locked"\}/,
    },
    {
      name: 'no database to verify the audit rows',
      target: authFixture({ withoutDatabase: true }),
      status: 'error',
      expect: /could not observe the audit rows: the checklist names no database/,
    },
  ],
});
