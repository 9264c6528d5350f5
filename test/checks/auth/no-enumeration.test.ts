import { describe, expect, it } from 'vitest';
import noEnumeration, { assessTiming, median } from '../../../checks/auth/no-enumeration.js';
import { testCheck } from '../../harness/check-tester.js';
import { authFixture, referenceService } from './support/auth-fixture-target.js';

testCheck(noEnumeration, {
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
      // The flaw is several times any bound the judge allows, on an idle or a loaded machine alike, so a
      // handful of samples shows it; where the judge's bound lies is proven on sample tables below.
      name: 'wrong-password path several times slower',
      target: authFixture({ flaws: ['slow-wrong-password'] }),
      with: { samples: 5 },
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

describe('assessTiming (the timing judge, on sample tables)', () => {
  const defaults = { max_difference_ratio: 0.25, tolerance_ms: 5 };
  it.each([
    {
      name: 'equal paths on an idle machine',
      unknownUserMs: [12, 11, 13, 12, 14],
      wrongPasswordMs: [12, 13, 12, 11, 12],
      ok: true,
    },
    {
      name: 'equal paths on a loaded machine: both slow and noisy',
      unknownUserMs: [410, 380, 900, 395, 420, 2_100, 405],
      wrongPasswordMs: [430, 1_500, 400, 415, 390, 385, 440],
      ok: true,
    },
    {
      name: 'a few outliers in one class do not decide: medians',
      unknownUserMs: [20, 21, 19, 20, 5_000, 4_000, 21],
      wrongPasswordMs: [20, 22, 21, 19, 20, 21, 20],
      ok: true,
    },
    {
      name: 'under the floor: 4 ms apart on a fast loopback',
      unknownUserMs: [3, 3, 3],
      wrongPasswordMs: [7, 7, 7],
      ok: true,
    },
    {
      name: 'unknown users skip the hash: wrong password 50 ms slower',
      unknownUserMs: [4, 5, 4, 6, 5],
      wrongPasswordMs: [55, 54, 57, 56, 55],
      ok: false,
    },
    {
      name: 'a fixed 100 ms extra on a fast machine',
      unknownUserMs: [60, 62, 61],
      wrongPasswordMs: [160, 161, 163],
      ok: false,
    },
    {
      name: 'the same fixed 100 ms drowned by a machine four times slower: within the relative bound',
      unknownUserMs: [400, 420, 410],
      wrongPasswordMs: [500, 515, 505],
      ok: true,
    },
    {
      name: 'the faster path may be either one',
      unknownUserMs: [90, 95, 92],
      wrongPasswordMs: [40, 41, 42],
      ok: false,
    },
    { name: 'no samples in a class is never a pass', unknownUserMs: [10, 11], wrongPasswordMs: [], ok: false },
  ])('$name → ok: $ok', ({ unknownUserMs, wrongPasswordMs, ok }) => {
    expect(assessTiming({ unknownUserMs, wrongPasswordMs }, defaults).ok).toBe(ok);
  });

  it('reports the medians, their difference and the bound it applied', () => {
    expect(assessTiming({ unknownUserMs: [10, 30, 20], wrongPasswordMs: [100, 80, 90] }, defaults)).toEqual({
      unknownMedian: 20,
      wrongMedian: 90,
      difference: 70,
      bound: 22.5,
      ok: false,
    });
    expect(
      assessTiming({ unknownUserMs: [2], wrongPasswordMs: [3] }, { max_difference_ratio: 0.25, tolerance_ms: 5 }),
    ).toMatchObject({ bound: 5, ok: true });
  });
});
