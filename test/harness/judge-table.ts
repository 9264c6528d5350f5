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

interface JudgeCaseBase<Seen, With> {
  name: string;
  /** The observation judged; a function when it must be built per case. */
  seen: Seen | (() => Seen);
  /** Parameters that differ from the table's own, for this case (passed to the judge as its second argument). */
  with?: With;
  status: CheckStatus;
  /** Matched against the outcome's observations, as JSON, when given. */
  observations?: RegExp;
}

/** A case names what the outcome must say: in its summary (`expect`), or anywhere in it (`phrase`). */
export type JudgeCase<Seen, With = never> = JudgeCaseBase<Seen, With> &
  ({ expect: RegExp; phrase?: RegExp } | { expect?: RegExp; phrase: RegExp });

/**
 * One test per case, and one that the table names a pass, a fail and an
 * error: a judge table without a "could not observe" sample does not show
 * that the missing observation is never a pass.
 */
export function judgeTable<Seen, With = never>(
  title: string,
  judge: (seen: Seen, overrides: With | undefined) => CheckOutcome,
  cases: readonly JudgeCase<Seen, With>[],
): void {
  describe(title, () => {
    it('covers pass, fail and error', () => {
      const statuses = new Set(cases.map((sample) => sample.status));
      expect([...statuses].filter((status) => status !== 'skip').sort()).toEqual(['error', 'fail', 'pass']);
    });
    it.each(cases.map((sample) => [`${sample.status}: ${sample.name}`, sample] as const))('%s', (_, sample) => {
      const seen = typeof sample.seen === 'function' ? (sample.seen as () => Seen)() : sample.seen;
      const outcome = judgeOutcome(judge(seen, sample.with));
      expect(outcome.status, JSON.stringify(outcome, null, 2)).toBe(sample.status);
      if (sample.expect) expect(outcome.summary).toMatch(sample.expect);
      if (sample.phrase) expect(`${outcome.summary} ${JSON.stringify(outcome.observations)}`).toMatch(sample.phrase);
      if (sample.observations) expect(JSON.stringify(outcome.observations)).toMatch(sample.observations);
    });
  });
}
