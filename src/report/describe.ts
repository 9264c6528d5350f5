/**
 * Words and small derivations every reporter shares, so that JUnit, SARIF,
 * Markdown, annotations and the HTML page say the same thing the same way.
 */
import path from 'node:path';
import type { FinalStatus, Json, Observation, SourceLocation } from '../engine/types.js';
import type { CheckRecord, EvidencePredicate } from '../evidence/types.js';

/** What a status means, for people who never read secgate's documentation. */
export const STATUS_WORDS: Record<FinalStatus, string> = {
  pass: 'Passed',
  fail: 'Failed',
  error: 'Could not verify',
  skip: 'Skipped',
  waived: 'Waived',
};

export function verdictSentence(predicate: EvidencePredicate): string {
  switch (predicate.verdict) {
    case 'pass':
      return 'Gate passed: every control was proven or validly waived.';
    case 'fail':
      return 'Gate failed: at least one control was observed to be broken.';
    case 'error':
      return 'Gate failed: no control was observed to be broken, but at least one could not be verified.';
    case 'partial':
      return partialSentence(predicate);
  }
}

/** A partial run is never a pass: it names how many checks it left out. */
function partialSentence(predicate: EvidencePredicate): string {
  const left = predicate.partial?.deselected.length ?? predicate.counts.skip;
  const accepted = predicate.partial?.allowed ? ' (accepted for local iteration by --allow-partial)' : '';
  return `Partial run, not a gate pass: the checks that ran passed, but ${left} check${left === 1 ? ' was' : 's were'} left out by --only/--skip${accepted}.`;
}

export function countsSentence(predicate: EvidencePredicate): string {
  const { counts } = predicate;
  return `${counts.pass} passed, ${counts.fail} failed, ${counts.error} could not be verified, ${counts.waived} waived, ${counts.skip} skipped`;
}

/** A JSON value as one readable string: strings as themselves, everything else as compact JSON. */
export function formatValue(value: Json | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `12 ms`, `1.4 s`; compact (`12ms`, `1.4s`) where a column must stay narrow (the terminal report). */
export function formatDuration(ms: number, style: 'spaced' | 'compact' = 'spaced'): string {
  const space = style === 'compact' ? '' : ' ';
  return ms < 1000 ? `${Math.round(ms)}${space}ms` : `${(ms / 1000).toFixed(1)}${space}s`;
}

export function describeLocation(location: SourceLocation): string {
  const position = location.line ? `:${location.line}${location.column ? `:${location.column}` : ''}` : '';
  const commit = location.commit ? ` (commit ${location.commit.slice(0, 12)})` : '';
  return `${location.path}${position}${commit}`;
}

/** The observations that explain a verdict: those that broke the control, or all of them when none is marked. */
export function explainingObservations(record: CheckRecord): Observation[] {
  const broken = record.observations.filter((observation) => observation.ok === false);
  return broken.length > 0 ? broken : record.observations;
}

/** A check counts against the gate (fail or error), or is a failure covered by a waiver. */
export function isNoteworthy(record: CheckRecord): boolean {
  return record.status === 'fail' || record.status === 'error' || record.status === 'waived';
}

/** `tls.protocols` → `tls`. */
export function surfaceOf(checkId: string): string {
  return checkId.split('.')[0] ?? checkId;
}

/**
 * A repository finding's path relative to the top level of the repository
 * (the repository checks report every path that way), with forward slashes:
 * what code scanning and annotations resolve paths against, whatever
 * directory secgate ran in (`working-directory: services/api`).
 */
export function repositoryPath(location: SourceLocation): string {
  return path.posix.normalize(location.path.replace(/\\/g, '/'));
}

/**
 * Where a control lives: the line of its entry in the checklist, the file
 * named relative to the repository's top level when the checklist is in the
 * repository (else as given). Line 1 only for evidence that records no line.
 */
export function controlLocation(predicate: EvidencePredicate, record: CheckRecord): { file: string; line: number } {
  return { file: checklistFile(predicate), line: record.checklistLine ?? 1 };
}

export function checklistFile(predicate: EvidencePredicate): string {
  return predicate.checklist.repositoryPath ?? predicate.checklist.path;
}

/** `critical` → `Critical`; evidence older than severities says so rather than guessing. */
export function severityWord(record: CheckRecord): string {
  const { severity } = record;
  return severity ? `${severity.charAt(0).toUpperCase()}${severity.slice(1)}` : 'Unrated';
}

export function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
