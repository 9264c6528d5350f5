/** Turns a run's results into the in-toto statement that gets signed. */
import type { LoadedChecklist } from '../engine/checklist/load.js';
import { type CheckResult, exitCodeFor } from '../engine/run.js';
import { severityOf } from '../engine/severity.js';
import type { FinalStatus, SecretRedactor } from '../engine/types.js';
import {
  type CheckRecord,
  type EvidenceStatement,
  type FleetRecord,
  PREDICATE_TYPE,
  type ResourceDescriptor,
  STATEMENT_TYPE,
  type Verdict,
  type WaiverRecord,
} from './types.js';

export interface StatementInput {
  toolVersion: string;
  loaded: LoadedChecklist;
  /** Checklist path as shown to people (relative to the working directory). */
  checklistDisplayPath: string;
  /**
   * The checklist's subject name: its path in the repository, so two runners name it alike
   * wherever they checked it out (see `checklistSubjectName`).
   */
  checklistSubjectName: string;
  /** The checklist's path relative to the verified repository's top level, when it is in that repository. */
  checklistRepositoryPath?: string;
  results: CheckResult[];
  startedAt: Date;
  finishedAt: Date;
  /** The repository verified, when it is a readable git checkout (see `repositorySubject`). */
  repository: RepositoryIdentity | undefined;
  repoDisplayPath: string;
  interrupted: boolean;
  baselineSha256?: string;
  /** Entry ids left out by --only / --skip, and whether --allow-partial accepted that. */
  partial?: { deselected: string[]; allowed: boolean };
}

export interface RepositoryIdentity {
  /** The subject name: the remote's URL without userinfo, or `git:(no remote)`. */
  name: string;
  commit: string;
  /** The work tree differed from the commit (tracked changes or untracked files). */
  uncommittedChanges: boolean;
}

const VERDICTS: Record<0 | 1 | 3, Verdict> = { 0: 'pass', 1: 'fail', 3: 'error' };

/**
 * The verdict and the exit code. Only a run that verified every control can
 * `pass`: an interrupted one is an `error`, and one that left checks out
 * (--only/--skip) with nothing failed is `partial` — its own word, so that a
 * consumer asking `verdict == "pass"` never accepts it. `partial` exits 0 only
 * with --allow-partial, for local iteration.
 */
export function judgeRun(
  results: readonly Pick<CheckResult, 'status'>[],
  interrupted: boolean,
  partial: StatementInput['partial'],
): { verdict: Verdict; exitCode: 0 | 1 | 3 } {
  const observed = exitCodeFor(results);
  if (observed !== 0) return { verdict: VERDICTS[observed], exitCode: observed };
  if (interrupted) return { verdict: 'error', exitCode: 3 };
  if (partial !== undefined) return { verdict: 'partial', exitCode: partial.allowed ? 0 : 3 };
  return { verdict: 'pass', exitCode: 0 };
}

/** How many results ended in each status: the predicate's `counts`. */
export function countStatuses(results: readonly Pick<CheckResult, 'status'>[]): Record<FinalStatus, number> {
  const counts: Record<FinalStatus, number> = { pass: 0, fail: 0, error: 0, skip: 0, waived: 0 };
  for (const result of results) counts[result.status] += 1;
  return counts;
}

export function buildStatement(input: StatementInput): EvidenceStatement {
  const { verdict, exitCode } = judgeRun(input.results, input.interrupted, input.partial);
  const counts = countStatuses(input.results);

  const subject: ResourceDescriptor[] = [];
  if (input.repository) {
    subject.push({
      name: input.repository.name,
      digest: { gitCommit: input.repository.commit },
      ...(input.repository.uncommittedChanges ? { annotations: { uncommittedChanges: true } } : {}),
    });
  }
  subject.push({ name: input.checklistSubjectName, digest: { sha256: input.loaded.sha256 } });

  const { target } = input.loaded.checklist;
  const waivers: WaiverRecord[] = input.loaded.checklist.waivers.map((waiver) => {
    const applied = input.results.find((result) => result.waiver?.check === waiver.check)?.waiver;
    return applied ?? { check: waiver.check, reason: waiver.reason, expires: waiver.expires, state: 'unused' };
  });

  return {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: PREDICATE_TYPE,
    predicate: {
      tool: { name: 'secgate', version: input.toolVersion },
      target: {
        url: target.url,
        ...(target.http_url ? { http_url: target.http_url } : {}),
        repo: input.repoDisplayPath,
        commit: input.repository?.commit ?? null,
      },
      checklist: {
        path: input.checklistDisplayPath,
        sha256: input.loaded.sha256,
        ...(input.baselineSha256 ? { baselineSha256: input.baselineSha256 } : {}),
        ...(input.checklistRepositoryPath ? { repositoryPath: input.checklistRepositoryPath } : {}),
      },
      startedAt: input.startedAt.toISOString(),
      finishedAt: input.finishedAt.toISOString(),
      verdict,
      exitCode,
      counts,
      checks: input.results.map(toCheckRecord),
      waivers,
      ...(input.partial ? { partial: input.partial } : {}),
      ...(input.interrupted ? { interrupted: true } : {}),
      ...fleetRecord(input.loaded),
    },
  };
}

/** Which fleet target the run verified, so a join (evidence aggregate) and a deploy step can tell. */
function fleetRecord(loaded: LoadedChecklist): { fleet?: FleetRecord } {
  const fleet = loaded.fleet;
  if (fleet?.target === undefined) return {};
  return { fleet: { target: fleet.target, ...(fleet.inventory ? { inventory: fleet.inventory } : {}) } };
}

function toCheckRecord(result: CheckResult): CheckRecord {
  const { check } = result.entry;
  return {
    id: result.entry.id,
    check: check.id,
    title: check.title,
    source: check.source,
    status: result.status,
    summary: result.outcome.summary,
    remediation: check.remediation,
    durationMs: result.durationMs,
    observations: result.outcome.observations,
    ...(result.waiver ? { waiver: result.waiver } : {}),
    severity: severityOf(result.entry),
    ...(result.entry.line ? { checklistLine: result.entry.line } : {}),
    ...(result.entry.plugin ? { plugin: { ...result.entry.plugin } } : {}),
  };
}

/** Scrubs every known secret from every string in a JSON-like value. */
export function redactDeep<T>(value: T, secrets: SecretRedactor): T {
  if (typeof value === 'string') return secrets.redact(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secrets)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [secrets.redact(key), redactDeep(item, secrets)]),
    ) as T;
  }
  return value;
}

/** The exact bytes that are signed. */
export function serializeStatement(statement: EvidenceStatement): Buffer {
  return Buffer.from(JSON.stringify(statement), 'utf8');
}
