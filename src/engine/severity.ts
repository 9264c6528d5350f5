/**
 * How much a broken control matters. A check declares its severity in its
 * metadata; a checklist entry may override it (`severity:`). Every report
 * shows it, and SARIF turns it into GitHub's `security-severity` score.
 */
export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A check that declares none (a plugin written before severities existed) counts as high: a gate errs on the safe side. */
export const DEFAULT_SEVERITY: Severity = 'high';

/** Higher is more severe: lowering an entry's severity is a weakening the baseline guard can see. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.length - SEVERITIES.indexOf(severity);
}

/** An entry's severity: its own override, else its check's, else the default. */
export function severityOf(entry: { severity?: Severity; check: { severity?: Severity } }): Severity {
  return entry.severity ?? entry.check.severity ?? DEFAULT_SEVERITY;
}
