import { describe, expect, it } from 'vitest';
import noEnumeration, { median } from '../../../checks/auth/no-enumeration.js';
import { testCheck } from '../../harness/check-tester.js';
import { authFixture, referenceService } from './support/auth-fixture-target.js';

testCheck(noEnumeration, {
  timeoutMs: 60_000,
  valid: [
    { name: 'reference service', target: referenceService() },
    { name: 'auth fixture, correct mode', target: authFixture() },
    {
      name: 'auth fixture, correct mode, strictly sequential samples',
      target: authFixture(),
      with: { concurrent_pairs: false },
    },
  ],
  invalid: [
    {
      name: 'measurably slower wrong-password path',
      target: authFixture({ flaws: ['slow-wrong-password'] }),
      expect: /timing reveals which usernames exist: wrong-password median \d+(\.\d)? ms vs unknown-user median/,
    },
    {
      name: 'locked account answers differently',
      target: authFixture({ flaws: ['lockout-distinct-message'] }),
      expect: /responses differ between classes: .*locked account → 401 \{"detail":"Account locked"\}/,
    },
  ],
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
  });
});
