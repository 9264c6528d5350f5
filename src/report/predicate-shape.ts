/**
 * The shape of an evidence predicate, checked at run time before a page is
 * rendered from a file someone handed over: a signed envelope only proves who
 * wrote it, not that it is a well-formed secgate predicate. The schema is the
 * evidence format's own (src/evidence/types.ts).
 */
import { type EvidencePredicate, evidencePredicateSchema } from '../evidence/types.js';

export type PredicateCheck = { ok: true; predicate: EvidencePredicate } | { ok: false; problem: string };

export function checkPredicate(value: unknown): PredicateCheck {
  const parsed = evidencePredicateSchema.safeParse(value);
  if (parsed.success) return { ok: true, predicate: parsed.data };
  const first = parsed.error.issues[0];
  const where = first && first.path.length > 0 ? ` at predicate.${first.path.join('.')}` : '';
  return { ok: false, problem: `not a secgate evidence predicate${where}: ${first?.message ?? 'unexpected shape'}` };
}
