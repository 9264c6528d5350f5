/**
 * The shape of an evidence predicate, checked at run time before a page is
 * rendered from a file someone handed over: a signed envelope only proves who
 * wrote it, not that it is a well-formed secgate predicate.
 */
import { z } from 'zod';
import { SEVERITIES } from '../engine/severity.js';
import type { EvidencePredicate } from '../evidence/types.js';

const status = z.enum(['pass', 'fail', 'error', 'skip', 'waived']);

const location = z.object({
  path: z.string(),
  line: z.number().int().optional(),
  column: z.number().int().optional(),
  commit: z.string().optional(),
});

const observation = z.object({
  probe: z.string(),
  expected: z.json().optional(),
  actual: z.json().optional(),
  ok: z.boolean().optional(),
  note: z.string().optional(),
  location: location.optional(),
});

const waiver = z.object({
  check: z.string(),
  reason: z.string(),
  expires: z.string(),
  state: z.enum(['applied', 'expired', 'unused']),
});

const record = z.object({
  id: z.string(),
  check: z.string(),
  title: z.string(),
  source: z.string(),
  status,
  summary: z.string(),
  remediation: z.string(),
  durationMs: z.number(),
  observations: z.array(observation),
  waiver: waiver.optional(),
  severity: z.enum(SEVERITIES).optional(),
  checklistLine: z.number().int().positive().optional(),
  plugin: z.object({ specifier: z.string(), path: z.string(), sha256: z.string() }).optional(),
});

const predicateSchema = z.object({
  tool: z.object({ name: z.literal('secgate'), version: z.string() }),
  target: z.object({
    url: z.string(),
    http_url: z.string().optional(),
    repo: z.string(),
    commit: z.string().nullable().optional(),
  }),
  checklist: z.object({
    path: z.string(),
    sha256: z.string(),
    baselineSha256: z.string().optional(),
    repositoryPath: z.string().optional(),
  }),
  startedAt: z.string(),
  finishedAt: z.string(),
  verdict: z.enum(['pass', 'fail', 'error', 'partial']),
  exitCode: z.union([z.literal(0), z.literal(1), z.literal(3)]),
  counts: z.object({ pass: z.number(), fail: z.number(), error: z.number(), skip: z.number(), waived: z.number() }),
  checks: z.array(record),
  waivers: z.array(waiver),
  partial: z.object({ deselected: z.array(z.string()), allowed: z.boolean() }).optional(),
  interrupted: z.boolean().optional(),
  fleet: z
    .object({ target: z.string(), inventory: z.object({ path: z.string(), sha256: z.string() }).optional() })
    .optional(),
});

export type PredicateCheck = { ok: true; predicate: EvidencePredicate } | { ok: false; problem: string };

export function checkPredicate(value: unknown): PredicateCheck {
  const parsed = predicateSchema.safeParse(value);
  if (parsed.success) return { ok: true, predicate: parsed.data };
  const first = parsed.error.issues[0];
  const where = first && first.path.length > 0 ? ` at predicate.${first.path.join('.')}` : '';
  return { ok: false, problem: `not a secgate evidence predicate${where}: ${first?.message ?? 'unexpected shape'}` };
}
