/**
 * The baseline: findings a team has reviewed and accepted (a revoked test
 * key, a fixture). Matched by fingerprint (the first 12 hex characters of the
 * value's sha256, as shown in every finding) and never used to hide a finding:
 * an accepted finding is still reported, with its reason.
 */
import path from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../engine/errors.js';
import type { CheckFiles, Observation } from '../engine/types.js';

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

export type LoadedBaseline =
  | { entries: BaselineEntry[]; observation?: Observation; problem?: undefined }
  | { entries?: undefined; problem: string; observation: Observation };

/**
 * Reads the baseline a repository check names (relative to the checklist's
 * directory) through the check's `ctx.files`. No file configured means no accepted findings; a file
 * that is configured but unreadable or invalid is a problem, never an empty baseline.
 */
export async function loadBaselineFile(
  files: Pick<CheckFiles, 'readText'>,
  baseDir: string,
  relative: string | undefined,
): Promise<LoadedBaseline> {
  if (relative === undefined) return { entries: [] };
  const file = path.resolve(baseDir, relative);
  const probe = `baseline ${relative}`;
  try {
    const entries = parseBaseline(await files.readText(file));
    return { entries, observation: { probe, actual: { entries: entries.length } } };
  } catch (error) {
    const problem = `could not read baseline ${file}: ${errorMessage(error)}`;
    return { problem, observation: { probe, expected: 'a readable JSON baseline', ok: false, note: problem } };
  }
}

/** Findings listed one by one in the evidence; the rest are counted. */
const MAX_LISTED_FINDINGS = 200;

/**
 * The finding observations a repository check reports: open ones first, so
 * the cap never drops an open finding in favour of an accepted one, then one
 * line counting the rest (itself failing if any open finding is among them).
 */
export function listedFindings(findings: readonly Observation[], open: number): Observation[] {
  const ordered = [...findings].sort((left, right) => Number(left.ok) - Number(right.ok));
  const listed = ordered.slice(0, MAX_LISTED_FINDINGS);
  if (ordered.length > MAX_LISTED_FINDINGS) {
    listed.push({
      probe: 'findings not listed',
      ok: open <= MAX_LISTED_FINDINGS,
      note: `${ordered.length - MAX_LISTED_FINDINGS} further findings omitted`,
    });
  }
  return listed;
}
