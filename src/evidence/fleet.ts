/**
 * The join of a fleet: every target's signed evidence verified and judged,
 * and one fleet statement that says, per target, what was proven and what is
 * missing. Pure: envelopes, keys and the clock come in; a refusal or a
 * statement comes out. A target is `pass` only when its own evidence says
 * pass, is fresh, and verified the checklist and commit the fleet names;
 * anything else — and any target with no evidence at all — keeps the fleet
 * from passing.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { verifyEnvelope } from './dsse.js';
import {
  type EvidencePredicate,
  type EvidenceStatement,
  STATEMENT_TYPE,
  statementSchema,
  statusCountsSchema,
  verdictSchema,
} from './types.js';
import { checkEvidenceStatement } from './verify.js';

export const FLEET_PREDICATE_TYPE = 'https://secgate.dev/fleet/v1';
/** The subject name of one target's evidence in a fleet statement. */
export const TARGET_SUBJECT_PREFIX = 'secgate-target:';

const targetStatusSchema = z.enum(['pass', 'fail', 'error']);
export type TargetStatus = z.output<typeof targetStatusSchema>;

// The schemas are the one definition of the fleet statement, as types.ts is of a target's:
// the join builds values of these types, and every reader parses what it was handed with them.
export const fleetTargetRecordSchema = z.object({
  name: z.string(),
  status: targetStatusSchema,
  /** The target's own verdict, as its evidence says. */
  verdict: verdictSchema,
  /** Why it is not `pass` beyond its verdict (stale, another checklist, another commit). */
  problems: z.array(z.string()),
  url: z.string(),
  /** The clean commit its evidence verified (null: none, or uncommitted changes). */
  commit: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  /** The key that signed it (sha256 of the public key) and the sha256 of its signed payload. */
  keyid: z.string(),
  evidenceSha256: z.string(),
  counts: statusCountsSchema,
});
export type FleetTargetRecord = z.output<typeof fleetTargetRecordSchema>;

const fleetCountsSchema = z.object({
  targets: z.number(),
  pass: z.number(),
  fail: z.number(),
  error: z.number(),
  missing: z.number(),
});
export type FleetCounts = z.output<typeof fleetCountsSchema>;

export const fleetPredicateSchema = z.object({
  tool: z.object({ name: z.literal('secgate'), version: z.string() }),
  generatedAt: z.string(),
  checklist: z.object({
    sha256: z.string(),
    inventory: z.object({ path: z.string(), sha256: z.string() }).optional(),
  }),
  /** The commit every target verified (null when they disagree: then none of them passes). */
  commit: z.string().nullable(),
  maxAgeSeconds: z.number(),
  verdict: targetStatusSchema,
  exitCode: z.union([z.literal(0), z.literal(1), z.literal(3)]),
  counts: fleetCountsSchema,
  targets: z.array(fleetTargetRecordSchema),
  /** Targets of the inventory with no evidence. */
  missing: z.array(z.string()),
});
export type FleetPredicate = z.output<typeof fleetPredicateSchema>;

export const fleetStatementSchema = statementSchema(FLEET_PREDICATE_TYPE, fleetPredicateSchema);
export type FleetStatement = z.output<typeof fleetStatementSchema>;

export interface EnvelopeInput {
  /** How the caller names it (a file path), for refusals. */
  source: string;
  envelope: unknown;
}

export interface AggregateInput {
  envelopes: readonly EnvelopeInput[];
  /** The keys whose signatures are accepted; an envelope signed by none is refused. */
  keys: readonly KeyObject[];
  /** The inventory's targets, in order, and the checklist they share. */
  targets: readonly string[];
  checklistSha256: string;
  inventory?: { path: string; sha256: string };
  /** The commit the fleet must have verified; without it, the one every envelope names. */
  commit?: string;
  maxAgeMs: number;
  now: Date;
  toolVersion: string;
}

export type AggregateResult = { refused: string[] } | { statement: FleetStatement };

interface Verified {
  source: string;
  statement: EvidenceStatement;
  keyid: string;
  payloadSha256: string;
  target: string;
}

/** Verifies, refuses what cannot be joined, and judges every target. */
export function aggregateFleet(input: AggregateInput): AggregateResult {
  const refused: string[] = [];
  const verified: Verified[] = [];
  for (const { source, envelope } of input.envelopes) {
    const result = verifyWithAnyKey(envelope, input.keys);
    if ('reason' in result) {
      refused.push(`${source}: ${result.reason}`);
      continue;
    }
    const target = result.statement.predicate.fleet?.target;
    if (target === undefined) {
      refused.push(`${source}: its evidence names no fleet target (made without verify --target / --all)`);
      continue;
    }
    if (!input.targets.includes(target)) {
      refused.push(`${source}: target '${target}' is not in the inventory (${input.targets.join(', ')})`);
      continue;
    }
    const first = verified.find((entry) => entry.target === target);
    if (first) {
      // Two answers for one target: which one counts is not for the join to guess.
      refused.push(`${source}: a second envelope for target '${target}' (the first is ${first.source})`);
      continue;
    }
    verified.push({ source, target, ...result });
  }
  if (refused.length > 0) return { refused };
  return { statement: fleetStatement(input, verified) };
}

function verifyWithAnyKey(
  envelope: unknown,
  keys: readonly KeyObject[],
): { statement: EvidenceStatement; keyid: string; payloadSha256: string } | { reason: string } {
  let reason = 'no key given';
  for (const key of keys) {
    const result = verifyEnvelope(envelope, key);
    if (!result.valid || !result.statement) {
      reason = result.reason ?? 'invalid';
      continue;
    }
    const checked = checkEvidenceStatement(result.statement);
    if (!checked.ok) return { reason: checked.problem };
    const payload = Buffer.from((envelope as { payload: string }).payload, 'base64');
    return {
      statement: checked.statement,
      keyid: result.keyid,
      payloadSha256: createHash('sha256').update(payload).digest('hex'),
    };
  }
  return { reason: keys.length > 1 ? `signed by none of the ${keys.length} allowed keys (${reason})` : reason };
}

/** The commit an evidence statement verified: its git subject's, when the work tree matched it. */
export function verifiedCommit(statement: EvidenceStatement): string | null {
  const subject = statement.subject.find((item) => item.digest.gitCommit !== undefined);
  if (!subject || subject.annotations?.uncommittedChanges === true) return null;
  return subject.digest.gitCommit ?? null;
}

function fleetStatement(input: AggregateInput, verified: readonly Verified[]): FleetStatement {
  // Evidence that names no clean commit fails on its own; it does not make the others' commit ambiguous.
  const commits = new Set(verified.map((entry) => verifiedCommit(entry.statement)).filter((commit) => commit !== null));
  const commit = input.commit ?? (commits.size === 1 ? ([...commits][0] ?? null) : null);
  // The statement records whole seconds; the age is judged by what it records, so a reader judges alike.
  const maxAgeSeconds = Math.floor(input.maxAgeMs / 1000);
  const expected = { checklistSha256: input.checklistSha256, commit, maxAgeMs: maxAgeSeconds * 1000, now: input.now };
  const records = input.targets
    .map((name) => verified.find((entry) => entry.target === name))
    .filter((entry) => entry !== undefined)
    .map((entry) => judgeTarget(entry, expected));
  const missing = input.targets.filter((name) => !verified.some((entry) => entry.target === name));
  const { counts, verdict, exitCode } = summarizeFleet(records, missing);
  return {
    _type: STATEMENT_TYPE,
    subject: records.map((record) => ({
      name: `${TARGET_SUBJECT_PREFIX}${record.name}`,
      digest: { sha256: record.evidenceSha256 },
    })),
    predicateType: FLEET_PREDICATE_TYPE,
    predicate: {
      tool: { name: 'secgate', version: input.toolVersion },
      generatedAt: input.now.toISOString(),
      checklist: { sha256: input.checklistSha256, ...(input.inventory ? { inventory: input.inventory } : {}) },
      commit,
      maxAgeSeconds,
      verdict,
      exitCode,
      counts,
      targets: records,
      missing,
    },
  };
}

/**
 * Pure: the fleet's counts, verdict and exit code from its rows' statuses and
 * its missing targets — what the join writes and what every reader recomputes.
 */
export function summarizeFleet(
  rows: readonly Pick<FleetTargetRecord, 'status'>[],
  missing: readonly string[],
): { counts: FleetCounts; verdict: FleetPredicate['verdict']; exitCode: 0 | 1 | 3 } {
  const count = (status: TargetStatus) => rows.filter((row) => row.status === status).length;
  const counts = {
    targets: rows.length + missing.length,
    pass: count('pass'),
    fail: count('fail'),
    error: count('error'),
    missing: missing.length,
  };
  return { counts, ...judgeFleet(counts) };
}

/** Pure: fail when a control failed anywhere; else error when anything is unproven or missing; else pass. */
export function judgeFleet(counts: FleetCounts): {
  verdict: FleetPredicate['verdict'];
  exitCode: 0 | 1 | 3;
} {
  if (counts.fail > 0) return { verdict: 'fail', exitCode: 1 };
  if (counts.error > 0 || counts.missing > 0 || counts.pass !== counts.targets)
    return { verdict: 'error', exitCode: 3 };
  return { verdict: 'pass', exitCode: 0 };
}

/** Pure: a target passes only when its own verdict is pass and nothing keeps its evidence from proving it. */
export function judgeTargetStatus(verdict: EvidencePredicate['verdict'], problems: readonly string[]): TargetStatus {
  if (verdict === 'fail') return 'fail';
  return verdict === 'pass' && problems.length === 0 ? 'pass' : 'error';
}

interface Expected {
  checklistSha256: string;
  commit: string | null;
  maxAgeMs: number;
  now: Date;
}

function judgeTarget(entry: Verified, expected: Expected): FleetTargetRecord {
  const { predicate } = entry.statement;
  const problems = evidenceProblems(entry.statement, expected);
  return {
    name: entry.target,
    status: judgeTargetStatus(predicate.verdict, problems),
    verdict: predicate.verdict,
    problems,
    url: predicate.target.url,
    commit: verifiedCommit(entry.statement),
    startedAt: predicate.startedAt,
    finishedAt: predicate.finishedAt,
    durationMs: Math.max(0, Date.parse(predicate.finishedAt) - Date.parse(predicate.startedAt)),
    keyid: entry.keyid,
    evidenceSha256: entry.payloadSha256,
    counts: predicate.counts,
  };
}

/** Clock skew tolerated for evidence stamped in the future (another runner's clock). */
const FUTURE_SKEW_MS = 5 * 60 * 1000;

/**
 * Pure: why one target's evidence does not prove what is asked, beyond its
 * verdict — made for another checklist or commit, or too old (or from the
 * future) to count. Empty when it proves it.
 */
export function evidenceProblems(statement: EvidenceStatement, expected: Expected): string[] {
  const { predicate } = statement;
  const checklist =
    predicate.checklist.sha256 === expected.checklistSha256
      ? []
      : [
          `verified checklist sha256 ${predicate.checklist.sha256.slice(0, 12)}…, not ${expected.checklistSha256.slice(0, 12)}…`,
        ];
  const record = { verdict: predicate.verdict, commit: verifiedCommit(statement), finishedAt: predicate.finishedAt };
  return [...checklist, ...recordProblems(record, expected)];
}

/**
 * Pure: the problems a target's row in a fleet statement shows by itself — a
 * partial run, no clean commit or not the fleet's, too old or from the future
 * at the join's time. The join lists them; a reader recomputes them from the
 * row and refuses a row that leaves one out.
 */
export function recordProblems(
  record: Pick<FleetTargetRecord, 'verdict' | 'commit' | 'finishedAt'>,
  expected: Pick<Expected, 'commit' | 'maxAgeMs' | 'now'>,
): string[] {
  const problems: string[] = [];
  if (record.verdict === 'partial') problems.push('partial run: checks were left out (--only/--skip)');
  if (expected.commit === null)
    problems.push('the fleet names no single commit (its evidence verified different ones)');
  else if (record.commit === null) problems.push('it names no clean commit (no git subject, or uncommitted changes)');
  else if (record.commit !== expected.commit)
    problems.push(`verified commit ${record.commit.slice(0, 12)}, not ${expected.commit.slice(0, 12)}`);
  problems.push(...ageProblems(record.finishedAt, expected.maxAgeMs, expected.now));
  return problems;
}

/** Pure: stale, from the future, or no readable time at all. */
export function ageProblems(finishedAt: string, maxAgeMs: number, now: Date): string[] {
  const finished = Date.parse(finishedAt);
  if (Number.isNaN(finished)) return [`finishedAt '${finishedAt}' is not a time`];
  const age = now.getTime() - finished;
  if (age > maxAgeMs) return [`stale: finished ${formatAge(age)} ago, more than the ${formatAge(maxAgeMs)} allowed`];
  if (age < -FUTURE_SKEW_MS) return [`finished ${formatAge(-age)} in the future (a runner's clock is wrong)`];
  return [];
}

export function formatAge(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

export function serializeFleetStatement(statement: FleetStatement): Buffer {
  return Buffer.from(JSON.stringify(statement), 'utf8');
}
