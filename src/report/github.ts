/**
 * GitHub Actions workflow commands: one annotation per failed, unverifiable or
 * waived check, printed on stdout when `GITHUB_ACTIONS=true`. Repository
 * findings are annotated at their file and line; everything else at the
 * checklist. GitHub shows at most 10 annotations of a level per step and
 * silently drops the rest, so the most important come first (controls seen
 * broken, then those not observed), and when there are more, the tenth says
 * how many and which were left out. Every value is escaped so evidence text
 * can never end the command early or start another one.
 */
import type { CheckRecord, EvidencePredicate } from '../evidence/types.js';
import {
  checklistFile,
  controlLocation,
  describeLocation,
  explainingObservations,
  formatValue,
  isNoteworthy,
  oneLine,
  repositoryPath,
  severityWord,
} from './describe.js';
import { escapeWorkflowData, escapeWorkflowProperty } from './escape.js';
import type { ReportInput } from './input.js';

/** GitHub shows at most 10 annotations of each level per step; more vanish without a trace. */
export const MAX_ANNOTATIONS_PER_LEVEL = 10;

/** Which records come first: a control seen broken outranks one not observed, which outranks a waived failure. */
const IMPORTANCE: Record<string, number> = { fail: 0, error: 1, waived: 2 };

interface Annotation {
  level: 'error' | 'warning' | 'notice';
  file: string;
  line?: number;
  column?: number;
  title: string;
  message: string;
}

function command({ level, file, line, column, title, message }: Annotation): string {
  const properties = [`file=${escapeWorkflowProperty(file)}`];
  if (line) properties.push(`line=${line}`);
  if (column) properties.push(`col=${column}`);
  properties.push(`title=${escapeWorkflowProperty(title)}`);
  return `::${level} ${properties.join(',')}::${escapeWorkflowData(message)}`;
}

function annotationsFor(record: CheckRecord, predicate: EvidencePredicate): Annotation[] {
  const level = record.status === 'waived' ? 'notice' : 'error';
  const verb =
    record.status === 'error' ? 'could not verify' : record.status === 'waived' ? 'waived failure' : 'failed';
  const title = `secgate ${record.id} ${verb} (severity ${severityWord(record).toLowerCase()})`;
  const fix =
    record.status === 'error'
      ? 'The control was not observed; fix the cause and run again.'
      : `Fix: ${record.remediation}`;
  const waiver =
    record.status === 'waived' && record.waiver
      ? `\nWaived until ${record.waiver.expires}: ${record.waiver.reason}`
      : '';
  const located = record.observations.filter((observation) => observation.ok === false && observation.location);
  if (located.length > 0) {
    return located.map((observation) => {
      const where = observation.location;
      const seen = [formatValue(observation.actual), observation.note].filter(Boolean).join(' — ');
      return {
        level,
        file: where ? repositoryPath(where) : checklistFile(predicate),
        ...(where?.line ? { line: where.line } : {}),
        ...(where?.column ? { column: where.column } : {}),
        title,
        message: `${record.title}: ${oneLine(seen, 500)}${where?.commit ? ` (${describeLocation(where)})` : ''}\n${fix}${waiver}`,
      };
    });
  }
  const evidence = explainingObservations(record)
    .slice(0, 3)
    .map((observation) => {
      const seen = [formatValue(observation.actual), observation.note].filter(Boolean).join(' — ');
      return `- ${observation.probe}: expected ${formatValue(observation.expected)}, got ${oneLine(seen, 300)}`;
    });
  const control = controlLocation(predicate, record);
  return [
    {
      level,
      file: control.file,
      line: control.line,
      title,
      message: [`${record.title}: ${oneLine(record.summary, 500)}`, ...evidence, fix].join('\n') + waiver,
    },
  ];
}

export function renderGithubAnnotations({ predicate }: ReportInput): string {
  const annotations = predicate.checks
    .filter(isNoteworthy)
    .map((record, index) => ({ record, index }))
    .sort((a, b) => (IMPORTANCE[a.record.status] ?? 3) - (IMPORTANCE[b.record.status] ?? 3) || a.index - b.index)
    .flatMap(({ record }) => annotationsFor(record, predicate));
  return withinGithubLimits(annotations, predicate)
    .map((annotation) => `${command(annotation)}\n`)
    .join('');
}

/** At most 10 of each level: the first 9 as they are, and one that names what was left out. */
function withinGithubLimits(annotations: Annotation[], predicate: EvidencePredicate): Annotation[] {
  const shown: Annotation[] = [];
  for (const level of ['error', 'warning', 'notice'] as const) {
    const ofLevel = annotations.filter((annotation) => annotation.level === level);
    if (ofLevel.length <= MAX_ANNOTATIONS_PER_LEVEL) {
      shown.push(...ofLevel);
      continue;
    }
    const kept = ofLevel.slice(0, MAX_ANNOTATIONS_PER_LEVEL - 1);
    const rest = ofLevel.slice(MAX_ANNOTATIONS_PER_LEVEL - 1);
    const where = rest.map(
      (annotation) => `${annotation.title} at ${annotation.file}${annotation.line ? `:${annotation.line}` : ''}`,
    );
    shown.push(...kept, {
      level,
      file: checklistFile(predicate),
      title: `${rest.length} more secgate ${level} annotations not shown`,
      message: `GitHub shows at most ${MAX_ANNOTATIONS_PER_LEVEL} ${level} annotations per step, so these are in the job summary and the evidence file only: ${oneLine(where.join('; '), 2000)}`,
    });
  }
  return shown;
}
