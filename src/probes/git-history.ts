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
 *
 * The two run at the same time: the walk hands each new blob id to the reader
 * as soon as it meets it, so git inflates blobs while the walk goes on.
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

export interface WalkOptions {
  signal?: AbortSignal;
  /**
   * Called once per unique blob, as soon as the walk meets it, so that its
   * content can be read while the walk goes on (the history check feeds these
   * straight into `readBlobs`).
   */
  onNewBlob?: (sha: string, introduction: BlobIntroduction) => void;
}

export async function walkHistory(repoDir: string, options: WalkOptions = {}): Promise<HistoryWalk> {
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
      if (!blobs.has(change.blob)) {
        const introduction = { commit, path: token };
        blobs.set(change.blob, introduction);
        options.onNewBlob?.(change.blob, introduction);
      }
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

/** Resolves when a full pipe drains, or when it closes and never will. */
function drainedOrClosed(stream: NodeJS.WritableStream & { off: NodeJS.EventEmitter['off'] }): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
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
 * arriving; nothing but the current blob is held. `shas` may be an async
 * iterable that is still growing (a history walk in progress): ids are sent
 * to git as they come, and if it fails, git is stopped and the error thrown.
 */
export async function readBlobs(
  repoDir: string,
  shas: Iterable<string> | AsyncIterable<string>,
  options: ReadBlobsOptions,
  onBlob: (blob: BlobRead) => void,
): Promise<{ blobs: number; bytes: number }> {
  const subprocess = execa('git', ['cat-file', '--batch', '--buffer'], {
    cwd: repoDir,
    env: gitEnvironment,
    stdin: 'pipe',
    buffer: { stdout: false, stderr: true },
    ...(options.signal ? { cancelSignal: options.signal } : {}),
  });
  const writer = (async () => {
    const { stdin } = subprocess;
    // Ids that arrive together (a walk yields hundreds per chunk of its output) go to git in one
    // write: corked until the current burst is over, instead of one system call per id.
    let corked = false;
    for await (const sha of shas) {
      // git gone (killed, crashed): stop feeding it; the read loop and `await subprocess` report why.
      if (stdin.destroyed) return;
      if (!corked) {
        corked = true;
        stdin.cork();
        setImmediate(() => {
          corked = false;
          stdin.uncork();
        });
      }
      if (!stdin.write(`${sha}\n`)) await drainedOrClosed(stdin);
    }
    stdin.end();
  })();
  // The ids' source failed: stop git, so that the read loop below ends and the failure surfaces.
  writer.catch(() => subprocess.kill());

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
        const scannable = type === 'blob' && size <= options.maxBlobBytes;
        // The whole blob (and its LF) already in this chunk: hand out a view of it, no copy.
        if (scannable && chunk.length - offset > size) {
          blobs++;
          bytes += size;
          onBlob({ sha, kind: 'text-or-binary', size, content: chunk.subarray(offset, offset + size) });
          offset += size + 1;
          continue;
        }
        current = {
          sha,
          size,
          content: scannable ? Buffer.allocUnsafe(size) : undefined,
          filled: 0,
        };
        remaining = size + 1;
      }
    }
  } catch (error) {
    // The consumer gave up (or the stream broke): stop git rather than leave it writing into a full pipe.
    subprocess.kill();
    await subprocess.catch(() => {});
    await writer.catch(() => {});
    throw error;
  }
  try {
    await writer;
  } catch (error) {
    // The ids' source failed and git was stopped for it: that failure, not git's SIGTERM, is the news.
    await subprocess.catch(() => {});
    throw error;
  }
  await subprocess;
  return { blobs, bytes };
}
