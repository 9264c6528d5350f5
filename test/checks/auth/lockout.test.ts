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
      name: 'the locked answer carries a header the wrong-password answer does not',
      target: authFixture({ flaws: ['lockout-retry-after-header'] }),
      expect:
        /locked response differs from the wrong-password response in its headers: header:retry-after: "900" against \(absent\)/,
    },
    {
      name: 'the lock is kept per address: the correct password from another address gets in',
      target: authFixture({ flaws: ['lockout-per-address'] }),
      expect:
        /lockout bypassed: as secgate-probe with the correct password from 127\.0\.0\.\d+ during lockout was accepted \(200 with a MFA challenge\)/,
    },
    {
      name: 'the lock is kept per spelling: the name in another case gets in',
      target: authFixture({ flaws: ['lockout-per-spelling'] }),
      expect:
        /lockout bypassed: as Secgate-probe \(another case\) with the correct password during lockout was accepted \(200 with a MFA challenge\)/,
    },
    {
      name: 'no database to verify the audit rows',
      target: authFixture({ withoutDatabase: true }),
      status: 'error',
      expect: /could not observe the audit rows: the checklist names no database/,
    },
  ],
});
