/** The checklist-weakening guard (`secgate verify --baseline-ref <ref>`). */
export {
  addedBaselineEntries,
  BASELINE_CHECK_ID,
  BASELINE_FILE_CHECKS,
  type BaselineFileVersions,
  type ChecklistChange,
  type ChecklistComparison,
  type ComparableChecklist,
  type CompareOptions,
  compareChecklists,
  judgeChange,
  SCOPE_KEYS,
  type WeakeningKind,
} from './compare.js';
export {
  type BaselineChecklist,
  BaselineError,
  parseComparableChecklist,
  readBaselineFileVersions,
  readChecklistAtRef,
} from './git.js';
export {
  BASELINE_CHECK_SOURCE,
  BASELINE_CHECK_TITLE,
  BASELINE_REMEDIATION,
  type BaselineOutcomeInput,
  baselineOutcome,
} from './outcome.js';
