/**
 * The evidence format: an in-toto Statement v1 whose predicate records the run,
 * wrapped in a DSSE envelope. Reporters read only these types.
 *
 * The zod schemas are the one definition of the statement: the TypeScript types are
 * derived from them, the writer (statement.ts) builds values of those types, and every
 * reader of a file someone handed over (evidence render, aggregate, check) parses with
 * them — so a field the writer emits cannot be missing from what readers keep
 * (test/evidence/statement-shape.test.ts round-trips a real run's statement).
 * Unknown keys are dropped, not refused, as they always were: newer evidence stays readable.
 */
import { z } from 'zod';
import { SEVERITIES } from '../engine/severity.js';
import type { FinalStatus, Observation, SourceLocation } from '../engine/types.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://secgate.dev/evidence/v1';
export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

const finalStatusSchema = z.enum(['pass', 'fail', 'error', 'skip', 'waived']);

const sourceLocationSchema = z.object({
  path: z.string(),
  line: z.number().int().optional(),
  column: z.number().int().optional(),
  commit: z.string().optional(),
});

/** An observation as the check contract defines it (src/engine/types.ts); the type assertions below keep the two equal. */
const observationSchema = z.object({
  probe: z.string(),
  expected: z.json().optional(),
  actual: z.json().optional(),
  ok: z.boolean().optional(),
  note: z.string().optional(),
  location: sourceLocationSchema.optional(),
});

export const resourceDescriptorSchema = z.object({
  name: z.string(),
  digest: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.json()).optional(),
});
export type ResourceDescriptor = z.output<typeof resourceDescriptorSchema>;

export const waiverRecordSchema = z.object({
  check: z.string(),
  reason: z.string(),
  /** YYYY-MM-DD, valid until the end of that UTC day. */
  expires: z.string(),
  /** `applied`: covered a failure; `expired`: past its date, so the check fails; `unused`: nothing to waive. */
  state: z.enum(['applied', 'expired', 'unused']),
});
export type WaiverRecord = z.output<typeof waiverRecordSchema>;

export const checkRecordSchema = z.object({
  /** The entry's id (the check id, or the entry's own `id` when a check runs twice). */
  id: z.string(),
  /** The check module id. */
  check: z.string(),
  title: z.string(),
  source: z.string(),
  status: finalStatusSchema,
  summary: z.string(),
  remediation: z.string(),
  durationMs: z.number(),
  observations: z.array(observationSchema),
  /** Present when a waiver covered (or failed to cover, being expired) this check. */
  waiver: waiverRecordSchema.optional(),
  /** How much a failure matters (the entry's override, else the check's); absent in evidence older than severities. */
  severity: z.enum(SEVERITIES).optional(),
  /** Line of the check's entry in the checklist, where reports point for this control. */
  checklistLine: z.number().int().positive().optional(),
  /**
   * For a check from outside secgate (`plugin:`): the module as the checklist names it, the file
   * imported (relative to the checklist's folder) and its sha256 — the code that judged.
   */
  plugin: z.object({ specifier: z.string(), path: z.string(), sha256: z.string() }).optional(),
});
export type CheckRecord = z.output<typeof checkRecordSchema>;

/**
 * `pass`: every control proven or validly waived. `fail`: at least one control
 * observed broken. `error`: none broken, at least one not observed (or the run
 * was interrupted). `partial`: none broken or unobserved, but --only/--skip
 * left checks out — never a pass, whatever the exit code.
 */
export const verdictSchema = z.enum(['pass', 'fail', 'error', 'partial']);
export type Verdict = z.output<typeof verdictSchema>;

/** How many checks ended in each status. */
const countSchema = z.number().int().nonnegative();
export const statusCountsSchema = z.object({
  pass: countSchema,
  fail: countSchema,
  error: countSchema,
  skip: countSchema,
  waived: countSchema,
});

export const fleetRecordSchema = z.object({
  /** The target's name in the checklist's `targets:` (or its inventory's). */
  target: z.string(),
  /** The inventory file the target came from: as the checklist names it, and its bytes' sha256. */
  inventory: z.object({ path: z.string(), sha256: z.string() }).optional(),
});
export type FleetRecord = z.output<typeof fleetRecordSchema>;

export const evidencePredicateSchema = z.object({
  tool: z.object({ name: z.literal('secgate'), version: z.string() }),
  /** `commit: null` when the repository was not a readable git checkout (no commit subject then). */
  target: z.object({
    url: z.string(),
    http_url: z.string().optional(),
    repo: z.string(),
    commit: z.string().nullable().optional(),
  }),
  /**
   * `path`: as given, relative to the working directory. `repositoryPath`: relative to the top level
   * of the repository verified, when the checklist is in it (what code scanning resolves paths against).
   */
  checklist: z.object({
    path: z.string(),
    sha256: z.string(),
    baselineSha256: z.string().optional(),
    repositoryPath: z.string().optional(),
  }),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** `pass` ⇒ exit 0, `fail` ⇔ exit 1, `error` ⇒ exit 3, `partial` ⇒ exit 0 with --allow-partial, else 3. */
  verdict: verdictSchema,
  exitCode: z.union([z.literal(0), z.literal(1), z.literal(3)]),
  counts: statusCountsSchema,
  checks: z.array(checkRecordSchema),
  waivers: z.array(waiverRecordSchema),
  /** Set when --only / --skip left checks out: such a run cannot pass the gate unless --allow-partial. */
  partial: z.object({ deselected: z.array(z.string()), allowed: z.boolean() }).optional(),
  /** Set when the run was interrupted (SIGINT/SIGTERM) before every check finished. */
  interrupted: z.boolean().optional(),
  /** Set when the checklist declares targets: the one this run verified. */
  fleet: fleetRecordSchema.optional(),
});
export type EvidencePredicate = z.output<typeof evidencePredicateSchema>;

/** An in-toto statement of one predicate type: the envelope shape a target's evidence and a fleet's share. */
export function statementSchema<Type extends string, Predicate extends z.ZodType>(
  predicateType: Type,
  predicate: Predicate,
) {
  return z.object({
    _type: z.literal(STATEMENT_TYPE),
    subject: z.array(resourceDescriptorSchema),
    predicateType: z.literal(predicateType),
    predicate,
  });
}

export const evidenceStatementSchema = statementSchema(PREDICATE_TYPE, evidencePredicateSchema);
export type EvidenceStatement = z.output<typeof evidenceStatementSchema>;

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

// The check contract's types are written by hand (checks import no zod schema for them);
// these fail the typecheck when the evidence schema and the contract part ways. Each side
// must accept the other's values and name the same keys (an optional key on one side only
// would pass the first test).
type Exact<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Agree<A, B> = [A] extends [B] ? ([B] extends [A] ? Exact<keyof A, keyof B> : false) : false;
const observationsAgree: Agree<z.output<typeof observationSchema>, Observation> = true;
const locationsAgree: Agree<z.output<typeof sourceLocationSchema>, SourceLocation> = true;
const statusesAgree: Exact<z.output<typeof finalStatusSchema>, FinalStatus> = true;
const countsAgree: Agree<EvidencePredicate['counts'], Record<FinalStatus, number>> = true;
void [observationsAgree, locationsAgree, statusesAgree, countsAgree];
