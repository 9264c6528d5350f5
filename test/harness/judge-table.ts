/**
 * A table test for a check's pure judge: sample observations in, the status
 * and a key phrase of the summary out, as RuleTester does for lint rules. No
 * server, repository or file is involved, so a table runs in milliseconds and
 * can name every failure mode, including the observations a probe could not
 * complete. Each outcome goes through the engine's own `judgeOutcome`, so a
 * judge that claims a pass beside a broken observation shows up as the error
 * it would be in a run.
 */
import { describe, expect, it } from 'vitest';
import { judgeOutcome } from '../../src/engine/run.js';
import type { CheckOutcome, CheckStatus } from '../../src/engine/types.js';

export interface JudgeCase<Seen> {
  name: string;
  /** The observation judged; a function when it must be built per case. */
  seen: Seen | (() => Seen);
  status: CheckStatus;
  /** Matched against the summary. */
  expect: RegExp;
  /** Matched against the outcome's observations, as JSON, when given. */
  observations?: RegExp;
}

/**
 * One test per case, and one that the table names a pass, a fail and an
 * error: a judge table without a "could not observe" sample does not show
 * that the missing observation is never a pass.
 */
export function judgeTable<Seen>(
  title: string,
  judge: (seen: Seen) => CheckOutcome,
  cases: readonly JudgeCase<Seen>[],
): void {
  describe(title, () => {
    it('covers pass, fail and error', () => {
      const statuses = new Set(cases.map((sample) => sample.status));
      expect([...statuses].filter((status) => status !== 'skip').sort()).toEqual(['error', 'fail', 'pass']);
    });
    it.each(cases.map((sample) => [`${sample.status}: ${sample.name}`, sample] as const))('%s', (_, sample) => {
      const seen = typeof sample.seen === 'function' ? (sample.seen as () => Seen)() : sample.seen;
      const outcome = judgeOutcome(judge(seen));
      expect(outcome.status, JSON.stringify(outcome, null, 2)).toBe(sample.status);
      expect(outcome.summary).toMatch(sample.expect);
      if (sample.observations) expect(JSON.stringify(outcome.observations)).toMatch(sample.observations);
    });
  });
}
