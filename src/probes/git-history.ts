/**
 * Streams a repository's whole history with two long-lived git processes:
 *
 *  1. `git log --all --topo-order --reverse --raw -z` walks every commit
 *     reachable from any ref (branches, tags, remote-tracking refs, stash),
 *     parents before children, and records for each blob the first commit and
 *     path that introduced it. One pass, no per-blob process.
 *  2. `git cat-file --batch` reads each unique blob once; the caller sees one
 *     blob at a time, and blobs above the size limit are drained without being
 *     held, so memory stays bounded by the largest scanned blob.
 */
import { execa } from 'execa';
import { gitEnvironment } from './git.js';

export interface BlobIntroduction {
  /** The first commit (parents before children) whose diff added this blob. */
  commit: string;
  /** The path the blob had in that commit. */
  path: string;
}

export interface PathIntroduction extends BlobIntroduction {
  blob: string;
}

export interface HistoryWalk {
  blobs: Map<string, BlobIntroduction>;
  /** Every path ever added or modified, with the first commit that did so. */
  paths: Map<string, PathIntroduction>;
  commits: number;
}

const ZERO_OBJECT = /^0+$/;
const GITLINK_MODE = '160000';

/** Splits a byte stream on NUL without holding more than one token in memory. */
async function* nulTokens(stream: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of stream) {
    let buffer = carry.length > 0 ? Buffer.concat([carry, chunk]) : Buffer.from(chunk);
    let start = 0;
    for (let end = buffer.indexOf(0, start); end !== -1; end = buffer.indexOf(0, start)) {
      yield buffer.toString('utf8', start, end);
      start = end + 1;
    }
    buffer = buffer.subarray(start);
    carry = Buffer.from(buffer);
  }
  if (carry.length > 0) yield carry.toString('utf8');
}

export async function walkHistory(repoDir: string, options: { signal?: AbortSignal } = {}): Promise<HistoryWalk> {
  const subprocess = execa(
    'git',
    [
      'log',
      '--all',
      '--topo-order',
      '--reverse',
      '--raw',
      '--no-abbrev',
      '--no-renames',
      // A merge's own changes (conflict resolutions, evil merges) count against its first parent.
      '--diff-merges=first-parent',
      '-z',
      '--format=commit %H',
    ],
    {
      cwd: repoDir,
      env: gitEnvironment,
      buffer: { stdout: false, stderr: true },
      ...(options.signal ? { cancelSignal: options.signal } : {}),
    },
  );
  const blobs = new Map<string, BlobIntroduction>();
  const paths = new Map<string, PathIntroduction>();
  let commits = 0;
  let commit = '';
  // After a raw change line, the next token is its path: record it (blob) or skip it (deletion, submodule).
  let expectingPath: { blob: string } | 'skip' | undefined;
  for await (const rawToken of nulTokens(subprocess.stdout)) {
    const token = rawToken.startsWith('\n') ? rawToken.slice(1) : rawToken;
    if (expectingPath !== undefined) {
      const change = expectingPath;
      expectingPath = undefined;
      if (change === 'skip') continue;
      if (!blobs.has(change.blob)) blobs.set(change.blob, { commit, path: token });
      if (!paths.has(token)) paths.set(token, { commit, path: token, blob: change.blob });
      continue;
    }
    if (token.startsWith('commit ')) {
      commit = token.slice('commit '.length).trim();
      commits++;
    } else if (token.startsWith(':')) {
      // ":<old mode> <new mode> <old sha> <new sha> <status>"
      const [, newMode = '', , newBlob = '', status = ''] = token.slice(1).split(' ');
      const recordable = !status.startsWith('D') && newMode !== GITLINK_MODE && !ZERO_OBJECT.test(newBlob);
      expectingPath = recordable ? { blob: newBlob } : 'skip';
    }
  }
  await subprocess;
  return { blobs, paths, commits };
}

export type BlobRead =
  | { sha: string; kind: 'text-or-binary'; size: number; content: Buffer }
  | { sha: string; kind: 'too-large'; size: number }
  | { sha: string; kind: 'missing'; size: 0 };

export interface ReadBlobsOptions {
  /** Blobs larger than this are drained unread and reported as `too-large`. */
  maxBlobBytes: number;
  signal?: AbortSignal;
}

/**
 * Reads blobs through one `git cat-file --batch` process. `onBlob` runs
 * synchronously for each blob in input order, while the next bytes are still
 * arriving; nothing but the current blob is held.
 */
export async function readBlobs(
  repoDir: string,
  shas: Iterable<string>,
  options: ReadBlobsOptions,
  onBlob: (blob: BlobRead) => void,
): Promise<{ blobs: number; bytes: number }> {
  const subprocess = execa('git', ['cat-file', '--batch'], {
    cwd: repoDir,
    env: gitEnvironment,
    stdin: 'pipe',
    buffer: { stdout: false, stderr: true },
    ...(options.signal ? { cancelSignal: options.signal } : {}),
  });
  const writer = (async () => {
    const { stdin } = subprocess;
    for (const sha of shas) {
      if (
        !stdin.write(`${sha}
`)
      )
        await new Promise<void>((resolve) => stdin.once('drain', resolve));
    }
    stdin.end();
  })();

  let blobs = 0;
  let bytes = 0;
  let header = Buffer.alloc(0);
  // The blob being received: its metadata, the bytes still expected (content + trailing LF).
  let current: { sha: string; size: number; content: Buffer | undefined; filled: number } | undefined;
  let remaining = 0;

  const finishBlob = (): void => {
    if (!current) return;
    blobs++;
    bytes += current.size;
    if (current.content)
      onBlob({ sha: current.sha, kind: 'text-or-binary', size: current.size, content: current.content });
    else onBlob({ sha: current.sha, kind: 'too-large', size: current.size });
    current = undefined;
  };

  try {
    for await (const chunk of subprocess.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        if (current) {
          const take = Math.min(remaining, chunk.length - offset);
          const contentBytes = Math.min(take, current.size - current.filled);
          if (current.content && contentBytes > 0)
            chunk.copy(current.content, current.filled, offset, offset + contentBytes);
          current.filled += contentBytes;
          remaining -= take;
          offset += take;
          if (remaining === 0) finishBlob();
          continue;
        }
        const newline = chunk.indexOf(10, offset);
        if (newline === -1) {
          header = Buffer.concat([header, chunk.subarray(offset)]);
          break;
        }
        const line = Buffer.concat([header, chunk.subarray(offset, newline)]).toString('utf8');
        header = Buffer.alloc(0);
        offset = newline + 1;
        const [sha = '', type = '', sizeText = ''] = line.split(' ');
        if (type === 'missing' || sizeText === '') {
          onBlob({ sha, kind: 'missing', size: 0 });
          continue;
        }
        const size = Number(sizeText);
        current = {
          sha,
          size,
          content: type === 'blob' && size <= options.maxBlobBytes ? Buffer.allocUnsafe(size) : undefined,
          filled: 0,
        };
        remaining = size + 1;
      }
    }
  } catch (error) {
    // The consumer gave up (or the stream broke): stop git rather than leave it writing into a full pipe.
    subprocess.kill();
    await subprocess.catch(() => {});
    throw error;
  }
  await writer;
  await subprocess;
  return { blobs, bytes };
}
