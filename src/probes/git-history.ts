/**
 * Streams a repository's whole history with two long-lived git processes:
 *
 *  1. `git log --all --topo-order --reverse --raw -z` walks every commit
 *     reachable from any ref (branches, tags, remote-tracking refs, stash)
 *     and from any further starting point given (the older stash entries,
 *     which only a reflog holds), parents before children, and records for
 *     each blob the first commit and path that introduced it, and hands on
 *     each commit's message. One pass, no per-blob process.
 *  2. `git cat-file --batch` reads each unique blob once; the caller sees one
 *     blob at a time, and blobs above the size limit are never held: their
 *     content goes piece by piece to a sink the caller gives, so memory stays
 *     bounded by the size limit.
 *
 * The two run at the same time: the walk hands each new blob id to the reader
 * as soon as it meets it, so git inflates blobs while the walk goes on.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { BlobIntroduction, PathIntroduction } from '../engine/observations.js';
import { gitEnvironment, offline } from './git.js';

// The contract owns these types (src/engine/observations.ts); re-exported for this module's importers.
export type { BlobIntroduction, PathIntroduction } from '../engine/observations.js';

export interface HistoryWalk {
  blobs: Map<string, BlobIntroduction>;
  /** Every path ever added or modified, with the first commit that did so. */
  paths: Map<string, PathIntroduction>;
  commits: number;
}

const ZERO_OBJECT = /^0+$/;
const GITLINK_MODE = '160000';
/** The status letter of a deletion. */
const DELETED = 'D'.charCodeAt(0);

/**
 * Splits a byte stream on NUL, synchronously, without holding more than one
 * token: each chunk's tokens go to `onToken` before the next chunk is read.
 * (An async generator yielding each token cost more CPU than git's whole
 * walk: tens of thousands of promise round trips on the thread that also
 * reads the blobs.)
 */
export class NulSplitter {
  private carry: Buffer = Buffer.alloc(0);

  constructor(private readonly onToken: (token: string) => void) {}

  push(chunk: Uint8Array): void {
    // A view, not a copy: stream chunks are not reused, so the unfinished tail can stay a view too.
    const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    let end = buffer.indexOf(0);
    if (this.carry.length > 0) {
      if (end === -1) {
        this.carry = Buffer.concat([this.carry, buffer]);
        return;
      }
      this.onToken(Buffer.concat([this.carry, buffer.subarray(0, end)]).toString('utf8'));
      this.carry = Buffer.alloc(0);
      start = end + 1;
      end = buffer.indexOf(0, start);
    }
    for (; end !== -1; end = buffer.indexOf(0, start)) {
      this.onToken(buffer.toString('utf8', start, end));
      start = end + 1;
    }
    this.carry = buffer.subarray(start);
  }

  end(): void {
    if (this.carry.length > 0) this.onToken(this.carry.toString('utf8'));
    this.carry = Buffer.alloc(0);
  }
}

export interface WalkOptions {
  signal?: AbortSignal;
  /**
   * Called once per unique blob, as soon as the walk meets it, so that its
   * content can be read while the walk goes on (the history check feeds these
   * straight into `readBlobs`).
   */
  onNewBlob?: (sha: string, introduction: BlobIntroduction) => void;
  /**
   * Limits the walk to some paths (relative to the top level): changes
   * elsewhere are not recorded, so a blob counts from the first commit that
   * put it under one of them.
   */
  inScope?: (path: string) => boolean;
  /**
   * Commits to walk from besides every ref (`stash@{1}` … : the older stash entries live only in the
   * refs/stash reflog, which `--all` does not read), with everything they reach.
   */
  starts?: readonly string[];
  /** Called with each commit's message (whole, as `%B` gives it), in walk order. */
  onMessage?: (commit: string, message: string) => void;
}

export async function walkHistory(repoDir: string, options: WalkOptions = {}): Promise<HistoryWalk> {
  const starts = options.starts ?? [];
  const subprocess = execa(
    'git',
    [
      ...offline,
      // A user's config must not change what the walk sees: log.showRoot=false would hide every file of a
      // root commit (never scanned), log.showSignature would put GPG text among the tokens.
      '-c',
      'log.showRoot=true',
      '-c',
      'log.showSignature=false',
      // Messages are scanned as UTF-8 text, whatever encoding the user asked git to show them in.
      '-c',
      'i18n.logOutputEncoding=UTF-8',
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
      // The message is its own token, right after its commit's: git stops a message at a NUL byte (a commit
      // made with `hash-object --literally` can hold one), so it can never run into the tokens after it.
      '--format=commit %H%x00%B',
      ...(starts.length > 0 ? ['--stdin'] : []),
    ],
    {
      cwd: repoDir,
      env: gitEnvironment,
      // Given on stdin, not as arguments: a long-lived stash can have more entries than a command line holds.
      ...(starts.length > 0 ? { input: `${starts.join('\n')}\n` } : {}),
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
  // After a commit's token comes its message, whatever it says (it may look like a change line).
  let expectingMessage = false;
  const { inScope, onMessage } = options;
  const splitter = new NulSplitter((rawToken) => {
    if (expectingMessage) {
      expectingMessage = false;
      onMessage?.(commit, rawToken);
      return;
    }
    const token = rawToken.startsWith('\n') ? rawToken.slice(1) : rawToken;
    if (expectingPath !== undefined) {
      const change = expectingPath;
      expectingPath = undefined;
      if (change === 'skip') return;
      if (inScope && !inScope(token)) return;
      if (!blobs.has(change.blob)) {
        const introduction = { commit, path: token };
        blobs.set(change.blob, introduction);
        options.onNewBlob?.(change.blob, introduction);
      }
      if (!paths.has(token)) paths.set(token, { commit, path: token, blob: change.blob });
      return;
    }
    if (token.startsWith('commit ')) {
      commit = token.slice('commit '.length).trim();
      commits++;
      expectingMessage = true;
    } else if (token.startsWith(':')) {
      // ":<old mode> <new mode> <old sha> <new sha> <status>", read in place: one of these per change of
      // every commit, where splitting made five strings of each.
      const newModeAt = token.indexOf(' ') + 1;
      const newBlobAt = token.indexOf(' ', token.indexOf(' ', newModeAt) + 1) + 1;
      const statusAt = token.indexOf(' ', newBlobAt) + 1;
      if (newModeAt === 0 || newBlobAt === 0 || statusAt === 0)
        throw new Error('git log answered an unexpected change line');
      const newBlob = token.slice(newBlobAt, statusAt - 1);
      const recordable =
        token.charCodeAt(statusAt) !== DELETED &&
        !token.startsWith(`${GITLINK_MODE} `, newModeAt) &&
        !ZERO_OBJECT.test(newBlob);
      expectingPath = recordable ? { blob: newBlob } : 'skip';
    }
  });
  try {
    for await (const chunk of subprocess.stdout as AsyncIterable<Uint8Array>) splitter.push(chunk);
    splitter.end();
  } catch (error) {
    // A consumer's callback threw (or the stream broke): stop git and wait for it, so that its own
    // failure is not left unhandled, then report the first error.
    subprocess.kill();
    await subprocess.catch(() => {});
    throw error;
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

/** Receives a large blob's content piece by piece; each piece is only valid during the call. */
export type BlobSink = (piece: Buffer) => void;

export type BlobRead =
  | { sha: string; kind: 'text-or-binary'; size: number; content: Buffer }
  | { sha: string; kind: 'too-large'; size: number }
  | { sha: string; kind: 'missing'; size: 0 };

/**
 * Parses `git cat-file --batch` output, fed in chunks of any size: a header
 * line `<id> blob <size>` (or `<id> missing`), then the content and a LF.
 * Each blob goes to `onBlob` as soon as its last byte arrives; a blob above
 * `maxBlobBytes` goes to the sink `onLargeBlob` returns as it arrives. The content
 * is a view that is only valid during the call: a blob inside one chunk is
 * handed out where it lies, one spread over several chunks is assembled in
 * one reused buffer (at most twice the largest blob read, never more than
 * `maxBlobBytes`). Anything that is not that shape throws: a scan must never
 * go on from output it does not understand.
 */
export class CatFileParser {
  blobs = 0;
  bytes = 0;
  private header: Buffer = Buffer.alloc(0);
  /**
   * The blob being received; `filled` counts its content bytes so far (its LF comes after). A blob too
   * large to hold goes piece by piece to its `sink`, if the consumer gave one.
   */
  private current: { sha: string; size: number; scannable: boolean; filled: number; sink?: BlobSink } | undefined;
  private assembly: Buffer = Buffer.alloc(0);

  constructor(
    private readonly maxBlobBytes: number,
    private readonly onBlob: (blob: BlobRead) => void,
    private readonly onLargeBlob?: (sha: string, size: number) => BlobSink | undefined,
  ) {}

  /** Whether the output so far ended exactly after a blob (anything else: it was cut short). */
  get complete(): boolean {
    return this.current === undefined && this.header.length === 0;
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      const current = this.current;
      if (current) {
        if (current.filled < current.size) {
          const take = Math.min(current.size - current.filled, chunk.length - offset);
          if (current.scannable) chunk.copy(this.assembly, current.filled, offset, offset + take);
          else current.sink?.(chunk.subarray(offset, offset + take));
          current.filled += take;
          offset += take;
          continue;
        }
        expectNewline(chunk, offset, current.sha);
        offset++;
        this.finish(current);
        continue;
      }
      const newline = chunk.indexOf(10, offset);
      if (newline === -1) {
        this.header = Buffer.concat([this.header, chunk.subarray(offset)]);
        // A header is an id, a type and a size: anything longer is not one, and must not grow without bound.
        if (this.header.length > MAX_HEADER_BYTES)
          throw new Error(`git cat-file answered a header line longer than ${MAX_HEADER_BYTES} bytes`);
        return;
      }
      const line = (
        this.header.length > 0
          ? Buffer.concat([this.header, chunk.subarray(offset, newline)])
          : chunk.subarray(offset, newline)
      ).toString('latin1');
      this.header = Buffer.alloc(0);
      offset = newline + 1;
      const header = parseHeader(line);
      if (header.kind === 'missing') {
        this.onBlob({ sha: header.sha, kind: 'missing', size: 0 });
        continue;
      }
      const { sha, size } = header;
      const scannable = size <= this.maxBlobBytes;
      // The whole blob (and its LF) already in this chunk: hand out a view of it, no copy.
      if (scannable && chunk.length - offset > size) {
        expectNewline(chunk, offset + size, sha);
        this.blobs++;
        this.bytes += size;
        this.onBlob({ sha, kind: 'text-or-binary', size, content: chunk.subarray(offset, offset + size) });
        offset += size + 1;
        continue;
      }
      if (scannable && this.assembly.length < size)
        this.assembly = Buffer.allocUnsafe(Math.max(size, Math.min(2 * this.assembly.length, this.maxBlobBytes)));
      const sink = scannable ? undefined : this.onLargeBlob?.(sha, size);
      this.current = { sha, size, scannable, filled: 0, ...(sink ? { sink } : {}) };
    }
  }

  private finish(current: { sha: string; size: number; scannable: boolean }): void {
    this.current = undefined;
    this.blobs++;
    this.bytes += current.size;
    if (current.scannable)
      this.onBlob({
        sha: current.sha,
        kind: 'text-or-binary',
        size: current.size,
        content: this.assembly.subarray(0, current.size),
      });
    else this.onBlob({ sha: current.sha, kind: 'too-large', size: current.size });
  }
}

const MAX_HEADER_BYTES = 256;

/** `<id> blob <size>` (SHA-1 or SHA-256 ids) or `<id> missing`; anything else is an error. */
const BLOB_HEADER = /^([0-9a-f]{40}|[0-9a-f]{64}) blob (\d{1,15})$/;
const MISSING_HEADER = /^(\S+) missing$/;

function parseHeader(line: string): { kind: 'blob'; sha: string; size: number } | { kind: 'missing'; sha: string } {
  const blob = BLOB_HEADER.exec(line);
  if (blob) return { kind: 'blob', sha: blob[1] ?? '', size: Number(blob[2]) };
  const missing = MISSING_HEADER.exec(line);
  if (missing) return { kind: 'missing', sha: missing[1] ?? '' };
  // Out of step with git, this "header" may be a line of some blob's content (a secret): quote it only when
  // it has a header's shape, which content could match only as harmlessly.
  const quoted = /^[0-9a-f]{40,64} [a-z]+ \d+$/.test(line) ? JSON.stringify(line) : `a ${line.length}-byte line`;
  throw new Error(`git cat-file answered an unexpected header: ${quoted}`);
}

function expectNewline(chunk: Buffer, at: number, sha: string): void {
  if (chunk[at] !== 10) throw new Error(`git cat-file output for blob ${sha} does not end where its size says`);
}

/** The byte stream `git cat-file` writes into, and where its output is read. */
interface BatchOutput {
  /** What the child's stdout is given: a socket's or a FIFO's descriptor, or a pipe node makes. */
  stdout: number | 'pipe';
  /** Called once git is spawned: closes the parent's copy of the write end. */
  spawned(): void;
  /** Reads everything into `onChunk` until git's end closes; `stdoutStream` is used for a pipe. */
  read(stdoutStream: NodeJS.ReadableStream | null, onChunk: (chunk: Buffer) => void): Promise<void>;
  /** Closes what `read` has not taken over (git could not be started). */
  dispose(): void;
}

/** How blob content travels from git to this process (see `readBlobs`). */
export type BlobTransport = 'socket' | 'fifo' | 'pipe';

const READ_BUFFER_BYTES = 1024 * 1024;

/**
 * A Unix socket connected to itself through a private directory: git writes
 * into one end, this process reads the other into one reused buffer, like the
 * FIFO, but made without starting `mkfifo` (a process start on the critical
 * path, before git can read a blob), and a socket holds about three times
 * what a pipe holds in flight, so git and the scanner wait on each other less.
 */
/** `sockaddr_un.sun_path` holds 108 bytes on Linux (104 on macOS and the BSDs), one of them the NUL. */
const MAX_SOCKET_PATH_BYTES = 103;

async function socketOutput(): Promise<BatchOutput> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'secgate-cat-file-'));
  const server = net.createServer({ pauseOnConnect: true });
  let gitEnd: net.Socket | undefined;
  let ourEnd: net.Socket | undefined;
  // Set by `read`: nothing arrives before git is started, and git only starts after this function returns.
  let deliver: (chunk: Buffer) => void = () => {
    throw new Error('git cat-file wrote before it was read');
  };
  try {
    const address = path.join(dir, 'blobs');
    // A longer address does not fail: libuv cuts it to fit, and the socket would appear at a shorter path,
    // outside the private directory.
    if (Buffer.byteLength(address) > MAX_SOCKET_PATH_BYTES)
      throw new Error(`the temporary directory's path is too long for a Unix socket: ${address}`);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address, () => resolve());
    });
    const accepted = new Promise<net.Socket>((resolve, reject) => {
      server.once('connection', resolve);
      server.once('error', reject);
    });
    // Only awaited once connected: a failure before that is reported by the connect instead.
    accepted.catch(() => {});
    const connecting = net.connect({
      path: address,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
        callback: (bytes: number, buffer: Uint8Array) => {
          deliver(Buffer.from(buffer.buffer, buffer.byteOffset, bytes));
          return true;
        },
      },
    });
    ourEnd = connecting;
    await new Promise<void>((resolve, reject) => {
      connecting.once('connect', () => resolve());
      connecting.once('error', reject);
    });
    gitEnd = await accepted;
  } catch (error) {
    gitEnd?.destroy();
    ourEnd?.destroy();
    throw error;
  } finally {
    // Connected (or failed): the name is no longer needed, and nothing is left behind whatever happens next.
    server.close();
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
  const gitSide = gitEnd;
  const reader = ourEnd;
  // git gets the descriptor itself: handed to execa as a stream, the socket would be watched, and closing this
  // process's copy (which must close, see `spawned`) would count as git's output failing. A socket's
  // descriptor is only exposed by its handle (Unix); without one, the caller falls back to the FIFO.
  const descriptor = (gitSide as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof descriptor !== 'number' || descriptor < 0) {
    gitSide.destroy();
    reader.destroy();
    throw new Error('a Unix socket without a descriptor');
  }
  return {
    stdout: descriptor,
    // git holds its own copy now; this process's copy must close, or the reader never sees the end.
    spawned: () => gitSide.destroy(),
    dispose: () => reader.destroy(),
    read: (_stdoutStream, onChunk) =>
      new Promise<void>((resolve, reject) => {
        let failure: unknown;
        deliver = (chunk) => {
          if (failure !== undefined) return;
          try {
            onChunk(chunk);
          } catch (error) {
            failure = error;
            reader.destroy();
            reject(error);
          }
        };
        reader.on('end', () => resolve());
        reader.on('close', () => (failure === undefined ? resolve() : undefined));
        reader.on('error', (error) => reject(error));
      }),
  };
}

/**
 * A named pipe read into one reused buffer (`net.Socket` with `onread`):
 * node's stdout pipe allocates a new buffer for every read and passes each
 * through the stream machinery, which cost more CPU than git's whole read
 * (bench/results/history-scan.md). The FIFO lives in a private temporary
 * directory only until both ends are open.
 */
async function fifoOutput(): Promise<BatchOutput> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'secgate-cat-file-'));
  let writeEnd: number | undefined;
  let readEnd: number | undefined;
  try {
    const fifo = path.join(dir, 'blobs');
    await execa('mkfifo', ['-m', '600', fifo]);
    // Read-write: opening a FIFO's write end alone would wait for a reader. git only writes to it.
    writeEnd = openSync(fifo, 'r+');
    readEnd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    // Both ends are open: the name is no longer needed, and nothing is left behind whatever happens next.
    await rm(dir, { recursive: true, force: true });
  } catch (error) {
    for (const descriptor of [writeEnd, readEnd]) if (descriptor !== undefined) closeSync(descriptor);
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
  const gitEnd = writeEnd;
  let ourEnd: number | undefined = readEnd;
  return {
    stdout: gitEnd,
    // git holds the write end now; the read end sees end-of-file when git's copy closes.
    spawned: () => closeSync(gitEnd),
    dispose: () => {
      if (ourEnd !== undefined) closeSync(ourEnd);
      ourEnd = undefined;
    },
    read: (_stdoutStream, onChunk) =>
      new Promise<void>((resolve, reject) => {
        let failure: unknown;
        // `onread` works for a socket made from a file descriptor too (Node 12+); @types/node lists it for connect only.
        const options: net.SocketConstructorOpts & { onread: net.OnReadOpts } = {
          fd: ourEnd,
          readable: true,
          writable: false,
          onread: {
            buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
            callback: (bytes: number, buffer: Uint8Array) => {
              if (failure !== undefined) return false;
              try {
                onChunk(Buffer.from(buffer.buffer, buffer.byteOffset, bytes));
                return true;
              } catch (error) {
                failure = error;
                socket.destroy();
                reject(error);
                return false;
              }
            },
          },
        };
        // The socket owns the descriptor from here on and closes it.
        ourEnd = undefined;
        const socket = new net.Socket(options);
        socket.on('end', () => resolve());
        socket.on('close', () => (failure === undefined ? resolve() : undefined));
        socket.on('error', (error) => reject(error));
      }),
  };
}

/**
 * The transport asked for, or the next one that can be made: a socket needs a Unix socket in the temporary
 * directory, a FIFO needs mkfifo and a file system with FIFOs; the plain pipe reads the same bytes, only slower.
 */
async function openOutput(transport: BlobTransport): Promise<BatchOutput & { transport: BlobTransport }> {
  if (transport === 'socket') {
    try {
      return { ...(await socketOutput()), transport };
    } catch {
      return openOutput('fifo');
    }
  }
  if (transport === 'fifo') {
    try {
      return { ...(await fifoOutput()), transport };
    } catch {
      return openOutput('pipe');
    }
  }
  return { ...pipeOutput(), transport: 'pipe' };
}

function pipeOutput(): BatchOutput {
  return {
    stdout: 'pipe',
    spawned: () => {},
    dispose: () => {},
    read: async (stdoutStream, onChunk) => {
      if (!stdoutStream) throw new Error('git cat-file has no stdout');
      for await (const chunk of stdoutStream as AsyncIterable<Buffer>) onChunk(chunk);
    },
  };
}

/**
 * Blob ids handed to `readBlobs` while a walk is still finding them. Each id
 * goes straight to git's stdin (no async iteration per id, which cost more
 * than the id itself); ids pushed before `readBlobs` starts are kept.
 */
export class BlobIdQueue {
  private pending: string[] = [];
  private outcome: { ended: true } | { error: unknown } | undefined;
  private sink: { id(sha: string): void; end(): void; fail(error: unknown): void } | undefined;

  push(sha: string): void {
    if (this.sink) this.sink.id(sha);
    else this.pending.push(sha);
  }

  end(): void {
    this.outcome = { ended: true };
    this.sink?.end();
  }

  /** The walk failed: `readBlobs` stops git and throws this error. */
  fail(error: unknown): void {
    this.outcome = { error };
    this.sink?.fail(error);
  }

  attach(sink: { id(sha: string): void; end(): void; fail(error: unknown): void }): void {
    this.sink = sink;
    for (const sha of this.pending) sink.id(sha);
    this.pending = [];
    if (this.outcome && 'error' in this.outcome) sink.fail(this.outcome.error);
    else if (this.outcome) sink.end();
  }
}

/**
 * Writes ids to git's stdin. Ids that arrive together (a walk yields hundreds
 * per chunk of its output) go in one write: corked until the current burst is
 * over, instead of one system call per id.
 */
function corkedWriter(stdin: NodeJS.WritableStream & { cork(): void; uncork(): void }): (sha: string) => boolean {
  let corked = false;
  return (sha) => {
    if (!corked) {
      corked = true;
      stdin.cork();
      setImmediate(() => {
        corked = false;
        stdin.uncork();
      });
    }
    return stdin.write(`${sha}\n`);
  };
}

type GitStdin = NodeJS.WritableStream & {
  cork(): void;
  uncork(): void;
  destroyed: boolean;
  off: NodeJS.EventEmitter['off'];
};

async function feed(stdin: GitStdin, shas: Iterable<string> | AsyncIterable<string>, sent: string[]): Promise<void> {
  const write = corkedWriter(stdin);
  for await (const sha of shas) {
    // git gone (killed, crashed): stop feeding it; the read loop and `await subprocess` report why.
    if (stdin.destroyed) return;
    sent.push(sha);
    if (!write(sha)) await drainedOrClosed(stdin);
  }
  stdin.end();
}

/** A queue is not awaited per id: what git has not taken yet waits in the stream's buffer (41 bytes an id). */
function feedFromQueue(stdin: GitStdin, queue: BlobIdQueue, sent: string[]): Promise<void> {
  const write = corkedWriter(stdin);
  return new Promise<void>((resolve, reject) => {
    queue.attach({
      id: (sha) => {
        if (stdin.destroyed) return;
        sent.push(sha);
        write(sha);
      },
      end: () => {
        if (!stdin.destroyed) stdin.end();
        resolve();
      },
      fail: reject,
    });
  });
}

export interface ReadBlobsOptions {
  /**
   * Blobs larger than this are not held: they go piece by piece to the sink
   * `onLargeBlob` gives (none: drained unread), then are reported as `too-large`.
   */
  maxBlobBytes: number;
  onLargeBlob?: (sha: string, size: number) => BlobSink | undefined;
  signal?: AbortSignal;
  /** `socket` (default where it can be made), `fifo` (the first fallback) or `pipe` (node's child stdout; the last). */
  transport?: BlobTransport;
}

/**
 * Reads blobs through one `git cat-file --batch` process. `onBlob` runs
 * synchronously for each blob in input order, while the next bytes are still
 * arriving; nothing but the current blob is held, and its content is only
 * valid during the call. `shas` may still be growing (a history walk in
 * progress: an async iterable, or a BlobIdQueue): ids are sent to git as
 * they come, and if the source fails, git is stopped and the error thrown.
 */
export async function readBlobs(
  repoDir: string,
  shas: Iterable<string> | AsyncIterable<string> | BlobIdQueue,
  options: ReadBlobsOptions,
  onBlob: (blob: BlobRead) => void,
): Promise<{ blobs: number; bytes: number; transport: BlobTransport }> {
  const output = await openOutput(options.transport ?? 'socket');
  const { transport } = output;
  let subprocess: ReturnType<typeof spawnCatFile>;
  try {
    subprocess = spawnCatFile(repoDir, output.stdout, options.signal);
  } catch (error) {
    output.dispose();
    throw error;
  } finally {
    output.spawned();
  }
  // git's failure is awaited below, after the read: until then it must not count as unhandled (it would end
  // the whole process), whatever fails first.
  subprocess.catch(() => {});
  // Every id written, in order: git must answer each, in the same order, and nothing else.
  const sent: string[] = [];
  let answered = 0;
  const writer =
    shas instanceof BlobIdQueue ? feedFromQueue(subprocess.stdin, shas, sent) : feed(subprocess.stdin, shas, sent);
  // The ids' source failed: stop git, so that the read loop below ends and the failure surfaces.
  writer.catch(() => subprocess.kill());

  const parser = new CatFileParser(
    options.maxBlobBytes,
    (blob) => {
      const expected = sent[answered];
      if (blob.sha !== expected)
        throw new Error(`git cat-file answered ${blob.sha} where ${expected ?? 'nothing'} was asked for`);
      // Keep the list short: drop answered ids now and then, not on every blob.
      if (++answered > 4096 && answered * 2 > sent.length) {
        sent.splice(0, answered);
        answered = 0;
      }
      onBlob(blob);
    },
    options.onLargeBlob,
  );
  try {
    await output.read(subprocess.stdout, (chunk) => parser.push(chunk));
  } catch (error) {
    // The consumer gave up (or the output broke): stop git rather than leave it writing into a full pipe.
    // The writer is not waited for: a walk still feeding it only finds git gone.
    subprocess.kill();
    await subprocess.catch(() => {});
    writer.catch(() => {});
    throw error;
  }
  try {
    // git's output has ended, so git has exited or is exiting. If it failed (killed, aborted, could not
    // start), that is the news now: an id source still open (a walk) must not keep this read waiting.
    await Promise.race([writer, subprocess]);
    await writer;
  } catch (error) {
    // Or the ids' source failed and git was stopped for it: then that failure, not git's SIGTERM, is the news.
    await subprocess.catch(() => {});
    throw error;
  }
  await subprocess;
  if (answered !== sent.length)
    throw new Error(`git cat-file answered ${answered} of the ${sent.length} ids it was sent`);
  // git exited cleanly, yet its output stopped inside a header or a blob: never count that as read.
  if (!parser.complete) throw new Error('git cat-file output ended inside a blob');
  return { blobs: parser.blobs, bytes: parser.bytes, transport };
}

function spawnCatFile(repoDir: string, stdout: number | 'pipe', signal: AbortSignal | undefined) {
  return execa('git', [...offline, 'cat-file', '--batch', '--buffer'], {
    cwd: repoDir,
    env: gitEnvironment,
    stdin: 'pipe',
    // execa hands any descriptor number to spawn as it is (a "native" stdio value), but its types
    // list only 3–9: the socket's or FIFO's descriptor is typed as one of those.
    stdout: stdout as 'pipe' | 3,
    buffer: { stdout: false, stderr: true },
    ...(signal ? { cancelSignal: signal } : {}),
  });
}
