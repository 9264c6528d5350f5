/**
 * Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`: the verdict
 * first, a table of every check, then for each check that did not pass what
 * was seen and what to do. Every string from the evidence is escaped, and the
 * detail is bounded so the summary stays under the comment size limits.
 */
import type { Observation } from '../engine/types.js';
import type { CheckRecord } from '../evidence/types.js';
import {
  countsSentence,
  describeLocation,
  explainingObservations,
  formatDuration,
  formatValue,
  isNoteworthy,
  oneLine,
  STATUS_WORDS,
  severityWord,
  verdictSentence,
} from './describe.js';
import { escapeMarkdown } from './escape.js';
import type { ReportInput } from './input.js';

const STATUS_ICONS: Record<CheckRecord['status'], string> = {
  pass: '✅',
  fail: '❌',
  error: '⚠️',
  skip: '⏭️',
  waived: '🟡',
};

const VERDICT_ICONS = { pass: '✅', fail: '❌', error: '⚠️', partial: '⚠️' } as const;

/** Observations shown per check; the evidence file holds the rest. */
const MAX_OBSERVATIONS = 10;
/** Long values are cut in the table cells; the evidence file holds them whole. */
const MAX_CELL = 200;
/** A pull-request comment holds 65,536 characters; details stop before that, the table never does. */
const MAX_DETAILS_LENGTH = 60_000;

const cell = (text: string) => escapeMarkdown(oneLine(text, MAX_CELL));

function observationRow(observation: Observation): string {
  const where = observation.location ? describeLocation(observation.location) : '';
  const seen = [formatValue(observation.actual), observation.note ?? ''].filter(Boolean).join(' — ');
  return `| ${cell(observation.probe)} | ${cell(formatValue(observation.expected))} | ${cell(seen)} | ${cell(where)} |`;
}

function details(record: CheckRecord): string[] {
  const lines = [
    `### ${STATUS_ICONS[record.status]} ${escapeMarkdown(record.id)}: ${escapeMarkdown(STATUS_WORDS[record.status])}`,
    '',
    `**${escapeMarkdown(record.title)}** (${escapeMarkdown(record.source)}), severity ${escapeMarkdown(severityWord(record).toLowerCase())}`,
    '',
    `Finding: ${escapeMarkdown(oneLine(record.summary, 1000))}`,
    '',
  ];
  if (record.status === 'waived' && record.waiver) {
    lines.push(
      `> Waived until ${escapeMarkdown(record.waiver.expires)} (UTC end of day): ${escapeMarkdown(oneLine(record.waiver.reason, 500))}`,
      '',
    );
  }
  const observations = explainingObservations(record);
  if (observations.length > 0) {
    lines.push('| Probe | Expected | Seen | Where |', '| --- | --- | --- | --- |');
    lines.push(...observations.slice(0, MAX_OBSERVATIONS).map(observationRow));
    if (observations.length > MAX_OBSERVATIONS) {
      lines.push('', `… and ${observations.length - MAX_OBSERVATIONS} more observations in the evidence file.`);
    }
    lines.push('');
  }
  if (record.status === 'error') {
    lines.push(
      '**Could not verify:** the control was not observed. Fix the cause above (reachability, credentials, database access) and run again.',
    );
  } else {
    lines.push(`**How to fix:** ${escapeMarkdown(oneLine(record.remediation, 1000))}`);
  }
  lines.push('');
  return lines;
}

export function renderMarkdown({ predicate, signature }: ReportInput): string {
  const lines = [
    `## ${VERDICT_ICONS[predicate.verdict]} secgate: ${escapeMarkdown(verdictSentence(predicate))}`,
    '',
    `${escapeMarkdown(countsSentence(predicate))}. Target ${escapeMarkdown(predicate.target.url)}, checklist \`${predicate.checklist.sha256.slice(0, 12)}\` (${escapeMarkdown(predicate.checklist.path)}), exit code ${predicate.exitCode}.`,
    '',
  ];
  if (signature) {
    const keyid = signature.keyid ? ` (key ${escapeMarkdown(signature.keyid.slice(0, 16))}…)` : '';
    const words = {
      valid: `Evidence signed and verified${keyid}.`,
      invalid: `**Evidence signature INVALID**${keyid}: ${escapeMarkdown(signature.reason ?? 'does not verify')}.`,
      unsigned: '**Evidence is UNSIGNED**: it proves nothing to a reviewer.',
      unverified: `Evidence signed${keyid}; signature not checked here.`,
    } as const;
    lines.push(words[signature.status], '');
  }
  if (predicate.interrupted) lines.push('**The run was interrupted before every check finished.**', '');
  lines.push('| | Check | Severity | Result | Summary | Time |', '| --- | --- | --- | --- | --- | --- |');
  for (const record of predicate.checks) {
    lines.push(
      `| ${STATUS_ICONS[record.status]} | ${cell(record.id)} | ${cell(severityWord(record))} | ${cell(STATUS_WORDS[record.status])} | ${cell(record.summary)} | ${formatDuration(record.durationMs)} |`,
    );
  }
  lines.push('');
  const noteworthy = predicate.checks.filter(isNoteworthy);
  if (noteworthy.length > 0) lines.push('### Details', '');
  let length = lines.join('\n').length;
  for (const [index, record] of noteworthy.entries()) {
    const section = details(record);
    const sectionLength = section.join('\n').length + 1;
    if (length + sectionLength > MAX_DETAILS_LENGTH) {
      lines.push(`… details of ${noteworthy.length - index} more checks are in the evidence file.`, '');
      break;
    }
    lines.push(...section);
    length += sectionLength;
  }
  const expired = predicate.waivers.filter((waiver) => waiver.state === 'expired');
  for (const waiver of expired) {
    lines.push(
      `> ❌ The waiver for ${escapeMarkdown(waiver.check)} expired on ${escapeMarkdown(waiver.expires)}; the check fails until it is fixed or the waiver renewed.`,
      '',
    );
  }
  lines.push(
    `<sub>secgate ${escapeMarkdown(predicate.tool.version)}, ${escapeMarkdown(predicate.finishedAt)}</sub>`,
    '',
  );
  return lines.join('\n');
}
