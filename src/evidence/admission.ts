/**
 * The deploy-time admission judgement (`secgate evidence check`): may this
 * commit of this checklist go to this target, on the strength of this signed
 * evidence? Pure: the envelope, the allowed keys, the policy and the clock
 * come in; a decision with every reason comes out. Each rule is one line of
 * `admissionReasons`, and docs/ci/fleet-admission.rego writes the same rules
 * for an external engine.
 *
 * Exit codes as for verify: 0 admitted; 1 the evidence shows a control
 * failed; 3 it does not prove what is asked (no allowed signature, another
 * commit or checklist, too old, partial, error, the target not covered).
 */
import type { KeyObject } from 'node:crypto';
import { verifyEnvelope } from './dsse.js';
import { ageProblems, FLEET_PREDICATE_TYPE, verifiedCommit } from './fleet.js';
import { checkFleetStatement } from './fleet-check.js';
import { type EvidenceStatement, PREDICATE_TYPE } from './types.js';
import { checkEvidenceStatement } from './verify.js';

export interface AdmissionPolicy {
  /** The commit being deployed (full hex). */
  commit: string;
  /** The sha256 of the reviewed checklist's bytes. */
  checklistSha256: string;
  maxAgeMs: number;
  /** The fleet target being deployed; required when the evidence is a fleet's or names a target. */
  target?: string;
  now: Date;
}

export interface AdmissionDecision {
  exitCode: 0 | 1 | 3;
  /** Every rule the evidence does not meet; empty when admitted. */
  reasons: string[];
  /** The key that signed it, when one of the allowed keys did. */
  keyid?: string;
}

/** What one target's evidence says, whether it is a target's own statement or its row in a fleet statement. */
interface Claim {
  verdict: string;
  commit: string | null;
  checklistSha256: string;
  finishedAt: string;
  target: string | undefined;
}

export function judgeAdmission(
  envelope: unknown,
  keys: readonly KeyObject[],
  policy: AdmissionPolicy,
): AdmissionDecision {
  let failure = 'no allowed key was given';
  for (const key of keys) {
    const verified = verifyEnvelope(envelope, key);
    if (!verified.valid || !verified.statement) {
      failure = verified.reason ?? 'the signature does not verify';
      continue;
    }
    const claim = claimOf(verified.statement, policy.target);
    if ('problem' in claim) return { exitCode: 3, reasons: [claim.problem], keyid: verified.keyid };
    const reasons = admissionReasons(claim, policy);
    const exitCode = reasons.length === 0 ? 0 : claim.verdict === 'fail' ? 1 : 3;
    return { exitCode, reasons, keyid: verified.keyid };
  }
  return { exitCode: 3, reasons: [`not signed by an allowed key: ${failure}`] };
}

/** Pure: the rules, one per line. */
export function admissionReasons(claim: Claim, policy: AdmissionPolicy): string[] {
  const reasons: string[] = [];
  // `partial` and `error` are not `pass`: only a run that verified every control admits a deploy.
  if (claim.verdict !== 'pass') reasons.push(`verdict is '${claim.verdict}', not 'pass'`);
  if (claim.commit === null)
    reasons.push('the evidence names no clean commit (no git subject, or uncommitted changes)');
  else if (claim.commit !== policy.commit) {
    reasons.push(`the evidence verified commit ${claim.commit}, not ${policy.commit} (the one being deployed)`);
  }
  if (claim.checklistSha256 !== policy.checklistSha256) {
    reasons.push(
      `the evidence verified checklist sha256 ${claim.checklistSha256}, not the reviewed ${policy.checklistSha256}`,
    );
  }
  reasons.push(...ageProblems(claim.finishedAt, policy.maxAgeMs, policy.now));
  if (policy.target !== undefined && claim.target !== policy.target) {
    reasons.push(`the evidence covers target '${claim.target ?? '(none)'}', not '${policy.target}'`);
  }
  if (policy.target === undefined && claim.target !== undefined) {
    reasons.push(`the evidence is for fleet target '${claim.target}': name the target being deployed (--target)`);
  }
  return reasons;
}

/** The claim a statement makes about the target asked for, or why it makes none. */
function claimOf(statement: EvidenceStatement, target: string | undefined): Claim | { problem: string } {
  const predicateType: string = statement.predicateType;
  if (predicateType === PREDICATE_TYPE) {
    // Its shape, and a verdict its own checks bear out: a signed 'pass' over a failed check admits nothing.
    const checked = checkEvidenceStatement(statement);
    if (!checked.ok) return { problem: checked.problem };
    const { predicate } = checked.statement;
    return {
      verdict: predicate.verdict,
      commit: verifiedCommit(statement),
      checklistSha256: predicate.checklist.sha256,
      finishedAt: predicate.finishedAt,
      target: predicate.fleet?.target,
    };
  }
  if (predicateType === FLEET_PREDICATE_TYPE) {
    // Its shape, and a verdict and rows the join's own rules bear out: a signed row 'pass' the row itself denies admits nothing.
    const checked = checkFleetStatement(statement);
    if (!checked.ok) return { problem: checked.problem };
    const fleet = checked.statement.predicate;
    if (target === undefined) return { problem: 'a fleet statement admits one target at a time: name it (--target)' };
    const row = fleet.targets.find((candidate) => candidate.name === target);
    if (!row) {
      return {
        problem: fleet.missing.includes(target)
          ? `target '${target}' is missing from the fleet (no evidence was joined for it)`
          : `target '${target}' is not in the fleet (${fleet.targets.map((candidate) => candidate.name).join(', ')})`,
      };
    }
    // The join judged the row (freshness, commit, checklist) and the reader re-judged it; its status, not its raw verdict, counts.
    return {
      verdict: row.status === 'pass' ? 'pass' : row.verdict === 'pass' ? 'error' : row.verdict,
      commit: fleet.commit,
      checklistSha256: fleet.checklist.sha256,
      finishedAt: row.finishedAt,
      target: row.name,
    };
  }
  return { problem: `not secgate evidence (predicateType ${predicateType})` };
}
