/**
 * The table tester for a check's pure judge, in the RuleTester spirit: each
 * row is a sample observation, the status it must get and a phrase its
 * summary or observations must carry. No service, no database: it is fast.
 */
import { describe, expect, it } from 'vitest';
import type { CheckOutcome, CheckStatus } from '../../../../src/engine/types.js';

export interface JudgeCase<Seen, With> {
  name: string;
  seen: Seen;
  /** Parameters that differ from the table's own, for this row. */
  with?: With;
  status: CheckStatus;
  phrase: RegExp;
}

export function judgeTable<Seen, With = never>(
  title: string,
  judge: (seen: Seen, overrides: With | undefined) => CheckOutcome,
  cases: JudgeCase<Seen, With>[],
): void {
  describe(title, () => {
    it.each(cases)('$name → $status', (row) => {
      const outcome = judge(row.seen, row.with);
      expect(outcome.status).toBe(row.status);
      expect(`${outcome.summary} ${JSON.stringify(outcome.observations)}`).toMatch(row.phrase);
    });
  });
}
