/** A problem in the checklist, located precisely enough to fix without guessing. */
export interface ChecklistProblem {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Dotted key path, e.g. `checks[2].with.minimum`; empty for whole-document problems. */
  keyPath: string;
  /** What was expected and what was found. */
  message: string;
}

export function formatProblem(problem: ChecklistProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`;
  return problem.keyPath ? `${where}: ${problem.keyPath}: ${problem.message}` : `${where}: ${problem.message}`;
}

/** Thrown when a checklist cannot be used; the CLI turns it into exit code 2. */
export class ChecklistError extends Error {
  constructor(readonly problems: ChecklistProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ChecklistError';
  }
}
