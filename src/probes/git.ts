/**
 * Git probe: read-only access to a repository through the git CLI. Small
 * answers (tracked files, refs, ignore rules) are read whole; the history is
 * streamed (see git-history.ts). Probes know nothing of checks.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { GitOptions, IndexEntry } from '../engine/observations.js';

// The contract owns these types (src/engine/observations.ts); re-exported for this module's importers.
export type { GitOptions } from '../engine/observations.js';

/** Environment for every git call: no pager, no prompts, no user or system config surprises. */
export const gitEnvironment: Readonly<Record<string, string>> = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_PAGER: 'cat',
  GIT_CONFIG_NOSYSTEM: '1',
  // `git replace` must not hide a commit: the original is what every clone receives (refs/replace/* are
  // not fetched by default), so the history is read as stored, and the replacements too, through --all.
  GIT_NO_REPLACE_OBJECTS: '1',
  // A partial clone must never fetch what it lacks: the gate reads the repository as it is, offline (git 2.44+;
  // older versions get `offline` below).
  GIT_NO_LAZY_FETCH: '1',
  LC_ALL: 'C',
};

/**
 * Options for every git call that reads objects: no transport is allowed, so a partial clone's lazy fetch
 * fails instead of reaching the network (git before 2.44 ignores GIT_NO_LAZY_FETCH). Given as `-c`, which
 * git passes on to the fetch it would start, rather than as GIT_CONFIG_* variables, which would replace
 * any the user set (a CI's safe.directory).
 */
export const offline: readonly string[] = ['-c', 'protocol.allow=never'];

export async function runGit(repoDir: string, args: string[], options: GitOptions = {}): Promise<string> {
  const result = await execa('git', [...offline, ...args], {
    cwd: repoDir,
    env: gitEnvironment,
    stripFinalNewline: false,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
  });
  return result.stdout;
}

/** The blob id git would store for each work-tree file (relative to `repoDir`), in order: `git hash-object`. */
export async function blobIdsOf(
  repoDir: string,
  files: readonly string[],
  options: GitOptions = {},
): Promise<string[]> {
  if (files.length === 0) return [];
  const ids = (await runGit(repoDir, ['hash-object', '--', ...files], options)).split('\n').filter(Boolean);
  if (ids.length !== files.length)
    throw new Error(`git hash-object answered ${ids.length} ids for ${files.length} files`);
  return ids;
}

/** The top level of the repository holding `dir` (which may be any folder inside it). */
export async function repositoryTopLevel(dir: string, options: GitOptions = {}): Promise<string> {
  const topLevel = (await runGit(dir, ['rev-parse', '--show-toplevel'], options)).trim();
  if (topLevel === '') throw new Error(`${dir} has no work tree (a bare repository?)`);
  return topLevel;
}

/**
 * The repository's common git directory, absolute: where the object store and the Git LFS store live,
 * shared by every worktree of the repository.
 */
export async function gitCommonDir(dir: string, options: GitOptions = {}): Promise<string> {
  const commonDir = (await runGit(dir, ['rev-parse', '--git-common-dir'], options)).trim();
  if (commonDir === '') throw new Error(`git rev-parse --git-common-dir answered nothing in ${dir}`);
  // Relative to the directory git ran in, when it is relative.
  return path.resolve(dir, commonDir);
}

/**
 * Paths of every file git tracks in the index, relative to the top level and
 * exactly as stored (NUL-separated, no quoting), wherever in the work tree
 * `repoDir` is.
 */
export async function listTrackedFiles(repoDir: string, options: GitOptions = {}): Promise<string[]> {
  const output = await runGit(repoDir, ['ls-files', '-z', '--cached', '--full-name', '--', ':/'], options);
  return output.split('\0').filter((entry) => entry.length > 0);
}

/** `<tag> <mode> <object> <stage>\t<path>`, as `git ls-files -s -v` writes each entry. */
const INDEX_ENTRY = /^(\S) (\d{6}) ([0-9a-f]{40}|[0-9a-f]{64}) ([0-3])\t(.+)$/s;

/** Every index entry, relative to the top level wherever in the work tree `repoDir` is (NUL-separated, unquoted). */
export async function indexEntries(repoDir: string, options: GitOptions = {}): Promise<IndexEntry[]> {
  const output = await runGit(repoDir, ['ls-files', '-z', '--stage', '-v', '--full-name', '--', ':/'], options);
  return output
    .split('\0')
    .filter((line) => line.length > 0)
    .map((line) => {
      const match = INDEX_ENTRY.exec(line);
      // An entry this does not understand must not be dropped: the file would go unread.
      if (!match)
        throw new Error(
          `git ls-files --stage -v answered an entry it cannot parse: ${JSON.stringify(line.slice(0, 120))}`,
        );
      const [, tag = '', mode = '', object = '', stage = '0', path = ''] = match;
      return { tag, mode, object, stage: Number(stage), path };
    });
}

export async function headCommit(repoDir: string, options: GitOptions = {}): Promise<string | undefined> {
  try {
    return (await runGit(repoDir, ['rev-parse', '--verify', '--quiet', 'HEAD'], options)).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the repository's own `.gitignore` files exclude the path. Rules
 * that live on one machine only (`.git/info/exclude`, the user's
 * `core.excludesFile`) do not count: every other clone would still commit
 * the file.
 */
export async function isIgnored(repoDir: string, relativePath: string, options: GitOptions = {}): Promise<boolean> {
  const result = await execa(
    'git',
    ['-c', 'core.excludesFile=/dev/null', 'check-ignore', '--verbose', '--', relativePath],
    {
      cwd: repoDir,
      env: gitEnvironment,
      reject: false,
      ...(options.signal ? { cancelSignal: options.signal } : {}),
    },
  );
  if (result.exitCode === 1) return false;
  if (result.exitCode !== 0)
    throw new Error(`git check-ignore ${relativePath} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
  // "<source>:<line>:<pattern>\t<path>": the rule that decided, and the file it came from.
  const source = /^(.*):\d+:[^\t]*\t/.exec(result.stdout)?.[1] ?? '';
  return source === '.gitignore' || source.endsWith('/.gitignore');
}

export interface GitRef {
  name: string;
  /** The object the ref names (for an annotated tag: the tag object). */
  commit: string;
  /** That object's type: `commit`, `tag`, or — rarely, and out of any commit walk — `tree` or `blob`. */
  type: string;
  /** For a tag: the object it names and that object's type (another tag, for a tag of a tag). */
  tagged?: { object: string; type: string };
}

export async function listRefs(repoDir: string, options: GitOptions = {}): Promise<GitRef[]> {
  const output = await runGit(
    repoDir,
    ['for-each-ref', '--format=%(refname)%00%(objectname)%00%(objecttype)%00%(*objectname)%00%(*objecttype)'],
    options,
  );
  return output
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [name = '', commit = '', type = '', taggedObject = '', taggedType = ''] = line.split('\0');
      return { name, commit, type, ...(type === 'tag' ? { tagged: { object: taggedObject, type: taggedType } } : {}) };
    });
}

/** A blob that a ref reaches without any commit: a tag on a blob, or a file of a tagged tree. */
export interface RefOnlyBlob {
  blob: string;
  ref: string;
  /** Its path inside the tagged tree; empty for a tagged blob. */
  path: string;
}

/**
 * The blobs that refs reach without a commit, which no commit walk sees:
 * refs (tags, mostly) naming a blob or a tree, directly or through tags.
 */
export async function blobsBehindRefs(
  repoDir: string,
  refs: readonly GitRef[],
  options: GitOptions = {},
): Promise<RefOnlyBlob[]> {
  const found: RefOnlyBlob[] = [];
  for (const ref of refs) {
    // The usual refs, branches and tags on commits, cost nothing here (for-each-ref peeled them already).
    let target = ref.tagged?.object ?? ref.commit;
    let type = ref.tagged?.type ?? ref.type;
    if (type === 'commit') continue;
    if (type === 'tag') {
      // A tag of a tag: peel every level, `<object>^{}` is what the chain finally names.
      target = (await runGit(repoDir, ['rev-parse', '--verify', `${ref.commit}^{}`], options)).trim();
      type = (await runGit(repoDir, ['cat-file', '-t', target], options)).trim();
    }
    if (type === 'blob') found.push({ blob: target, ref: ref.name, path: '' });
    else if (type === 'tree') {
      const listing = await runGit(repoDir, ['ls-tree', '-r', '-z', '--full-tree', target], options);
      for (const entry of listing.split('\0')) {
        // "<mode> blob <id>\t<path>"; submodule commits (mode 160000) are not this repository's content.
        const match = /^\d+ blob ([0-9a-f]+)\t(.*)$/s.exec(entry);
        if (match) found.push({ blob: match[1] ?? '', ref: ref.name, path: match[2] ?? '' });
      }
    }
  }
  return found;
}

/**
 * The commits of every stash entry, newest first (`stash@{0}` … `stash@{n}`). Only `stash@{0}` is a ref:
 * the older entries live in the refs/stash reflog alone, which `git log --all` never reads. Empty when
 * there is no stash.
 */
export async function stashEntries(repoDir: string, options: GitOptions = {}): Promise<string[]> {
  // --ignore-missing: no stash at all is an empty answer, not an error.
  const output = await runGit(repoDir, ['rev-list', '--walk-reflogs', '--ignore-missing', 'refs/stash'], options);
  return output.split('\n').filter((line) => line.length > 0);
}

/** The message of an annotated tag object, and a ref that reaches it. */
export interface TagMessage {
  /** The tag object's id. */
  object: string;
  ref: string;
  message: string;
}

/**
 * The messages of every annotated tag a ref reaches, tags of tags included (the inner tag need not have
 * a ref of its own). One `git cat-file --batch` per level of nesting: usually one in all.
 */
export async function tagMessages(
  repoDir: string,
  refs: readonly GitRef[],
  options: GitOptions = {},
): Promise<TagMessage[]> {
  const messages: TagMessage[] = [];
  const seen = new Set<string>();
  let level = new Map<string, string>();
  for (const ref of refs) if (ref.type === 'tag' && !level.has(ref.commit)) level.set(ref.commit, ref.name);
  while (level.size > 0) {
    for (const object of level.keys()) seen.add(object);
    const next = new Map<string, string>();
    for (const tag of await readTagObjects(repoDir, [...level.keys()], options)) {
      const ref = level.get(tag.object) ?? '';
      messages.push({ object: tag.object, ref, message: tag.message });
      if (tag.type === 'tag' && !seen.has(tag.target)) next.set(tag.target, ref);
    }
    level = next;
  }
  return messages;
}

/** Reads tag objects whole through `git cat-file --batch` (they are small) and splits their headers from the message. */
async function readTagObjects(
  repoDir: string,
  ids: readonly string[],
  options: GitOptions,
): Promise<{ object: string; target: string; type: string; message: string }[]> {
  let result: { stdout: Uint8Array };
  try {
    result = await execa('git', [...offline, 'cat-file', '--batch'], {
      cwd: repoDir,
      env: gitEnvironment,
      input: `${ids.join('\n')}\n`,
      encoding: 'buffer',
      stripFinalNewline: false,
      ...(options.signal ? { cancelSignal: options.signal } : {}),
    });
  } catch (error) {
    // execa's message carries the output read so far: tag messages, which may hold the very secret the scan
    // looks for. The short message names the command and why it ended, nothing it printed.
    const short = (error as { shortMessage?: unknown }).shortMessage;
    throw new Error(`could not read the tag objects: ${typeof short === 'string' ? short : 'git cat-file failed'}`);
  }
  const output = Buffer.from(result.stdout);
  const tags: { object: string; target: string; type: string; message: string }[] = [];
  let at = 0;
  for (const id of ids) {
    const newline = output.indexOf(10, at);
    const header = newline === -1 ? '' : output.toString('latin1', at, newline);
    const match = /^([0-9a-f]{40,64}) tag (\d{1,15})$/.exec(header);
    // Anything but the tag asked for (missing, another type, output cut short): a message was not read.
    if (!match || match[1] !== id) {
      // Out of step, this "header" may be a line of a tag's message: quoted only when it has a header's shape.
      const quoted = /^[0-9a-f]{40,64} [a-z]+( \d+)?$/.test(header)
        ? JSON.stringify(header)
        : `a ${header.length}-byte line`;
      throw new Error(`git cat-file answered ${quoted} for tag ${id}`);
    }
    const start = newline + 1;
    const end = start + Number(match[2]);
    if (output[end] !== 10) throw new Error(`git cat-file output for tag ${id} does not end where its size says`);
    const content = output.toString('utf8', start, end);
    at = end + 1;
    // Headers (`object`, `type`, `tag`, `tagger`), a blank line, then the message (and any signature).
    const blank = content.indexOf('\n\n');
    const headers = blank === -1 ? content : content.slice(0, blank);
    tags.push({
      object: id,
      target: /^object (\S+)$/m.exec(headers)?.[1] ?? '',
      type: /^type (\S+)$/m.exec(headers)?.[1] ?? '',
      message: blank === -1 ? '' : content.slice(blank + 2),
    });
  }
  return tags;
}

/**
 * What keeps part of the history out of reach of any walk: a shallow clone
 * (commits before its boundary were never fetched) or a grafts file (it
 * rewrites parents, hiding the commits behind them).
 */
export async function historyCutoffs(repoDir: string, options: GitOptions = {}): Promise<string[]> {
  const cutoffs: string[] = [];
  // One git call, two answers, one per line.
  const [shallow = '', graftsPath = ''] = (
    await runGit(repoDir, ['rev-parse', '--is-shallow-repository', '--git-path', 'info/grafts'], options)
  )
    .trim()
    .split('\n');
  if (shallow === 'true') cutoffs.push('a shallow clone: the commits before its boundary were never fetched');
  else if (shallow !== 'false')
    throw new Error(`git rev-parse --is-shallow-repository answered ${JSON.stringify(shallow)}`);
  const grafts = await readFile(path.resolve(repoDir, graftsPath), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  if (grafts.trim().length > 0)
    cutoffs.push(`a grafts file (${graftsPath}): it rewrites parents and hides the commits behind them`);
  return cutoffs;
}

/**
 * Whether the repository is a partial clone (`git clone --filter=…`): objects
 * it lacks belong to a promisor remote, and reading one would fetch it.
 */
export async function isPartialClone(repoDir: string, options: GitOptions = {}): Promise<boolean> {
  const result = await execa(
    'git',
    ['config', '--get-regexp', String.raw`^(extensions\.partialclone|remote\..*\.promisor)$`],
    {
      cwd: repoDir,
      env: gitEnvironment,
      reject: false,
      ...(options.signal ? { cancelSignal: options.signal } : {}),
    },
  );
  if (result.exitCode === 1) return false;
  if (result.exitCode !== 0) throw new Error(`git config failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
  return result.stdout
    .split('\n')
    .some((line) => /^extensions\.partialclone \S|^remote\..*\.promisor true$/i.test(line));
}

/** The id of every object the repository holds locally (for a partial clone: what is there to read). */
export async function localObjects(repoDir: string, options: GitOptions = {}): Promise<Set<string>> {
  const output = await runGit(
    repoDir,
    ['cat-file', '--batch-all-objects', '--batch-check=%(objectname)', '--unordered'],
    options,
  );
  return new Set(output.split('\n').filter((line) => line.length > 0));
}

/** Those of `objects` a partial clone does not hold, in order; none when the clone is not partial. */
export async function absentObjects(
  repoDir: string,
  objects: readonly string[],
  options: GitOptions = {},
): Promise<string[]> {
  if (objects.length === 0 || !(await isPartialClone(repoDir, options))) return [];
  const present = await localObjects(repoDir, options);
  return objects.filter((object) => !present.has(object));
}

/**
 * The blobs of HEAD's tree, each with its paths (relative to the top level);
 * empty when HEAD names no commit yet.
 */
export async function headBlobs(repoDir: string, options: GitOptions = {}): Promise<Map<string, string[]>> {
  const blobs = new Map<string, string[]>();
  if ((await headCommit(repoDir, options)) === undefined) return blobs;
  const listing = await runGit(repoDir, ['ls-tree', '-r', '-z', '--full-tree', 'HEAD'], options);
  for (const entry of listing.split('\0')) {
    const match = /^\d+ blob ([0-9a-f]+)\t(.*)$/s.exec(entry);
    if (!match) continue;
    const [, blob = '', filePath = ''] = match;
    const paths = blobs.get(blob);
    if (paths) paths.push(filePath);
    else blobs.set(blob, [filePath]);
  }
  return blobs;
}

/**
 * For each commit, a ref that reaches it, as a revision (`main~3`,
 * `tags/v1.0^2~1`), or undefined where no ref does. One `git name-rev` per
 * few hundred commits.
 */
export async function refsReaching(
  repoDir: string,
  commits: readonly string[],
  options: GitOptions = {},
): Promise<Map<string, string | undefined>> {
  const names = new Map<string, string | undefined>();
  const unique = [...new Set(commits)];
  for (let start = 0; start < unique.length; start += 500) {
    const batch = unique.slice(start, start + 500);
    const lines = (await runGit(repoDir, ['name-rev', '--name-only', ...batch], options)).split('\n');
    batch.forEach((commit, index) => {
      const name = lines[index]?.trim();
      names.set(commit, name === undefined || name === '' || name === 'undefined' ? undefined : name);
    });
  }
  return names;
}

/** Blobs no ref or reflog reaches (dropped stashes, amended commits, deleted branches). */
export async function listUnreachableBlobs(repoDir: string, options: GitOptions = {}): Promise<string[]> {
  const output = await runGit(repoDir, ['fsck', '--unreachable', '--no-reflogs', '--no-progress'], options);
  const blobs: string[] = [];
  for (const line of output.split('\n')) {
    const match = /^unreachable blob ([0-9a-f]{40,64})$/.exec(line.trim());
    if (match?.[1]) blobs.push(match[1]);
  }
  return blobs;
}
