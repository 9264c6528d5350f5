/**
 * What a valid signature does not prove: that the signed statement is secgate
 * evidence, and that its predicate agrees with itself. Whoever holds the key (or
 * a bug in what wrote it) can sign `verdict: pass` over a failed check; every
 * reader of handed-over evidence (evidence verify, render, check, aggregate)
 * goes through `checkEvidenceStatement`, which re-judges the verdict, exit code
 * and counts from the recorded checks with the run's own rules (judgeRun,
 * judgeOutcome, applyWaiver's states) and refuses a predicate that says
 * anything else. Pure.
 */
import type { KeyObject } from 'node:crypto';
import { judgeOutcome, waiverExpiry } from '../engine/run.js';
import type { FinalStatus } from '../engine/types.js';
import { checkPredicate } from '../report/predicate-shape.js';
import { type EnvelopeVerification, verifyEnvelope } from './dsse.js';
import { FLEET_PREDICATE_TYPE } from './fleet.js';
import { countStatuses, judgeRun } from './statement.js';
import {
  type CheckRecord,
  type EvidencePredicate,
  type EvidenceStatement,
  PREDICATE_TYPE,
  type Verdict,
} from './types.js';

export type EvidenceCheck = { ok: true; statement: EvidenceStatement } | { ok: false; problem: string };

/** The envelope's signature by `publicKey`, then `checkEvidenceStatement`: one verdict for the CLI's readers. */
export function verifyEvidence(envelope: unknown, publicKey: KeyObject): EnvelopeVerification {
  const verified = verifyEnvelope(envelope, publicKey);
  if (!verified.valid || !verified.statement) return verified;
  const checked = checkEvidenceStatement(verified.statement);
  if (!checked.ok) return { valid: false, keyid: verified.keyid, reason: checked.problem };
  return { valid: true, keyid: verified.keyid, statement: checked.statement };
}

/** A statement someone handed over: secgate's predicate type, secgate's predicate shape, no contradiction. */
export function checkEvidenceStatement(statement: EvidenceStatement): EvidenceCheck {
  // The type says PREDICATE_TYPE; the bytes said whatever was signed.
  const predicateType: unknown = statement.predicateType;
  if (predicateType === FLEET_PREDICATE_TYPE) {
    return {
      ok: false,
      problem:
        "a fleet statement, not one target's evidence: `secgate evidence verify` reads it, and `secgate evidence check --target NAME` admits one of its targets",
    };
  }
  if (predicateType !== PREDICATE_TYPE) {
    return { ok: false, problem: `not secgate evidence (predicateType ${String(predicateType)})` };
  }
  const shape = checkPredicate(statement.predicate);
  if (!shape.ok) return { ok: false, problem: shape.problem };
  const contradictions = predicateContradictions(shape.predicate);
  if (contradictions.length > 0) {
    return {
      ok: false,
      problem: `the signed predicate contradicts itself (the signature verifies): ${contradictions.join('; ')}`,
    };
  }
  return { ok: true, statement: { ...statement, predicate: shape.predicate } };
}

/** Every way the predicate's own summary (verdict, exit code, counts) or a check's status disagrees with its checks. */
export function predicateContradictions(predicate: EvidencePredicate): string[] {
  const problems: string[] = [];
  const judged = judgeRun(predicate.checks, predicate.interrupted === true, predicate.partial);
  if (predicate.verdict !== judged.verdict || predicate.exitCode !== judged.exitCode) {
    problems.push(
      `verdict '${predicate.verdict}' with exit code ${predicate.exitCode}, but its checks make it '${judged.verdict}' with exit code ${judged.exitCode}`,
    );
  }
  const counts = countStatuses(predicate.checks);
  if (STATUSES.some((status) => predicate.counts[status] !== counts[status])) {
    problems.push(`counts ${formatCounts(predicate.counts)}, but its checks are ${formatCounts(counts)}`);
  }
  for (const record of predicate.checks) problems.push(...recordContradictions(record, predicate.startedAt));
  return problems;
}

const STATUSES: readonly FinalStatus[] = ['pass', 'fail', 'error', 'skip', 'waived'];

export function formatCounts(counts: Record<FinalStatus, number>): string {
  return STATUSES.map((status) => `${counts[status]} ${status}`).join(', ');
}

/**
 * Pure: the verdicts a run whose checks ended in these counts can have, by
 * judgeRun's rules — where only the checks themselves were recorded (a fleet
 * statement's row). Counts alone cannot tell an interrupted or partial run.
 */
export function verdictsAllowedByCounts(counts: Record<FinalStatus, number>): Verdict[] {
  const statuses = STATUSES.filter((status) => counts[status] > 0).map((status) => ({ status }));
  const judged = judgeRun(statuses, false, undefined);
  return judged.exitCode === 0 ? ['pass', 'error', 'partial'] : [judged.verdict];
}

/** A check's status the run could not have recorded (see judgeOutcome and applyWaiver in src/engine/run.ts). */
function recordContradictions(record: CheckRecord, startedAt: string): string[] {
  const name = `check '${record.id}'`;
  const { summary, observations } = record;
  if (record.status === 'pass' && judgeOutcome({ status: 'pass', summary, observations }).status !== 'pass') {
    return [`${name} is 'pass' without an observation proving it, or with one that breaks the control`];
  }
  const waiver = record.waiver;
  const applied = waiver?.state === 'applied';
  if ((record.status === 'waived') !== applied) {
    return [
      applied
        ? `${name} carries an applied waiver but is '${record.status}'`
        : `${name} is 'waived' without an applied waiver`,
    ];
  }
  if (waiver === undefined) return [];
  if (waiver.check !== record.id) return [`${name} carries the waiver of '${waiver.check}'`];
  if (waiver.state === 'expired' && record.status !== 'fail') {
    return [`${name} is '${record.status}' under an expired waiver (an expired waiver fails the check)`];
  }
  if (applied && new Date(startedAt) > waiverExpiry(waiver)) {
    return [`${name} is waived by a waiver that expired on ${waiver.expires}, before the run started`];
  }
  return [];
}
