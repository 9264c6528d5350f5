/**
 * The guard's verdict as a check outcome, so the engine can record it like any
 * control (`secgate.baseline`) and a waiver on that id, with its reason and
 * expiry, accepts a deliberate weakening through the ordinary waiver path.
 */
import type { CheckOutcome, Observation } from '../engine/types.js';
import type { ChecklistComparison } from './compare.js';

export const BASELINE_CHECK_TITLE = 'The checklist is not weaker than on the base branch';
export const BASELINE_CHECK_SOURCE = 'secgate, issue 7 (guard against weakening the gate)';
export const BASELINE_REMEDIATION =
  'Restore the removed check, threshold, waiver expiry, target or baseline file; or, if the weakening is intended, accept it with a waiver on secgate.baseline that gives the reason and an expiry date.';

export interface BaselineOutcomeInput {
  comparison: ChecklistComparison;
  /** The ref compared against, e.g. `origin/main`. */
  ref: string;
  /** The checklist's path as shown to people. */
  checklistPath: string;
  baseSha256: string;
  headSha256: string;
}

export function baselineOutcome(input: BaselineOutcomeInput): CheckOutcome {
  const { comparison, ref, checklistPath } = input;
  const context: Observation = {
    probe: `compare ${checklistPath} at ${ref} with the checklist under verification`,
    expected:
      'no check removed, no threshold loosened, no waiver added or extended, no finding newly accepted in a baseline file, the same target, database, auth and repo',
    actual: { baseSha256: input.baseSha256, headSha256: input.headSha256, changes: comparison.changes.length },
    ok: comparison.weakenings.length === 0,
  };
  const observations: Observation[] = [
    context,
    ...comparison.changes.map(
      (change): Observation => ({
        probe: `${change.kind} ${change.entry}${change.param ? `.with.${change.param}` : ''}`,
        ...(change.before !== undefined ? { expected: change.before } : {}),
        ...(change.after !== undefined ? { actual: change.after } : {}),
        ...(change.blocking ? { ok: false } : {}),
        note: change.message,
        location: { path: checklistPath },
      }),
    ),
  ];
  if (comparison.weakenings.length === 0) {
    const reviewed =
      comparison.changes.length > 0 ? ` (${comparison.changes.length} other changes listed for review)` : '';
    return { status: 'pass', summary: `the checklist is as strict as at ${ref}${reviewed}`, observations };
  }
  const count = comparison.weakenings.length;
  const list = comparison.weakenings.map((change) => change.message).join('; ');
  return {
    status: 'fail',
    summary: `${count} weakening${count === 1 ? '' : 's'} against ${ref}: ${list}`,
    observations,
  };
}
