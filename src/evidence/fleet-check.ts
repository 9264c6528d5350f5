/**
 * What a valid signature does not prove of a fleet statement: that it agrees
 * with itself. Whoever holds the join's key (or a bug in what wrote it) can
 * sign `verdict: pass` over a failed or missing target, or mark a target
 * `pass` whose own verdict, counts, commit or age say otherwise. Every reader
 * (evidence check, evidence verify) parses the statement with the join's
 * schema and recomputes it with the join's own rules — summarizeFleet,
 * judgeTargetStatus, recordProblems — refusing anything that disagrees. Pure.
 */
import type { KeyObject } from 'node:crypto';
import { verifyEnvelope } from './dsse.js';
import {
  type FleetCounts,
  type FleetPredicate,
  type FleetStatement,
  type FleetTargetRecord,
  fleetStatementSchema,
  judgeTargetStatus,
  recordProblems,
  summarizeFleet,
  TARGET_SUBJECT_PREFIX,
} from './fleet.js';
import { formatCounts, verdictsAllowedByCounts } from './verify.js';

export type FleetCheck = { ok: true; statement: FleetStatement } | { ok: false; problem: string };

export type FleetVerification =
  | { valid: true; keyid: string; statement: FleetStatement }
  | { valid: false; keyid?: string; reason: string };

/** The envelope's signature by `publicKey`, then `checkFleetStatement`: what `evidence verify` says of a fleet statement. */
export function verifyFleetEvidence(envelope: unknown, publicKey: KeyObject): FleetVerification {
  const verified = verifyEnvelope(envelope, publicKey);
  if (!verified.valid || !verified.statement)
    return { valid: false, keyid: verified.keyid, reason: verified.reason ?? 'the signature does not verify' };
  const checked = checkFleetStatement(verified.statement);
  if (!checked.ok) return { valid: false, keyid: verified.keyid, reason: checked.problem };
  return { valid: true, keyid: verified.keyid, statement: checked.statement };
}

/** A fleet statement someone handed over: the join's shape, and nothing in it the join would not have written. */
export function checkFleetStatement(statement: unknown): FleetCheck {
  const parsed = fleetStatementSchema.safeParse(statement);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
    return { ok: false, problem: `not a secgate fleet statement${where}: ${first?.message ?? 'unexpected shape'}` };
  }
  const contradictions = fleetContradictions(parsed.data);
  if (contradictions.length > 0) {
    return {
      ok: false,
      problem: `the signed fleet statement contradicts itself (the signature verifies): ${contradictions.join('; ')}`,
    };
  }
  return { ok: true, statement: parsed.data };
}

/** Every way the statement's verdict, counts, rows, names or subjects disagree with what the join makes of its rows. */
export function fleetContradictions(statement: FleetStatement): string[] {
  const { predicate } = statement;
  const problems = [...nameContradictions(predicate), ...summaryContradictions(predicate)];
  const now = new Date(predicate.generatedAt);
  // Without the join's time no row's age can be re-judged: that is a contradiction, never a skipped rule.
  if (Number.isNaN(now.getTime())) problems.push(`generatedAt '${predicate.generatedAt}' is not a time`);
  const expected = { commit: predicate.commit, maxAgeMs: predicate.maxAgeSeconds * 1000, now };
  for (const row of predicate.targets) problems.push(...rowContradictions(row, expected));
  problems.push(...subjectContradictions(statement));
  return problems;
}

/** Each inventory target is joined once or missing once, never both. */
function nameContradictions(predicate: FleetPredicate): string[] {
  const joined = predicate.targets.map((row) => row.name);
  const names = new Set([...joined, ...predicate.missing]);
  const problems: string[] = [];
  for (const name of names) {
    const rows = joined.filter((candidate) => candidate === name).length;
    const missing = predicate.missing.filter((candidate) => candidate === name).length;
    if (rows + missing > 1)
      problems.push(`target '${name}' is listed ${rows + missing} times (${rows} joined, ${missing} missing)`);
  }
  return problems;
}

function summaryContradictions(predicate: FleetPredicate): string[] {
  const judged = summarizeFleet(predicate.targets, predicate.missing);
  const problems: string[] = [];
  if (predicate.verdict !== judged.verdict || predicate.exitCode !== judged.exitCode) {
    problems.push(
      `verdict '${predicate.verdict}' with exit code ${predicate.exitCode}, but its targets make it '${judged.verdict}' with exit code ${judged.exitCode}`,
    );
  }
  const keys = Object.keys(judged.counts) as (keyof FleetCounts)[];
  if (keys.some((key) => predicate.counts[key] !== judged.counts[key])) {
    problems.push(
      `counts ${formatFleetCounts(predicate.counts)}, but its targets are ${formatFleetCounts(judged.counts)}`,
    );
  }
  return problems;
}

function formatFleetCounts(counts: FleetCounts): string {
  return `${counts.targets} targets: ${counts.pass} pass, ${counts.fail} fail, ${counts.error} error, ${counts.missing} missing`;
}

/** A row's status, verdict and problems as the join would have written them from what the row records. */
function rowContradictions(row: FleetTargetRecord, expected: Parameters<typeof recordProblems>[1]): string[] {
  const name = `target '${row.name}'`;
  const problems: string[] = [];
  const allowed = verdictsAllowedByCounts(row.counts);
  if (!allowed.includes(row.verdict)) {
    problems.push(
      `${name} has verdict '${row.verdict}', but its checks' counts (${formatCounts(row.counts)}) make it ${allowed.map((verdict) => `'${verdict}'`).join(' or ')}`,
    );
  }
  for (const problem of recordProblems(row, expected)) {
    if (!row.problems.includes(problem))
      problems.push(`${name} does not list the problem its own record makes: ${problem}`);
  }
  const status = judgeTargetStatus(row.verdict, row.problems);
  if (row.status !== status) {
    problems.push(
      `${name} is '${row.status}', but its verdict '${row.verdict}' and its problems (${row.problems.join('; ') || 'none'}) make it '${status}'`,
    );
  }
  return problems;
}

/** One subject per row, binding the row to the sha256 of the evidence it was judged from; no subject without a row. */
function subjectContradictions(statement: FleetStatement): string[] {
  const problems: string[] = [];
  const rows = statement.predicate.targets;
  for (const row of rows) {
    const subjects = statement.subject.filter((item) => item.name === `${TARGET_SUBJECT_PREFIX}${row.name}`);
    if (subjects.length === 0) problems.push(`target '${row.name}' has no subject ${TARGET_SUBJECT_PREFIX}${row.name}`);
    for (const subject of subjects) {
      const digest = subject.digest.sha256 ?? '(none)';
      if (digest !== row.evidenceSha256) {
        problems.push(
          `the subject of target '${row.name}' is sha256 ${digest.slice(0, 12)}…, not its evidence's ${row.evidenceSha256.slice(0, 12)}…`,
        );
      }
    }
  }
  for (const subject of statement.subject) {
    if (!rows.some((row) => subject.name === `${TARGET_SUBJECT_PREFIX}${row.name}`))
      problems.push(`subject '${subject.name}' names no joined target`);
  }
  return problems;
}
