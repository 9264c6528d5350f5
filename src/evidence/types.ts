/**
 * The evidence format: an in-toto Statement v1 whose predicate records the run,
 * wrapped in a DSSE envelope. Reporters read only these types.
 */
import type { Severity } from '../engine/severity.js';
import type { FinalStatus, Json, Observation } from '../engine/types.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://secgate.dev/evidence/v1';
export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface ResourceDescriptor {
  name: string;
  digest: Record<string, string>;
  annotations?: Record<string, Json>;
}

export interface WaiverRecord {
  check: string;
  reason: string;
  /** YYYY-MM-DD, valid until the end of that UTC day. */
  expires: string;
  /** `applied`: covered a failure; `expired`: past its date, so the check fails; `unused`: nothing to waive. */
  state: 'applied' | 'expired' | 'unused';
}

export interface CheckRecord {
  /** The entry's id (the check id, or the entry's own `id` when a check runs twice). */
  id: string;
  /** The check module id. */
  check: string;
  title: string;
  source: string;
  status: FinalStatus;
  summary: string;
  remediation: string;
  durationMs: number;
  observations: Observation[];
  /** Present when a waiver covered (or failed to cover, being expired) this check. */
  waiver?: WaiverRecord;
  /** How much a failure matters (the entry's override, else the check's); absent in evidence older than severities. */
  severity?: Severity;
  /** Line of the check's entry in the checklist, where reports point for this control. */
  checklistLine?: number;
  /**
   * For a check from outside secgate (`plugin:`): the module as the checklist names it, the file
   * imported (relative to the checklist's folder) and its sha256 — the code that judged.
   */
  plugin?: { specifier: string; path: string; sha256: string };
}

/**
 * `pass`: every control proven or validly waived. `fail`: at least one control
 * observed broken. `error`: none broken, at least one not observed (or the run
 * was interrupted). `partial`: none broken or unobserved, but --only/--skip
 * left checks out — never a pass, whatever the exit code.
 */
export type Verdict = 'pass' | 'fail' | 'error' | 'partial';

export interface EvidencePredicate {
  tool: { name: 'secgate'; version: string };
  /** `commit: null` when the repository was not a readable git checkout (no commit subject then). */
  target: { url: string; http_url?: string; repo: string; commit?: string | null };
  /**
   * `path`: as given, relative to the working directory. `repositoryPath`: relative to the top level
   * of the repository verified, when the checklist is in it (what code scanning resolves paths against).
   */
  checklist: { path: string; sha256: string; baselineSha256?: string; repositoryPath?: string };
  startedAt: string;
  finishedAt: string;
  /** `pass` ⇒ exit 0, `fail` ⇔ exit 1, `error` ⇒ exit 3, `partial` ⇒ exit 0 with --allow-partial, else 3. */
  verdict: Verdict;
  exitCode: 0 | 1 | 3;
  counts: Record<FinalStatus, number>;
  checks: CheckRecord[];
  waivers: WaiverRecord[];
  /** Set when --only / --skip left checks out: such a run cannot pass the gate unless --allow-partial. */
  partial?: { deselected: string[]; allowed: boolean };
  /** Set when the run was interrupted (SIGINT/SIGTERM) before every check finished. */
  interrupted?: boolean;
  /** Set when the checklist declares targets: the one this run verified. */
  fleet?: FleetRecord;
}

export interface FleetRecord {
  /** The target's name in the checklist's `targets:` (or its inventory's). */
  target: string;
  /** The inventory file the target came from: as the checklist names it, and its bytes' sha256. */
  inventory?: { path: string; sha256: string };
}

export interface EvidenceStatement {
  _type: typeof STATEMENT_TYPE;
  subject: ResourceDescriptor[];
  predicateType: typeof PREDICATE_TYPE;
  predicate: EvidencePredicate;
}

export interface DsseSignature {
  /** A hint only (DSSE spec): other tools leave it out or use ids of their own. */
  keyid?: string;
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  /** base64 of the statement's JSON bytes. */
  payload: string;
  signatures: DsseSignature[];
}
