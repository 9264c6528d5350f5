import pg from 'pg';
import { describe, expect, it } from 'vitest';
import noEnumeration, {
  assessTiming,
  clearlyAlike,
  mannWhitneyPValue,
  median,
} from '../../../checks/auth/no-enumeration.js';
import { testCheck } from '../../harness/check-tester.js';
import { plannedEntry, runEntries } from '../../support/engine-run.js';
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
      // early_samples below samples: the early look runs, finds the classes far from alike and samples on.
      name: 'wrong-password path several times slower, past the early look',
      target: authFixture({ flaws: ['slow-wrong-password'] }),
      with: { samples: 5, early_samples: 3 },
      expect: /timing reveals which usernames exist: wrong-password median \d+(\.\d)? ms vs unknown-user median/,
    },
    {
      name: 'locked account answers differently',
      target: authFixture({ flaws: ['lockout-distinct-message'] }),
      expect: /responses differ between classes: .*locked account → 401 \{"detail":"Account locked"\}/,
    },
    {
      name: 'wrong passwords for a real account carry a rate-limit header',
      target: authFixture({ flaws: ['rate-limit-header-on-real-accounts'] }),
      expect:
        /responses differ between classes in their headers: .*wrong password.*header:x-ratelimit-remaining: .*"4"/,
    },
    {
      name: 'the locked account answers with a Retry-After header',
      target: authFixture({ flaws: ['lockout-retry-after-header'] }),
      expect: /responses differ between classes in their headers: .*locked account.*header:retry-after/,
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
  const defaults = { max_difference_ratio: 0.25, tolerance_ms: 5, significance: 0.01 };
  it.each([
    {
      name: 'equal paths on an idle machine',
      unknownUserMs: [12, 11, 13, 12, 14],
      wrongPasswordMs: [12, 13, 12, 11, 12],
      ok: true,
      verdict: 'alike',
    },
    {
      name: 'equal paths on a loaded machine: both slow and noisy',
      unknownUserMs: [410, 380, 900, 395, 420, 2_100, 405],
      wrongPasswordMs: [430, 1_500, 400, 415, 390, 385, 440],
      ok: true,
      verdict: 'alike',
    },
    {
      name: 'a few outliers in one class do not decide: medians',
      unknownUserMs: [20, 21, 19, 20, 5_000, 4_000, 21],
      wrongPasswordMs: [20, 22, 21, 19, 20, 21, 20],
      ok: true,
      verdict: 'alike',
    },
    {
      name: 'under the floor: 4 ms apart on a fast loopback',
      unknownUserMs: [3, 3, 3],
      wrongPasswordMs: [7, 7, 7],
      ok: true,
      verdict: 'alike',
    },
    {
      name: 'unknown users skip the hash: wrong password 50 ms slower',
      unknownUserMs: [4, 5, 4, 6, 5],
      wrongPasswordMs: [55, 54, 57, 56, 55],
      ok: false,
      verdict: 'undecided',
    },
    {
      name: 'a fixed 100 ms extra on a fast machine',
      unknownUserMs: [60, 62, 61],
      wrongPasswordMs: [160, 161, 163],
      ok: false,
      verdict: 'undecided',
    },
    {
      name: 'the same fixed 100 ms drowned by a machine four times slower: within the relative bound',
      unknownUserMs: [400, 420, 410],
      wrongPasswordMs: [500, 515, 505],
      ok: true,
      verdict: 'alike',
    },
    {
      name: 'the faster path may be either one',
      unknownUserMs: [90, 95, 92],
      wrongPasswordMs: [40, 41, 42],
      ok: false,
      verdict: 'undecided',
    },
    {
      name: 'no samples in a class is never a pass',
      unknownUserMs: [10, 11],
      wrongPasswordMs: [],
      ok: false,
      verdict: 'undecided',
    },
    {
      name: 'a clear difference over two batches of 15: significant, so different',
      unknownUserMs: [4, 5, 4, 6, 5, 5, 4, 6, 5, 4, 5, 6, 4, 5, 5, 5, 4, 6, 5, 4, 5, 6, 4, 5, 5, 4, 5, 6, 4, 5],
      wrongPasswordMs: [
        55, 54, 57, 56, 55, 58, 54, 56, 55, 57, 54, 55, 56, 57, 55, 55, 54, 57, 56, 55, 58, 54, 56, 55, 57, 54, 55, 56,
        57, 55,
      ],
      ok: false,
      verdict: 'different',
    },
    {
      name: 'equal classes on a busy machine whose medians drift past the bound by chance: undecided, not a failure',
      unknownUserMs: [28, 95, 30, 31, 120, 27, 29, 88, 33, 26, 30, 140, 29, 31, 28],
      wrongPasswordMs: [44, 29, 110, 33, 27, 45, 90, 32, 30, 46, 28, 43, 100, 44, 41],
      ok: false,
      verdict: 'undecided',
    },
  ])('$name → $verdict', ({ unknownUserMs, wrongPasswordMs, ok, verdict }) => {
    expect(assessTiming({ unknownUserMs, wrongPasswordMs }, defaults)).toMatchObject({ ok, verdict });
  });

  it.each([
    { name: 'identical samples', first: [5, 5, 5], second: [5, 5, 5], p: 1 },
    { name: 'an empty class', first: [], second: [1, 2], p: 1 },
    // Textbook: U = 0 for 5 vs 5, normal approximation with continuity correction: z = 12 / 4.787.
    { name: 'five below five', first: [1, 2, 3, 4, 5], second: [6, 7, 8, 9, 10], p: 0.0122 },
    { name: 'interleaved', first: [1, 3, 5, 7, 9], second: [2, 4, 6, 8, 10], p: 0.676 },
  ])('Mann–Whitney p-value: $name → $p', ({ first, second, p }) => {
    expect(mannWhitneyPValue(first, second)).toBeCloseTo(p, 3);
  });

  it('reports the medians, their difference and the bound it applied', () => {
    expect(assessTiming({ unknownUserMs: [10, 30, 20], wrongPasswordMs: [100, 80, 90] }, defaults)).toEqual({
      unknownMedian: 20,
      wrongMedian: 90,
      difference: 70,
      bound: 22.5,
      pValue: expect.closeTo(0.0809, 3),
      verdict: 'undecided',
      ok: false,
    });
    expect(assessTiming({ unknownUserMs: [2], wrongPasswordMs: [3] }, { ...defaults })).toMatchObject({
      bound: 5,
      ok: true,
    });
  });
});

describe('clearlyAlike (when the early look may end the sampling)', () => {
  const defaults = { max_difference_ratio: 0.25, tolerance_ms: 5, significance: 0.01 };
  it.each([
    { name: 'medians equal', unknownUserMs: [40, 42, 41, 40], wrongPasswordMs: [41, 40, 42, 41], early: true },
    // Bound: 0.25 × 100 = 25 ms; half of it 12.5 ms.
    { name: 'within half the bound', unknownUserMs: [100, 100, 100], wrongPasswordMs: [88, 88, 88], early: true },
    {
      name: 'alike, but past half the bound',
      unknownUserMs: [100, 100, 100],
      wrongPasswordMs: [80, 80, 80],
      early: false,
    },
    { name: 'beyond the bound', unknownUserMs: [100, 100, 100], wrongPasswordMs: [60, 60, 60], early: false },
    { name: 'a class without samples', unknownUserMs: [40, 41], wrongPasswordMs: [], early: false },
  ])('$name → $early', ({ unknownUserMs, wrongPasswordMs, early }) => {
    expect(clearlyAlike(assessTiming({ unknownUserMs, wrongPasswordMs }, defaults))).toBe(early);
  });
});

describe('auth.no-enumeration, when the first batch cannot decide', () => {
  it('takes more batches from the run’s address pool, blocks none, and an undecided verdict is an error', async () => {
    const fixture = await authFixture()();
    try {
      const checkAddresses = ['127.0.0.20', '127.0.0.21'];
      // A zero bound and an unreachable significance: equal classes are never alike and never significantly
      // different, so every allowed batch is taken and the verdict stays undecided.
      const [result] = await runEntries(fixture.context, [
        plannedEntry('auth.no-enumeration', {
          samples: 4,
          max_batches: 3,
          max_difference_ratio: 0,
          tolerance_ms: 0,
          significance: 1e-9,
          source_addresses: checkAddresses,
        }),
      ]);
      expect(result?.status, result?.outcome.summary).toBe('error');
      expect(result?.outcome.summary).toMatch(/could not decide .* after 12 samples per class/);
      const db = new pg.Client({ connectionString: fixture.context.databaseUrl });
      await db.connect();
      try {
        const { rows } = await db.query<{ address: string; failures: string }>(
          `SELECT host(ip_address) AS address, count(*) AS failures FROM auth_failure_events GROUP BY 1`,
        );
        const fromPool = rows.filter((row) => !checkAddresses.includes(row.address));
        // The first batch (and the lockout) from the check's own addresses, the two extra batches from the pool.
        expect(fromPool.length, JSON.stringify(rows)).toBeGreaterThan(0);
        expect(fromPool.reduce((sum, row) => sum + Number(row.failures), 0)).toBeGreaterThanOrEqual(2 * 4 * 2);
        const blocks = await db.query('SELECT host(ip_address) AS address FROM ip_blocks');
        expect(blocks.rows).toEqual([]);
      } finally {
        await db.end();
      }
    } finally {
      await fixture.close();
    }
  });
});
