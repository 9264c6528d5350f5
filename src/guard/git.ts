/** Reads the checklist as it is on another ref (`origin/main`) with `git show`, and parses the parts the guard compares. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { MAX_CHECKLIST_BYTES } from '../engine/checklist/load.js';
import { checkEntrySchema, waiverSchema } from '../engine/checklist/schema.js';
import { errorMessage } from '../engine/errors.js';
import type { Json } from '../engine/types.js';
import { gitOutput } from '../probes/git-output.js';
import { type BaselineEntry, parseBaseline } from '../secrets/baseline.js';
import { type BaselineFileVersions, type ComparableChecklist, SCOPE_KEYS } from './compare.js';

/** Why the base checklist could not be read; the CLI reports it as an invalid invocation. */
export class BaselineError extends Error {
  override name = 'BaselineError';
}

export interface BaselineChecklist {
  text: string;
  sha256: string;
  ref: string;
  /** The commit the ref resolved to. */
  commit: string;
}

/** A base checklist is read whole; anything larger than a checklist may be is refused before (below). */
const git = (repoDir: string, args: string[]) => gitOutput(repoDir, args, MAX_CHECKLIST_BYTES + 1024);

/**
 * The checklist at `ref`, or `undefined` when the ref exists but has no file
 * at that path (the checklist is new: there is nothing to weaken).
 * `checklistPath` is absolute or relative to `repoDir`.
 */
export async function readChecklistAtRef(
  repoDir: string,
  ref: string,
  checklistPath: string,
): Promise<BaselineChecklist | undefined> {
  if (ref.trim() === '' || ref.startsWith('-') || /[\s:]/.test(ref)) {
    throw new BaselineError(`--baseline-ref '${ref}' is not a git ref (e.g. origin/main)`);
  }
  const root = await git(repoDir, ['rev-parse', '--show-toplevel']);
  if (!root.ok) throw new BaselineError(`${repoDir} is not a git repository, so there is no base checklist to compare`);
  const resolved = await git(repoDir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (!resolved.ok) {
    throw new BaselineError(
      `--baseline-ref '${ref}' does not name a commit in ${repoDir}; in CI, fetch it first (e.g. git fetch origin main, or actions/checkout with fetch-depth: 0)`,
    );
  }
  const absolute = path.resolve(repoDir, checklistPath);
  const relative = path.relative(root.stdout.trim(), absolute).split(path.sep).join('/');
  if (relative.startsWith('..'))
    throw new BaselineError(`${checklistPath} is outside the repository at ${root.stdout.trim()}`);
  const commit = resolved.stdout.trim();
  // A base checklist larger than any checklist may be is refused before it is read (bounded memory).
  const size = await git(repoDir, ['cat-file', '-s', `${commit}:${relative}`]);
  if (size.ok && Number(size.stdout.trim()) > MAX_CHECKLIST_BYTES) {
    throw new BaselineError(
      `${relative} at ${ref} is larger than ${MAX_CHECKLIST_BYTES / 1024 / 1024} MiB, which no checklist may be`,
    );
  }
  const shown = await git(repoDir, ['show', `${commit}:${relative}`]);
  if (!shown.ok) {
    if (/does not exist|exists on disk, but not in/.test(shown.stderr)) return undefined;
    throw new BaselineError(`cannot read ${relative} at ${ref}: ${shown.stderr.trim()}`);
  }
  return { text: shown.stdout, sha256: createHash('sha256').update(shown.stdout).digest('hex'), ref, commit };
}

/**
 * A repository check's `baseline:` file as the check will read it (`file`, absolute, on disk) and as
 * committed at `ref`. A head file that cannot be read accepts nothing (the check reports it, as an
 * error); a base file that is absent, outside the repository or unreadable accepted nothing, so every
 * entry on disk is new.
 */
export async function readBaselineFileVersions(
  repoDir: string,
  ref: string,
  file: string,
  names: { entry: string; file: string },
): Promise<BaselineFileVersions> {
  let head: BaselineEntry[] = [];
  try {
    head = parseBaseline(await readFile(file, 'utf8'));
  } catch {
    // Nothing accepted: repo.history / repo.committed-secrets fail on an unreadable baseline themselves.
  }
  return { ...names, head, base: await baselineAtRef(repoDir, ref, file) };
}

async function baselineAtRef(repoDir: string, ref: string, file: string): Promise<BaselineFileVersions['base']> {
  let committed: BaselineChecklist | undefined;
  try {
    committed = await readChecklistAtRef(repoDir, ref, file);
  } catch (error) {
    if (error instanceof BaselineError) return { none: error.message };
    throw error;
  }
  if (!committed) return { none: 'the file does not exist there' };
  try {
    return parseBaseline(committed.text);
  } catch {
    return { none: 'the file there is not a valid baseline' };
  }
}

const comparableSchema = z.object({
  checks: z.array(checkEntrySchema),
  waivers: z.array(waiverSchema).default([]),
});

/**
 * The checks, waivers and scope (target, database, auth, repo, settings) of a
 * checklist text as written, without interpolating `${VAR}` or validating the
 * rest: the environment may differ between the two runs, the text may not.
 */
export function parseComparableChecklist(text: string, label: string): ComparableChecklist {
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    throw new BaselineError(`${label} is not valid YAML: ${errorMessage(error)}`);
  }
  const parsed = comparableSchema.safeParse(
    data !== null && typeof data === 'object' && !Array.isArray(data)
      ? { checks: (data as Record<string, unknown>).checks, waivers: (data as Record<string, unknown>).waivers ?? [] }
      : {},
  );
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BaselineError(`${label}: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unexpected shape'}`);
  }
  const record = data as Record<string, unknown>;
  const scope: Record<string, Json | undefined> = {};
  for (const key of SCOPE_KEYS) {
    if (record[key] !== undefined) scope[key] = JSON.parse(JSON.stringify(record[key])) as Json;
  }
  return { ...parsed.data, scope };
}
