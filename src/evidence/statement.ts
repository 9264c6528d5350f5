/** Turns a run's results into the in-toto statement that gets signed. */
import type { LoadedChecklist } from '../engine/checklist/load.js';
import { type CheckResult, exitCodeFor } from '../engine/run.js';
import type { FinalStatus, SecretRedactor } from '../engine/types.js';
import {
  type CheckRecord,
  type EvidenceStatement,
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
  results: CheckResult[];
  startedAt: Date;
  finishedAt: Date;
  /** The commit verified, when the repository is a git checkout. */
  commit: string | undefined;
  repoDisplayPath: string;
  interrupted: boolean;
  baselineSha256?: string;
  /** Entry ids left out by --only / --skip, and whether --allow-partial accepted that. */
  partial?: { deselected: string[]; allowed: boolean };
}

const VERDICTS: Record<0 | 1 | 3, Verdict> = { 0: 'pass', 1: 'fail', 3: 'error' };

export function buildStatement(input: StatementInput): EvidenceStatement {
  // An interrupted run, or one that left checks out, has not verified every control: it cannot pass.
  const incomplete = input.interrupted || (input.partial !== undefined && !input.partial.allowed);
  const exitCode = incomplete && exitCodeFor(input.results) === 0 ? 3 : exitCodeFor(input.results);
  const counts: Record<FinalStatus, number> = { pass: 0, fail: 0, error: 0, skip: 0, waived: 0 };
  for (const result of input.results) counts[result.status] += 1;

  const subject: ResourceDescriptor[] = [];
  if (input.commit) {
    subject.push({ name: `git:${input.repoDisplayPath}`, digest: { gitCommit: input.commit } });
  }
  subject.push({ name: input.checklistDisplayPath, digest: { sha256: input.loaded.sha256 } });

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
      },
      checklist: {
        path: input.checklistDisplayPath,
        sha256: input.loaded.sha256,
        ...(input.baselineSha256 ? { baselineSha256: input.baselineSha256 } : {}),
      },
      startedAt: input.startedAt.toISOString(),
      finishedAt: input.finishedAt.toISOString(),
      verdict: VERDICTS[exitCode],
      exitCode,
      counts,
      checks: input.results.map(toCheckRecord),
      waivers,
      ...(input.partial ? { partial: input.partial } : {}),
      ...(input.interrupted ? { interrupted: true } : {}),
    },
  };
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
