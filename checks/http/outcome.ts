/**
 * The verdict every HTTP check reaches the same way, in the same order: a
 * broken control fails (naming each break), else a probe that observed
 * nothing makes the check an error (fail closed: silence is not a pass),
 * else it passes.
 */
import type { CheckOutcome, Observation } from '../../src/engine/types.js';

export interface HttpFindings {
  /** One sentence per broken control. */
  failures: readonly string[];
  /** One sentence per probe that got no answer to judge (refused, timed out, reset). */
  unobserved: readonly string[];
}

export function httpVerdict(
  findings: HttpFindings,
  observations: Observation[],
  summaries: { pass: string; failPrefix?: string; unobservedPrefix?: string },
): CheckOutcome {
  if (findings.failures.length > 0) {
    return { status: 'fail', summary: `${summaries.failPrefix ?? ''}${findings.failures.join('; ')}`, observations };
  }
  if (findings.unobserved.length > 0) {
    const prefix = summaries.unobservedPrefix ?? 'could not observe: ';
    return { status: 'error', summary: `${prefix}${findings.unobserved.join('; ')}`, observations };
  }
  return { status: 'pass', summary: summaries.pass, observations };
}
