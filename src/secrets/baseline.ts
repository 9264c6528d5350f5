/**
 * The baseline: findings a team has reviewed and accepted (a revoked test
 * key, a fixture). Matched by fingerprint (the first 12 hex characters of the
 * value's sha256, as shown in every finding) and never used to hide a finding:
 * an accepted finding is still reported, with its reason.
 */
import { z } from 'zod';

const entrySchema = z
  .object({
    fingerprint: z
      .string()
      .regex(/^[0-9a-f]{12,64}$/, { message: 'expected the sha256 fingerprint shown in the finding' }),
    reason: z.string().trim().min(5, { message: 'every accepted finding needs a reason' }),
    rule: z.string().optional(),
    path: z.string().optional(),
  })
  .strict();

export const baselineSchema = z.union([z.array(entrySchema), z.object({ findings: z.array(entrySchema) }).strict()]);

export type BaselineEntry = z.output<typeof entrySchema>;

export function parseBaseline(json: string): BaselineEntry[] {
  const parsed = baselineSchema.parse(JSON.parse(json));
  return Array.isArray(parsed) ? parsed : parsed.findings;
}

/** The accepted entry covering a finding, if any; `rule` and `path` narrow an entry when given. */
export function acceptedBy(
  baseline: readonly BaselineEntry[],
  finding: { fingerprint: string; rule: string; path: string },
): BaselineEntry | undefined {
  return baseline.find(
    (entry) =>
      finding.fingerprint.startsWith(entry.fingerprint.slice(0, 12)) &&
      (entry.rule === undefined || entry.rule === finding.rule) &&
      (entry.path === undefined || entry.path === finding.path),
  );
}
