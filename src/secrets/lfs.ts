/**
 * Git LFS pointers. A file tracked by Git LFS is committed as a pointer, a
 * few lines naming the content's SHA-256 and size; the content itself lives
 * outside git, on the LFS server and, once fetched, in the clone's local LFS
 * store (`<git common dir>/lfs/objects/aa/bb/<oid>`). A scan of the pointer
 * sees nothing of the content, so a key tracked by LFS would pass as clean:
 * a pointer is recognised, and its content is scanned from the local store
 * when it is there and verified, or named as not judged when it is not.
 *
 * Both repository checks use this: repo.committed-secrets through its
 * `ctx.files`, the history scan through the same file capability.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { CheckFiles } from '../engine/types.js';
import { type ContentScan, ContentScanner, scanContent } from './content.js';
import { secretRules } from './rules.js';

/** git-lfs only looks for pointers among blobs this small (its `blobSizeCutoff`). */
export const LFS_POINTER_MAX_BYTES = 1024;

export interface LfsPointer {
  /** SHA-256 of the content, lower-case hex. */
  oid: string;
  /** The content's size in bytes. */
  size: number;
  /** LFS extensions the content passes through (`ext-0-foo`): the store then holds it transformed. */
  extensions: string[];
}

/**
 * The version URLs git-lfs smudges: the spec's, and the two it still reads from before its launch.
 * Compared as plain strings, as the spec requires.
 */
const VERSIONS = new Set([
  'https://git-lfs.github.com/spec/v1',
  'https://hawser.github.com/spec/v1',
  'http://git-media.io/v/2',
]);
const OID = /^sha256:([0-9a-f]{64})$/;
const SIZE = /^\d{1,15}$/;
const EXTENSION = /^ext-\d-\w+$/;

/**
 * The pointer `content` is, or undefined. As git-lfs reads one: at most
 * 1 KiB; `version <url>` first, then any `ext-N-name sha256:<hex>` lines,
 * `oid sha256:<64 hex>` and `size <digits>`, and nothing else (surrounding
 * whitespace, CR before LF and blank lines aside, which git-lfs skips too).
 * Prose that quotes a pointer has other lines, so it is not one.
 */
export function parseLfsPointer(content: Uint8Array): LfsPointer | undefined {
  if (content.length > LFS_POINTER_MAX_BYTES || content.length === 0) return undefined;
  const lines = Buffer.from(content.buffer, content.byteOffset, content.byteLength)
    .toString('latin1')
    .trim()
    .split('\n')
    .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
    .filter((line) => line.length > 0);
  const pairs = lines.map((line) => {
    const space = line.indexOf(' ');
    return space === -1 ? undefined : { key: line.slice(0, space), value: line.slice(space + 1) };
  });
  const [version, ...rest] = pairs;
  if (version?.key !== 'version' || !VERSIONS.has(version.value)) return undefined;
  const extensions: string[] = [];
  while (rest[0] && EXTENSION.test(rest[0].key) && OID.test(rest[0].value)) {
    extensions.push(rest[0].key);
    rest.shift();
  }
  const [oid, size, ...extra] = rest;
  const hex = oid?.key === 'oid' ? OID.exec(oid.value)?.[1] : undefined;
  if (hex === undefined || size?.key !== 'size' || !SIZE.test(size.value) || extra.length > 0) return undefined;
  return { oid: hex, size: Number(size.value), extensions };
}

/** Where git-lfs keeps a fetched object, under the repository's common git directory. */
export function lfsObjectPath(commonDir: string, oid: string): string {
  return path.join(commonDir, 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4), oid);
}

/** What came of looking for a pointer's content in the local LFS store. */
export type LfsObjectState = 'scanned' | 'absent' | 'mismatch' | 'extensions';

export interface LfsObjectScan {
  state: LfsObjectState;
  /** The content's findings under the pointer's path; `unjudged` unless it was scanned. */
  scan: ContentScan;
  /** Bytes of the object read and scanned (0 when it was not). */
  bytes: number;
  /** The whole content, when it was read whole (at most `maxBytes`): for what looks at text. */
  content?: Buffer;
}

/** Why a pointer's content was not judged: the sentence after "<path> is". */
export function lfsUnjudged(pointer: LfsPointer, state: Exclude<LfsObjectState, 'scanned'>): string {
  const content = `the content (${pointer.size} bytes)`;
  switch (state) {
    case 'absent':
      return `a Git LFS pointer: ${content} is stored outside git and is not in this clone's LFS store; run \`git lfs fetch --all\` or baseline it`;
    case 'mismatch':
      return `a Git LFS pointer whose object in this clone's LFS store does not match its oid and size: ${content} was not seen; run \`git lfs fetch --all\` (\`git lfs fsck\` names corrupt objects) or baseline it`;
    case 'extensions':
      return `a Git LFS pointer whose content passes through LFS extensions (${pointer.extensions.join(', ')}): the store holds ${content} transformed; review it and baseline it`;
  }
}

/**
 * Scans a pointer's content from the LFS store under `commonDir`, with the
 * same rules as any file, reported under `file` (the pointer's path). Read
 * whole up to `maxBytes`, streamed beyond. Its SHA-256 and size must be the
 * pointer's before its findings (or their absence) count: a store's copy that
 * differs is not the committed content. Only a missing object is "absent";
 * any other failure to read it throws, for the caller to report.
 */
export async function scanLfsObject(
  files: Pick<CheckFiles, 'stat' | 'readFile' | 'readChunks'>,
  commonDir: string,
  pointer: LfsPointer,
  file: string | undefined,
  options: { maxBytes: number; names?: readonly string[]; signal?: AbortSignal },
): Promise<LfsObjectScan> {
  const names = options.names ?? [];
  const notJudged = (state: Exclude<LfsObjectState, 'scanned'>): LfsObjectScan => ({
    state,
    scan: { kind: 'binary', matches: [], unjudged: lfsUnjudged(pointer, state) },
    bytes: 0,
  });
  if (pointer.extensions.length > 0) return notJudged('extensions');
  const object = lfsObjectPath(commonDir, pointer.oid);
  let size: number;
  try {
    const stats = await files.stat(object);
    if (stats.kind !== 'file') return notJudged('absent');
    size = stats.size;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return notJudged('absent');
    throw error;
  }
  // A size that differs already says it is not the content: not read at all.
  if (size !== pointer.size) return notJudged('mismatch');
  const hash = createHash('sha256');
  if (size <= options.maxBytes) {
    const content = await files.readFile(object, options.signal ? { signal: options.signal } : {});
    hash.update(content);
    if (content.length !== pointer.size || hash.digest('hex') !== pointer.oid) return notJudged('mismatch');
    return { state: 'scanned', scan: scanContent(content, file, secretRules, names), bytes: content.length, content };
  }
  const scanner = new ContentScanner(file, secretRules, names);
  let bytes = 0;
  for await (const chunk of files.readChunks(object, {
    chunkBytes: 1024 * 1024,
    ...(options.signal ? { signal: options.signal } : {}),
  })) {
    bytes += chunk.length;
    hash.update(chunk);
    scanner.push(chunk);
  }
  const scan = scanner.end();
  if (bytes !== pointer.size || hash.digest('hex') !== pointer.oid) return notJudged('mismatch');
  return { state: 'scanned', scan, bytes };
}
