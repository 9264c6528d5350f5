import path from 'node:path';
import { z } from 'zod';
import type { IndexEntry } from '../../src/engine/observations.js';
import { fingerprintSecret } from '../../src/engine/secrets.js';
import {
  type CheckContext,
  type CheckFiles,
  type CheckOutcome,
  defineCheck,
  type Observation,
  type SecretFingerprint,
} from '../../src/engine/types.js';
import { findNamedAssignments, isEnvFile, type NamedAssignment } from '../../src/secrets/assignments.js';
import { acceptedBy, type BaselineEntry, listedFindings, loadBaselineFile } from '../../src/secrets/baseline.js';
import { type ContentKind, type ContentScan, ContentScanner, scanContent } from '../../src/secrets/content.js';
import {
  LFS_POINTER_MAX_BYTES,
  type LfsObjectState,
  type LfsPointer,
  parseLfsPointer,
  scanLfsObject,
} from '../../src/secrets/lfs.js';
import {
  type AssignedValue,
  assignedValueFacts,
  decodedText,
  judgeNamedValue,
  NAMED_SECRET_RULE,
} from '../../src/secrets/named-secrets.js';
import { inScope, pathMatches } from '../../src/secrets/paths.js';
import { secretRules } from '../../src/secrets/rules.js';
import { scopePathsParam, secretNamesParam } from './params.js';

/** Absent files named one by one in the evidence; beyond that they are counted. */
const MAX_LISTED_ABSENT = 1000;

/** `3 tracked files`, `1 tracked file`. */
function countOf(count: number, what: string): string {
  return `${count} ${what}${count === 1 ? '' : 's'}`;
}

// The facts the judge weighs, now shared with repo.history (src/secrets/named-secrets.ts).
export type { AssignedValue } from '../../src/secrets/named-secrets.js';

export const committedSecretsParams = z
  .object({
    names: secretNamesParam(
      'secret variable names: no tracked file may assign them a value (placeholders in .env.example excepted)',
    ),
    max_file_bytes: z
      .number()
      .int()
      .positive()
      .default(2 * 1024 * 1024)
      .describe('tracked files larger than this are not held in memory: they are scanned as a stream'),
    must_ignore: z
      .array(z.string().min(1))
      .default(['.env'])
      .describe("paths that must be ignored by git, relative to the repository's top level"),
    ignore_paths: z
      .array(z.string().min(1))
      .default([])
      .describe('tracked paths not scanned (test fixtures with fake credentials); listed in the evidence'),
    paths: scopePathsParam,
    baseline: z
      .string()
      .min(1)
      .optional()
      .describe("JSON baseline of accepted findings (fingerprint + reason), relative to the checklist's directory"),
  })
  .strict();
export type CommittedSecretsParams = z.output<typeof committedSecretsParams>;

interface FileFinding {
  observation: Observation;
  fingerprint: string;
  rule: string;
  path: string;
}

/** A file's content as scanned: its findings, and its text where named assignments are looked for in it. */
interface ScannedFile {
  scan: ContentScan;
  /**
   * Plain or UTF-16 text read whole; absent where the scan itself looked for the names (`scan.assignments`:
   * binary content, UTF-32, files streamed past).
   */
  text?: string;
  bytes: number;
  /** An unsmudged Git LFS pointer: `scan` is of its content from the LFS store, when that was there. */
  lfs?: { oid: string; size: number; object: LfsObjectState };
}

/** One tracked file read and scanned. */
export interface TrackedFileSeen {
  path: string;
  bytes: number;
  /** Larger than max_file_bytes: scanned as a stream (named assignments looked for in each window). */
  streamed: boolean;
  kind: ContentKind;
  /** What no scan can see into (an archive). */
  unjudged?: string;
  /** The blob id git would store for an unjudged file, so that repo.history's baseline entry fits it too. */
  blob?: string;
  /** Read from the index, not the work tree: why the work tree could not be trusted to show it. */
  fromIndex?: IndexReason;
  /** An unsmudged Git LFS pointer, and what came of looking for its content in the LFS store. */
  lfs?: { oid: string; size: number; object: LfsObjectState };
  matches: { rule: string; line: number; column: number; offset: number; fingerprint: SecretFingerprint }[];
  assignments: (Omit<NamedAssignment, 'value'> & {
    /** In binary content: the value's byte offset (its lines mean nothing). */
    offset?: number;
    fingerprint: SecretFingerprint;
    value: AssignedValue;
  })[];
}

/**
 * Why a tracked file is read from the index: the work tree does not hold it (a sparse checkout, a deleted
 * file), or git was told not to compare the two (assume-unchanged, skip-worktree), so the file on disk may
 * differ from what is committed. Such a file on disk is scanned too.
 */
export type IndexReason = 'not in the work tree' | 'assume-unchanged' | 'skip-worktree';

/** What the check saw of the tracked files; a failed step leaves what came before it. */
export interface TrackedSeen {
  repoDir: string;
  /** Tracked files before the path scope narrowed them. */
  trackedTotal: number;
  /** Tracked files in scope. */
  tracked: string[];
  /** Each must_ignore path, as git check-ignore answered, in order. */
  ignoreChecks: { path: string; ignored: boolean }[];
  /** Tracked files not read because ignore_paths covers them. */
  skipped: string[];
  /**
   * Every regular file read, in order (symlinks and submodules are not): from the work tree, then what the
   * index holds for those it does not show faithfully (`fromIndex`).
   */
  files: TrackedFileSeen[];
  /**
   * Tracked files the work tree does not show whose blob a partial clone (`--filter`) does not hold: not read,
   * and not fetched (that would be a network call to the promisor remote).
   */
  absent: { path: string; blob: string }[];
  failure?: {
    step: 'list' | 'check-ignore' | 'aborted' | 'read' | 'read-index' | 'blob-ids';
    path?: string;
    reason: string;
  };
}

/**
 * Seed 002, "JWT secrets and database passwords are loaded from environment,
 * not from committed files": `grep -r "JWT_SECRET_KEY\|POSTGRES_PASSWORD" .`
 * finds only `.env.example` with placeholder values, no tracked file carries a
 * key or token, and `.env` is ignored.
 */
export default defineCheck({
  id: 'repo.committed-secrets',
  title:
    'Tracked files hold no secrets: named secrets only as placeholders in .env.example, no tokens or keys, .env ignored',
  source: 'control K2 (docs/controls.md#K2): No secret in the tracked files',
  docs: 'docs/controls.md#K2',
  remediation:
    'Move the value to the deployment environment or secret store, rotate it (it is already in git), put only ' +
    'placeholders (`changeme`, `<generate-me>`, an environment reference) in .env.example, and add `.env` to .gitignore.',
  effects: 'none',
  slow: true,
  severity: 'critical',
  params: committedSecretsParams,
  strength: {
    names: 'verified',
    must_ignore: 'verified',
    ignore_paths: 'accepted',
    max_file_bytes: 'higher',
  },
  async run(ctx, params) {
    const loadedBaseline = await loadBaselineFile(ctx.files, ctx.baseDir, params.baseline);
    const before = loadedBaseline.observation ? [loadedBaseline.observation] : [];
    if (loadedBaseline.problem !== undefined) {
      return { status: 'error', summary: loadedBaseline.problem, observations: before };
    }
    const outcome = judgeTrackedFiles(await observeTrackedFiles(ctx, params), params, loadedBaseline.entries);
    return { ...outcome, observations: [...before, ...outcome.observations] };
  },
});

/** Lists, checks and reads the tracked files; decides nothing (judgeTrackedFiles does). */
async function observeTrackedFiles(ctx: CheckContext, params: CommittedSecretsParams): Promise<TrackedSeen> {
  const seen: TrackedSeen = {
    repoDir: ctx.repoDir,
    trackedTotal: 0,
    tracked: [],
    ignoreChecks: [],
    skipped: [],
    files: [],
    absent: [],
  };
  // Paths are relative to the repository's top level, wherever in it `repo:` points, as in repo.history.
  let topLevel: string;
  let index: IndexEntry[];
  try {
    topLevel = await ctx.git.repositoryTopLevel(ctx.repoDir, { signal: ctx.signal });
    index = await ctx.git.indexEntries(topLevel, { signal: ctx.signal });
    // One path per file (an unresolved conflict has up to three entries for it).
    seen.tracked = [...new Set(index.map((entry) => entry.path))];
  } catch (error) {
    seen.failure = { step: 'list', reason: ctx.secrets.redact(String(error)) };
    return seen;
  }
  seen.trackedTotal = seen.tracked.length;
  const scope = params.paths;
  if (scope) seen.tracked = seen.tracked.filter((file) => inScope(scope, file));

  for (const mustIgnore of params.must_ignore) {
    try {
      seen.ignoreChecks.push({
        path: mustIgnore,
        ignored: await ctx.git.isIgnored(topLevel, mustIgnore, { signal: ctx.signal }),
      });
    } catch (error) {
      seen.failure = { step: 'check-ignore', path: mustIgnore, reason: String(error) };
      return seen;
    }
  }

  seen.skipped = seen.tracked.filter((file) => params.ignore_paths.some((pattern) => pathMatches(pattern, file)));
  const skipped = new Set(seen.skipped);
  // Files whose committed content the work tree does not show faithfully: read from the index below.
  const fromIndex = new Map<string, IndexReason>();
  const scanned = new Set(seen.tracked.filter((file) => !skipped.has(file)));
  for (const entry of index) {
    const reason = untrustedWorkTree(entry.tag);
    if (reason && scanned.has(entry.path)) fromIndex.set(entry.path, reason);
  }
  // Asked of git at the first Git LFS pointer only.
  let commonDir: string | undefined;
  for (const file of seen.tracked) {
    if (skipped.has(file)) continue;
    if (ctx.signal.aborted) {
      seen.failure = { step: 'aborted', reason: 'aborted while scanning tracked files' };
      return seen;
    }
    let scanned: ScannedFile | 'absent' | undefined;
    try {
      const read = await scanTrackedFile(ctx.files, path.join(topLevel, file), file, params, ctx.signal);
      scanned = read;
      if (read !== 'absent' && read?.pointer) {
        commonDir ??= await ctx.git.commonDir(topLevel, { signal: ctx.signal });
        const pointed = { pointer: read.pointer, bytes: read.bytes };
        scanned = await scanPointedContent(ctx.files, commonDir, pointed, file, params, ctx.signal);
      }
    } catch (error) {
      seen.failure = { step: 'read', path: file, reason: String(error) };
      return seen;
    }
    if (scanned === 'absent') {
      // Tracked, yet not on disk (a sparse checkout, a deleted file): what is committed is in the index.
      if (!fromIndex.has(file)) fromIndex.set(file, 'not in the work tree');
      continue;
    }
    if (scanned) seen.files.push(seenFile(ctx, params, file, scanned));
  }
  try {
    await scanIndexBlobs(ctx, params, topLevel, index, fromIndex, seen);
  } catch (error) {
    seen.failure = { step: 'read-index', reason: String(error) };
    return seen;
  }

  // Content no scan can judge (an archive) is named by the blob id git would store for it, as repo.history names
  // it, so that one baseline entry accepts a reviewed archive in both checks (a file read from the index has it).
  const unjudged = seen.files.filter((file) => file.unjudged !== undefined && file.blob === undefined);
  try {
    const ids = await ctx.git.blobIdsOf(
      topLevel,
      unjudged.map((file) => file.path),
      { signal: ctx.signal },
    );
    unjudged.forEach((file, index) => {
      file.blob = ids[index] ?? '';
    });
  } catch (error) {
    seen.failure = { step: 'blob-ids', reason: String(error) };
  }
  return seen;
}

/** Only fingerprints and facts leave the scan: the observation never holds a secret. */
function seenFile(
  ctx: CheckContext,
  params: CommittedSecretsParams,
  file: string,
  scanned: ScannedFile,
  index?: { blob: string; reason: IndexReason },
): TrackedFileSeen {
  const { scan } = scanned;
  return {
    path: file,
    bytes: scanned.bytes,
    streamed: scanned.bytes > params.max_file_bytes,
    kind: scan.kind,
    ...(scan.unjudged === undefined ? {} : { unjudged: scan.unjudged }),
    ...(index ? { blob: index.blob, fromIndex: index.reason } : {}),
    ...(scanned.lfs ? { lfs: scanned.lfs } : {}),
    matches: scan.matches.map((match) => ({
      rule: match.ruleId,
      line: match.line,
      column: match.column,
      offset: match.offset,
      fingerprint: ctx.secrets.fingerprint(match.value),
    })),
    assignments: assignmentsOf(scanned, params.names, file).map(({ value, offset, ...assignment }) => ({
      ...assignment,
      // Binary content has no lines: where its value lies is a byte offset.
      ...(scan.kind === 'binary' && offset !== undefined ? { offset } : {}),
      fingerprint: ctx.secrets.fingerprint(value),
      value: assignedValueFacts(assignment.name, value),
    })),
  };
}

/** The values given to the names in a scanned file: found by its scan, or looked for here in its text. */
function assignmentsOf(
  { scan, text }: ScannedFile,
  names: readonly string[],
  file: string,
): (NamedAssignment & { offset?: number })[] {
  if (scan.assignments !== undefined) return scan.assignments.map(({ start: _start, ...assignment }) => assignment);
  return text === undefined ? [] : findNamedAssignments(text, names, file);
}

/** `ls-files -v` tags: lower case is assume-unchanged, `S` skip-worktree; either way the work tree may differ. */
export function untrustedWorkTree(tag: string): IndexReason | undefined {
  if (tag === 'S' || tag === 's') return 'skip-worktree';
  return tag !== tag.toUpperCase() ? 'assume-unchanged' : undefined;
}

/** Regular files only: a symlink's blob is its target path, a submodule's entry a commit of another repository. */
const REGULAR_FILE_MODES = new Set(['100644', '100755']);

/**
 * Scans what the index holds for each file in `fromIndex` (every stage of a conflicted one), through one
 * `git cat-file --batch`: small blobs whole, larger ones as a stream, as the work-tree files are.
 */
async function scanIndexBlobs(
  ctx: CheckContext,
  params: CommittedSecretsParams,
  topLevel: string,
  index: readonly IndexEntry[],
  fromIndex: ReadonlyMap<string, IndexReason>,
  seen: TrackedSeen,
): Promise<void> {
  const regular = index.filter((entry) => fromIndex.has(entry.path) && REGULAR_FILE_MODES.has(entry.mode));
  if (regular.length === 0) return;
  // A partial clone lacks blobs by design, and git would fetch each one it is asked for (or die trying): only
  // those here are read, the others are named.
  const absent = new Set(
    await ctx.git.absentObjects(topLevel, [...new Set(regular.map((entry) => entry.object))], { signal: ctx.signal }),
  );
  for (const entry of regular) if (absent.has(entry.object)) seen.absent.push({ path: entry.path, blob: entry.object });
  const wanted = regular.filter((entry) => !absent.has(entry.object));
  if (wanted.length === 0) return;
  const pathsOf = new Map<string, string[]>();
  for (const entry of wanted) pathsOf.set(entry.object, [...(pathsOf.get(entry.object) ?? []), entry.path]);
  const streams = new Map<string, ContentScanner[]>();
  // Git LFS pointers among them: judged by their content from the LFS store once the batch is read (the blob
  // callback is synchronous), as an unsmudged pointer in the work tree is.
  const pointers: { blob: string; file: string; pointer: LfsPointer; bytes: number }[] = [];
  const record = (blob: string, file: string, scanned: ScannedFile) =>
    seen.files.push(
      seenFile(ctx, params, file, scanned, { blob, reason: fromIndex.get(file) ?? 'not in the work tree' }),
    );
  await ctx.git.readBlobs(
    topLevel,
    [...pathsOf.keys()],
    {
      maxBlobBytes: params.max_file_bytes,
      signal: ctx.signal,
      onLargeBlob: (blob) => {
        const scanners = (pathsOf.get(blob) ?? []).map((file) => new ContentScanner(file, secretRules, params.names));
        streams.set(blob, scanners);
        return (piece) => {
          for (const scanner of scanners) scanner.push(piece);
        };
      },
    },
    (blob) => {
      const files = pathsOf.get(blob.sha) ?? [];
      if (blob.kind === 'missing') {
        throw new Error(`the index names blob ${blob.sha} for ${files.join(', ')}, which the repository does not hold`);
      }
      if (blob.kind === 'too-large') {
        (streams.get(blob.sha) ?? []).forEach((scanner, at) => {
          record(blob.sha, files[at] ?? '', { scan: scanner.end(), bytes: blob.size });
        });
        return;
      }
      const pointer = blob.size <= LFS_POINTER_MAX_BYTES ? parseLfsPointer(blob.content) : undefined;
      if (pointer) {
        for (const file of files) pointers.push({ blob: blob.sha, file, pointer, bytes: blob.size });
        return;
      }
      for (const file of files) {
        // The content is a view valid only during this call: scanned, and its text decoded, now.
        const scan = scanContent(blob.content, file, secretRules, params.names);
        const text = scan.assignments === undefined ? decodedText(blob.content, scan.kind) : undefined;
        record(blob.sha, file, { scan, bytes: blob.size, ...(text === undefined ? {} : { text }) });
      }
    },
  );
  if (pointers.length > 0) {
    const commonDir = await ctx.git.commonDir(topLevel, { signal: ctx.signal });
    for (const { blob, file, pointer, bytes } of pointers) {
      record(blob, file, await scanPointedContent(ctx.files, commonDir, { pointer, bytes }, file, params, ctx.signal));
    }
  }
  // Every blob asked for must have been answered: a file not read is not a file without secrets.
  const read = new Set(seen.files.filter((file) => file.fromIndex !== undefined).map((file) => file.path));
  const unread = wanted.map((entry) => entry.path).filter((file) => !read.has(file));
  if (unread.length > 0) throw new Error(`git cat-file did not answer for ${unread.join(', ')}`);
}

/**
 * The verdict on the tracked files. Pure: what was seen, the parameters and
 * the baseline's entries are its inputs. A file not read or not judged is an
 * error, never a pass; an open finding or a must_ignore path that is not
 * ignored fails even then.
 */
export function judgeTrackedFiles(
  seen: TrackedSeen,
  params: Pick<CommittedSecretsParams, 'paths' | 'must_ignore' | 'ignore_paths'>,
  baseline: readonly BaselineEntry[],
): CheckOutcome {
  const observations: Observation[] = [];
  const findings: FileFinding[] = [];
  const { tracked, failure } = seen;
  const error = (summary: string): CheckOutcome => ({ status: 'error', summary, observations });
  if (failure?.step === 'list') return error(`could not list tracked files in ${seen.repoDir}: ${failure.reason}`);
  const scope = params.paths;
  if (scope) {
    observations.push({
      probe: 'paths',
      actual: { paths: scope.map((entry) => (entry === '' ? '.' : entry)), tracked_in_scope: tracked.length },
      note: `${tracked.length} of ${seen.trackedTotal} tracked files lie in ${scope.map((entry) => (entry === '' ? 'the whole repository' : `${entry}/`)).join(', ')}`,
    });
  }

  // 1. .env must be ignored, and no .env-like file may be tracked.
  let notIgnored = 0;
  for (const { path: mustIgnore, ignored } of seen.ignoreChecks) {
    if (!ignored) notIgnored++;
    observations.push({
      probe: `git check-ignore ${mustIgnore}`,
      expected: 'ignored',
      actual: ignored ? 'ignored' : 'not ignored',
      ok: ignored,
      note: ignored
        ? `${mustIgnore} is ignored by .gitignore`
        : `${mustIgnore} is not ignored by .gitignore (rules in .git/info/exclude or a user's core.excludesFile do not count)`,
      location: { path: '.gitignore' },
    });
  }
  if (failure?.step === 'check-ignore') return error(`git check-ignore ${failure.path} failed: ${failure.reason}`);
  // Every must_ignore path must have been asked: one not asked is not known to be ignored.
  const asked = new Set(seen.ignoreChecks.map((check) => check.path));
  const unasked = params.must_ignore.filter((mustIgnore) => !asked.has(mustIgnore));
  if (unasked.length > 0) return error(`git check-ignore was not asked about ${unasked.join(', ')}`);
  for (const file of tracked.filter(isEnvFile)) {
    findings.push({
      rule: 'env-file-tracked',
      path: file,
      // Nothing secret to fingerprint here: the finding is identified by its path.
      fingerprint: fingerprintSecret(file).sha256,
      observation: {
        probe: 'git ls-files',
        expected: 'no .env file tracked',
        actual: { path: file },
        ok: false,
        note: `${file} is tracked by git; env files with real values must never be committed`,
        location: { path: file },
      },
    });
  }

  // 2. Every tracked file: named secrets with values, and rule findings.
  if (seen.skipped.length > 0) {
    observations.push({
      probe: 'ignore_paths',
      actual: { patterns: params.ignore_paths, files: seen.skipped.length, first: seen.skipped.slice(0, 20) },
      note: `${seen.skipped.length} tracked files not scanned because ignore_paths covers them`,
    });
  }
  const counts = { scanned: 0, bytes: 0, streamed: 0, decoded: 0, binary: 0, lfsPointers: 0, lfsObjects: 0 };
  const scannedPaths = new Set<string>();
  for (const file of seen.files) {
    // A file read from both the work tree and the index is one file scanned (twice).
    if (!scannedPaths.has(file.path)) counts.scanned++;
    scannedPaths.add(file.path);
    if (file.lfs) counts.lfsPointers++;
    if (file.lfs?.object === 'scanned') counts.lfsObjects++;
    counts.bytes += file.bytes;
    if (file.streamed) counts.streamed++;
    if (file.kind === 'binary') counts.binary++;
    else if (file.kind !== 'text') counts.decoded++;
    for (const assignment of file.assignments) {
      const observation = judgeAssignment(assignment, file.path);
      if (observation.ok) observations.push(observation);
      else
        findings.push({
          rule: NAMED_SECRET_RULE,
          path: file.path,
          fingerprint: assignment.fingerprint.sha256,
          observation,
        });
    }
    for (const match of file.matches) {
      const binary = file.kind === 'binary';
      const place = binary ? `${file.path} (byte ${match.offset})` : `${file.path}:${match.line}`;
      findings.push({
        rule: match.rule,
        path: file.path,
        fingerprint: match.fingerprint.sha256,
        observation: {
          probe: binary ? file.path : `${file.path}:${match.line}`,
          expected: 'no secret in tracked files',
          actual: { rule: match.rule, ...match.fingerprint, ...(binary ? { byte_offset: match.offset } : {}) },
          ok: false,
          note: `${match.rule} in ${place}`,
          location: binary ? { path: file.path } : { path: file.path, line: match.line, column: match.column },
        },
      });
    }
  }
  if (failure?.step === 'aborted') return error(failure.reason);
  if (failure?.step === 'read') return error(`could not read ${failure.path}: ${failure.reason}`);
  if (failure?.step === 'read-index') {
    return error(
      `could not read from the index the committed content of tracked files the work tree does not show: ${failure.reason}`,
    );
  }

  observations.push({
    probe: 'scan tracked files',
    actual: {
      tracked_files: tracked.length,
      scanned_files: counts.scanned,
      scanned_bytes: counts.bytes,
      streamed_large_files: counts.streamed,
      decoded_text_files: counts.decoded,
      binary_files_scanned_for_printable_runs: counts.binary,
      lfs_pointers: counts.lfsPointers,
      lfs_objects_scanned: counts.lfsObjects,
    },
    note: `scanned ${counts.scanned} of ${tracked.length} tracked files`,
  });
  const indexed = seen.files.filter((file) => file.fromIndex !== undefined);
  if (indexed.length > 0) {
    const why = (reason: IndexReason) => indexed.filter((file) => file.fromIndex === reason).length;
    observations.push({
      probe: 'git ls-files --stage -v + git cat-file --batch',
      actual: {
        not_in_work_tree: why('not in the work tree'),
        assume_unchanged: why('assume-unchanged'),
        skip_worktree: why('skip-worktree'),
        first: indexed.slice(0, 20).map((file) => file.path),
      },
      note: `${indexed.length} tracked file${indexed.length === 1 ? '' : 's'} read from the index, where the work tree does not show what is committed (sparse checkout, deleted, assume-unchanged or skip-worktree)`,
    });
  }

  const { absent } = seen;
  if (absent.length > 0) {
    observations.push({
      probe: 'git cat-file --batch (absent objects)',
      expected: "every tracked file's blob in the object store or the file in the work tree",
      actual: {
        absent: absent.length,
        files: absent.slice(0, MAX_LISTED_ABSENT),
        ...(absent.length > MAX_LISTED_ABSENT ? { not_listed: absent.length - MAX_LISTED_ABSENT } : {}),
      },
      ok: false,
      note: `${countOf(absent.length, 'tracked file')} in no work tree and absent from this partial clone's object store: not read, and not fetched`,
    });
  }

  // Accepted findings stay in the evidence, marked with their reason; open ones come first.
  let open = 0;
  const findingObservations = withoutDuplicates(findings).map((finding) => {
    const accepted = acceptedBy(baseline, finding);
    if (!accepted) {
      open++;
      return finding.observation;
    }
    return { ...finding.observation, ok: true, note: `baselined: ${accepted.reason} (${finding.observation.note})` };
  });
  if (failure?.step === 'blob-ids') return error(`could not identify unjudged files: ${failure.reason}`);
  // A step added to the probe later and not named above: whatever it is, the files were not all seen.
  if (failure !== undefined) return error(`could not scan the tracked files (${failure.step}): ${failure.reason}`);
  let openUnjudged = 0;
  for (const file of seen.files) {
    if (file.unjudged === undefined) continue;
    const blob = file.blob ?? '';
    // No blob id, no baseline entry can name it: it stays open.
    const accepted =
      blob === '' ? undefined : acceptedBy(baseline, { fingerprint: blob, rule: 'unjudged-content', path: file.path });
    if (!accepted) openUnjudged++;
    const lfs = file.lfs;
    // A pointer whose content was not seen says itself why, and what to do.
    const what =
      lfs && lfs.object !== 'scanned'
        ? `${file.path} is ${file.unjudged}`
        : `${file.path} is ${file.unjudged} (${file.bytes} bytes): no scan can see into it`;
    findingObservations.push({
      probe: file.path,
      expected: 'content a scan can judge',
      actual: {
        rule: 'unjudged-content',
        path: file.path,
        blob,
        size: file.bytes,
        ...(lfs ? { lfs_oid: lfs.oid, lfs_size: lfs.size } : {}),
      },
      ok: accepted !== undefined,
      note: accepted ? `baselined: ${accepted.reason} (${what})` : `not judged: ${what}`,
      location: { path: file.path },
    });
  }
  observations.push(...listedFindings(findingObservations, open + openUnjudged));

  const problems = notIgnored + open;
  const accepted = findingObservations.filter((observation) => observation.ok).length;
  const notRead = absent.length > 0 ? `${countOf(absent.length, 'tracked file')} not read` : '';
  const notJudged = openUnjudged > 0 ? `${countOf(openUnjudged, 'file')} not judged` : '';
  const notSeen = [notRead, notJudged].filter((part) => part !== '').join(', and ');
  if (problems > 0) {
    const first =
      observations.find((observation) => observation.probe.startsWith('git check-ignore') && !observation.ok)?.note ??
      findingObservations.find((observation) => !observation.ok)?.note ??
      '';
    return {
      status: 'fail',
      summary: `${problems} problem${problems === 1 ? '' : 's'} in tracked files${accepted > 0 ? ` (${accepted} baselined)` : ''}${notSeen ? `, and ${notSeen}` : ''}, first: ${first}`,
      observations,
    };
  }
  if (notSeen !== '') {
    const parts: string[] = [];
    if (absent.length > 0) {
      const named = absent.slice(0, 3).map((file) => `${file.path} (${file.blob})`);
      parts.push(
        `${notRead}, absent from this partial clone's object store: ${named.join(', ')}${absent.length > 3 ? ` and ${absent.length - 3} more` : ''}; ` +
          'fetch them (git sparse-checkout disable, git fetch --refetch, or clone without --filter)',
      );
    }
    if (openUnjudged > 0) {
      const named = findingObservations.filter((observation) => !observation.ok).slice(0, 3);
      parts.push(`${notJudged} (${named.map((observation) => observation.note).join('; ')})`);
    }
    return error(`cannot judge every tracked file: ${parts.join('; and ')}`);
  }
  return {
    status: 'pass',
    summary: `no secrets in ${counts.scanned} tracked files; ${params.must_ignore.join(', ')} ignored${accepted > 0 ? ` (${accepted} baselined)` : ''}`,
    observations,
  };
}

/**
 * Reads and scans one tracked file: whole when it is small, as a stream in
 * bounded memory when it is larger than `maxBytes`. Undefined for what is not
 * a regular file (a symlink's or submodule's target is scanned where it
 * lives); `absent` when the work tree does not hold it (then the index is read).
 */
async function scanTrackedFile(
  files: CheckFiles,
  absolute: string,
  file: string,
  { max_file_bytes: maxBytes, names }: Pick<CommittedSecretsParams, 'max_file_bytes' | 'names'>,
  signal: AbortSignal,
): Promise<(ScannedFile & { pointer?: LfsPointer }) | 'absent' | undefined> {
  let size: number;
  try {
    const stats = await files.lstat(absolute);
    if (stats.kind !== 'file') return undefined;
    size = stats.size;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return 'absent';
    throw error;
  }
  // A Git LFS pointer is read whole whatever maxBytes is: streamed, it would not be recognised.
  if (size > maxBytes && size > LFS_POINTER_MAX_BYTES) {
    const scanner = new ContentScanner(file, secretRules, names);
    let bytes = 0;
    for await (const chunk of files.readChunks(absolute, { chunkBytes: 1024 * 1024, signal })) {
      if (!(chunk instanceof Uint8Array)) throw new Error(`${file}: the stream did not yield bytes`);
      bytes += chunk.length;
      scanner.push(chunk);
    }
    return { scan: scanner.end(), bytes };
  }
  const content = await files.readFile(absolute, { signal });
  // An unsmudged pointer (a smudged file is the content itself, scanned below like any other).
  const pointer = parseLfsPointer(content);
  if (pointer) return { scan: { kind: 'text', matches: [] }, bytes: content.length, pointer };
  const scan = scanContent(content, file, secretRules, names);
  const text = scan.assignments === undefined ? decodedText(content, scan.kind) : undefined;
  return { scan, bytes: content.length, ...(text === undefined ? {} : { text }) };
}

/**
 * A Git LFS pointer's content, from the repository's LFS store, scanned in
 * its place; when it is not there (or not as committed), the pointer is
 * unjudged, and counts its own bytes (its blob id is what a baseline names).
 */
async function scanPointedContent(
  files: CheckFiles,
  commonDir: string,
  { pointer, bytes }: { pointer: LfsPointer; bytes: number },
  file: string,
  { max_file_bytes: maxBytes, names }: Pick<CommittedSecretsParams, 'max_file_bytes' | 'names'>,
  signal: AbortSignal,
): Promise<ScannedFile> {
  const object = await scanLfsObject(files, commonDir, pointer, file, { maxBytes, names, signal });
  const lfs = { oid: pointer.oid, size: pointer.size, object: object.state };
  if (object.state !== 'scanned') return { scan: object.scan, bytes, lfs };
  const text =
    object.content === undefined || object.scan.assignments !== undefined
      ? undefined
      : decodedText(object.content, object.scan.kind);
  return { scan: object.scan, bytes: object.bytes, lfs, ...(text === undefined ? {} : { text }) };
}

/**
 * One named assignment judged: a placeholder, a value without credentials or
 * a known default in an example file is fine (an observation with ok: true);
 * any other value is a finding.
 */
function judgeAssignment(assignment: TrackedFileSeen['assignments'][number], file: string): Observation {
  const verdict = judgeNamedValue(assignment.form, assignment.value, file);
  // In binary content a byte offset says where, as for the rules' findings there; its lines mean nothing.
  const binary = assignment.offset !== undefined;
  const where = binary ? `${file} (byte ${assignment.offset})` : `${file}:${assignment.line}`;
  const location = binary ? { path: file } : { path: file, line: assignment.line, column: assignment.column };
  const actual = {
    name: assignment.name,
    form: assignment.form,
    ...assignment.fingerprint,
    ...(binary ? { byte_offset: assignment.offset } : {}),
  };
  const base = { probe: binary ? file : where, expected: 'placeholder or environment reference', location };
  if (verdict.why === 'placeholder') {
    return {
      ...base,
      actual: { ...actual, placeholder: true },
      ok: true,
      note: `${assignment.name} has a placeholder value in ${file}`,
    };
  }
  if (verdict.why === 'credential-free') {
    return {
      ...base,
      actual: { ...actual, credentials: false },
      ok: true,
      note: `${assignment.name} in ${where} holds no credentials (no URL with a password or token)`,
    };
  }
  const knownDefault = verdict.why === 'known-default';
  const why = knownDefault
    ? `${assignment.name} is given a known default secret in ${where}`
    : verdict.why === 'example-value'
      ? `${assignment.name} has a real value, not a placeholder, in example file ${where}`
      : `${assignment.name} has a value in ${where}; only .env.example with placeholders may name it`;
  return {
    ...base,
    actual: { ...actual, placeholder: false, known_default: knownDefault },
    ok: false,
    note: why,
  };
}

/**
 * One finding per secret and place: a value both a named assignment and a
 * rule report (a named secret given a template default) is one problem, kept as the first
 * report of it (the named one, which says which variable).
 */
function withoutDuplicates(findings: readonly FileFinding[]): FileFinding[] {
  const seen = new Set<string>();
  return findings.filter((finding) => {
    const line = finding.observation.location?.line;
    if (line === undefined) return true;
    const key = `${finding.fingerprint}:${finding.path}:${line}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
