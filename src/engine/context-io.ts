/**
 * The real implementations of the context's I/O capabilities (capabilities.ts):
 * the one place where a check's file reads, processes, raw TLS and git reads
 * happen. The engine and the test harness both build them here, so a check
 * under test does exactly the I/O it does in a run.
 *
 * Each probe module (and execa behind the process runner) loads at its first
 * use: a gate whose checklist names only HTTP checks never pays for git or a
 * process runner at start-up (issue 16, start-up).
 */
import { createReadStream, type Stats } from 'node:fs';
import { lstat, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CheckExec, CheckFiles, CheckGit, CheckTls, FileStats } from './capabilities.js';

export interface CheckIo {
  files: CheckFiles;
  exec: CheckExec;
  tls: CheckTls;
  git: CheckGit;
}

/** Relative paths (files, a command's cwd) are relative to `baseDir`, the checklist's directory. */
export function createCheckIo(baseDir: string): CheckIo {
  const resolve = (file: string) => path.resolve(baseDir, file);
  return {
    files: createCheckFiles(resolve),
    exec: {
      run: async (...args) => (await processProbes()).runCommand(...args),
      start: async (...args) => (await processProbes()).startCommand(...args),
      async output(command, args, options) {
        const { execa } = await execaModule();
        const result = await execa(command, args, {
          cwd: resolve(options.cwd),
          // 'inherit': execa's default, the gate's own environment; otherwise exactly the variables given.
          ...(options.env === 'inherit' ? {} : { env: { ...options.env }, extendEnv: false }),
          cancelSignal: options.signal,
          timeout: options.timeoutMs,
          stripFinalNewline: !options.keepFinalNewline,
          maxBuffer: options.maxBufferBytes,
          reject: false,
        });
        // execa's own error message quotes the whole argv and everything the command printed (a service log
        // with its users' tokens, an `env` dump): a failure says only how the command ended.
        if (result.failed) throw new Error(`${path.basename(command)} ${howItEnded(result)}`);
        return { stdout: result.stdout, stderr: result.stderr };
      },
    },
    tls: {
      fetchPresentedChain: async (...args) => (await certificateProbes()).fetchPresentedChain(...args),
      probeVersion: async (...args) => (await tlsProbes()).probeVersion(...args),
      enumerateSuites: async (...args) => (await tlsProbes()).enumerateSuites(...args),
    },
    git: {
      repositoryTopLevel: async (...args) => (await gitProbes()).repositoryTopLevel(...args),
      listTrackedFiles: async (...args) => (await gitProbes()).listTrackedFiles(...args),
      indexEntries: async (...args) => (await gitProbes()).indexEntries(...args),
      async readBlobs(repoDir, blobs, options, onBlob) {
        await (await gitHistory()).readBlobs(repoDir, blobs, options, onBlob);
      },
      isIgnored: async (...args) => (await gitProbes()).isIgnored(...args),
      commonDir: async (...args) => (await gitProbes()).gitCommonDir(...args),
      blobIdsOf: async (...args) => (await gitProbes()).blobIdsOf(...args),
      absentObjects: async (...args) => (await gitProbes()).absentObjects(...args),
      scanHistory: async (...args) => (await historyScan()).scanHistory(...args),
    },
  };
}

/** A module imported once, at the first call. */
function onFirstUse<Module>(load: () => Promise<Module>): () => Promise<Module> {
  let loading: Promise<Module> | undefined;
  return () => {
    loading ??= load();
    return loading;
  };
}

const execaModule = onFirstUse(() => import('execa'));
const processProbes = onFirstUse(() => import('../probes/process.js'));
const certificateProbes = onFirstUse(() => import('../probes/certificate.js'));
const tlsProbes = onFirstUse(() => import('../probes/tls-scan.js'));
const gitProbes = onFirstUse(() => import('../probes/git.js'));
const historyScan = onFirstUse(() => import('../probes/history-scan.js'));
const gitHistory = onFirstUse(() => import('../probes/git-history.js'));

function howItEnded(result: {
  timedOut: boolean;
  isCanceled: boolean;
  isMaxBuffer: boolean;
  exitCode?: number | undefined;
  signal?: string | undefined;
  code?: string | undefined;
}): string {
  if (result.timedOut) return 'timed out';
  if (result.isCanceled) return 'was cancelled';
  if (result.isMaxBuffer) return 'printed more than it may';
  if (result.exitCode !== undefined) return `ended with exit code ${result.exitCode}`;
  if (result.signal) return `was killed by ${result.signal}`;
  return `could not run (${result.code ?? 'unknown error'})`;
}

export function createCheckFiles(resolve: (file: string) => string): CheckFiles {
  return {
    lstat: async (file) => statsOf(await lstat(resolve(file))),
    stat: async (file) => statsOf(await stat(resolve(file))),
    readFile: (file, options = {}) => readFile(resolve(file), options.signal ? { signal: options.signal } : {}),
    readText: (file, options = {}) =>
      readFile(resolve(file), { encoding: 'utf8', ...(options.signal ? { signal: options.signal } : {}) }),
    async *readChunks(file, options) {
      const stream = createReadStream(resolve(file), {
        highWaterMark: options.chunkBytes,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      for await (const chunk of stream) {
        // Without an encoding a file stream yields Buffers; anything else is a bug to surface, not to scan.
        if (!(chunk instanceof Uint8Array)) throw new Error(`${file}: the stream did not yield bytes`);
        yield chunk;
      }
    },
    async readRange(file, pick) {
      const handle = await open(resolve(file), 'r');
      try {
        const { size } = await handle.stat();
        const { start, length } = pick(size);
        const buffer = Buffer.alloc(Math.max(0, length));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
        // Shorter only if the file was cut while being read: what was there, never trailing zeros.
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
  };
}

function statsOf(stats: Stats): FileStats {
  const kind = stats.isFile()
    ? 'file'
    : stats.isDirectory()
      ? 'directory'
      : stats.isSymbolicLink()
        ? 'symlink'
        : 'other';
  return { kind, size: stats.size };
}
