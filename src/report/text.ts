/**
 * The terminal report: one line per check, then the details of every failure
 * with its remediation, then the verdict. Pure functions over the evidence
 * predicate; colour is decided by the caller (chalk instance).
 */
import type { ChalkInstance } from 'chalk';
import type { FinalStatus, Observation } from '../engine/types.js';
import type { CheckRecord, EvidencePredicate } from '../evidence/types.js';
import { oneLine as flattenLine, formatDuration, formatValue, severityWord } from './describe.js';

const LABELS: Record<FinalStatus, string> = {
  pass: 'PASS ',
  fail: 'FAIL ',
  error: 'ERROR',
  skip: 'SKIP ',
  waived: 'WAIVE',
};

function paint(chalk: ChalkInstance, status: FinalStatus, text: string): string {
  switch (status) {
    case 'pass':
      return chalk.green(text);
    case 'fail':
      return chalk.red.bold(text);
    case 'error':
      return chalk.magenta.bold(text);
    case 'waived':
      return chalk.yellow(text);
    case 'skip':
      return chalk.dim(text);
  }
}

export function formatCheckLine(record: CheckRecord, chalk: ChalkInstance, idWidth = 28): string {
  const duration = formatDuration(record.durationMs, 'compact').padStart(6);
  const waiverNote =
    record.status === 'waived' && record.waiver
      ? ` [waived until ${record.waiver.expires}: ${record.waiver.reason}]`
      : '';
  return `${paint(chalk, record.status, LABELS[record.status])} ${record.id.padEnd(idWidth)} ${chalk.dim(duration)}  ${oneLine(record.summary)}${waiverNote}`;
}

/**
 * One terminal line. Text that comes from the target (headers, bodies, summaries quoting them)
 * may carry escape sequences; control characters are shown as `?` so a probed server cannot
 * rewrite the operator's screen or forge a verdict line.
 */
function oneLine(text: string, max = 160): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return flattenLine(text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, '?'), max);
}

export function formatObservation(observation: Observation, chalk: ChalkInstance): string {
  const mark = observation.ok === false ? chalk.red('✗') : observation.ok === true ? chalk.green('✓') : chalk.dim('·');
  const parts = [`${mark} ${observation.probe}`];
  if (observation.expected !== undefined) parts.push(`expected ${formatValue(observation.expected)}`);
  if (observation.actual !== undefined) parts.push(`got ${formatValue(observation.actual)}`);
  if (observation.note) parts.push(observation.note);
  if (observation.location) {
    const { path, line, commit } = observation.location;
    parts.push(`at ${path}${line ? `:${line}` : ''}${commit ? ` (commit ${commit.slice(0, 12)})` : ''}`);
  }
  return oneLine(parts.join(' — '), 240);
}

/** Details for checks that did not pass: the failing observations and what to do. */
export function formatDetails(records: CheckRecord[], chalk: ChalkInstance, maxObservations = 8): string[] {
  const lines: string[] = [];
  for (const record of records) {
    if (record.status !== 'fail' && record.status !== 'error') continue;
    lines.push(
      '',
      paint(chalk, record.status, `${LABELS[record.status].trim()} ${record.id}`) +
        ` [${severityWord(record).toLowerCase()}]` +
        chalk.dim(` — ${record.title}`),
    );
    lines.push(`  ${oneLine(record.summary, 400)}`);
    const relevant = record.observations.filter((observation) => observation.ok === false);
    const shown = (relevant.length > 0 ? relevant : record.observations).slice(0, maxObservations);
    for (const observation of shown) lines.push(`    ${formatObservation(observation, chalk)}`);
    const hidden = (relevant.length > 0 ? relevant.length : record.observations.length) - shown.length;
    if (hidden > 0) lines.push(chalk.dim(`    … and ${hidden} more in the evidence file`));
    if (record.status === 'fail') lines.push(`  ${chalk.bold('Fix:')} ${record.remediation}`);
    else
      lines.push(
        `  ${chalk.bold('Could not verify:')} the control was not observed; fix the cause above and run again.`,
      );
    lines.push(chalk.dim(`  Source: ${record.source}`));
    // A plugin's verdict is only as good as its code: say which file judged.
    if (record.plugin) lines.push(chalk.dim(`  Plugin: ${record.plugin.path} (sha256 ${record.plugin.sha256})`));
  }
  return lines;
}

export function formatVerdict(predicate: EvidencePredicate, chalk: ChalkInstance): string {
  const { counts } = predicate;
  const tally = `${counts.pass} passed, ${counts.fail} failed, ${counts.error} errors, ${counts.waived} waived, ${counts.skip} skipped`;
  const elapsed = formatDuration(Date.parse(predicate.finishedAt) - Date.parse(predicate.startedAt), 'compact');
  switch (predicate.verdict) {
    case 'pass':
      return `${chalk.green.bold('GATE PASSED')} — ${tally} in ${elapsed}`;
    case 'fail':
      return `${chalk.red.bold('GATE FAILED')} — ${tally} in ${elapsed} (exit 1: at least one control failed)`;
    case 'error':
      return `${chalk.magenta.bold('GATE FAILED')} — ${tally} in ${elapsed} (exit 3: at least one control could not be verified)`;
    case 'partial':
      return predicate.exitCode === 0
        ? `${chalk.yellow.bold('PARTIAL RUN, NOT A GATE PASS')} — ${tally} in ${elapsed} (exit 0 only because of --allow-partial)`
        : `${chalk.magenta.bold('GATE FAILED')} — ${tally} in ${elapsed} (exit 3: a partial run cannot pass the gate)`;
  }
}

/** The whole report, for output that is not a live terminal. */
export function formatReport(predicate: EvidencePredicate, chalk: ChalkInstance): string {
  const idWidth = Math.max(20, ...predicate.checks.map((record) => record.id.length)) + 1;
  return [
    ...predicate.checks.map((record) => formatCheckLine(record, chalk, idWidth)),
    ...formatDetails(predicate.checks, chalk),
    '',
    formatVerdict(predicate, chalk),
  ].join('\n');
}
