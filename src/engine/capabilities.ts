/**
 * What a check may do besides HTTP and SQL, as the context hands it out: read
 * files, run processes, talk TLS below the HTTP client, and read a git
 * repository. Types only: the engine implements them (context-io.ts) from the
 * probes, and a check reaches them as `ctx.files`, `ctx.exec`, `ctx.tls` and
 * `ctx.git`, never by importing the probes or node's I/O modules (the lint
 * rule on checks/** forbids it).
 *
 * Every signature is written out here, over the contract's own types (observations.ts), rather than
 * taken from the probes with `typeof`: the contract depends on no probe, and it is the probes that
 * must fit it (context-io.ts wires them in, so the compiler checks that they do).
 */
import type {
  BlobContent,
  ChainRequest,
  CommandResult,
  CommandSpec,
  GitOptions,
  HistoryScanOptions,
  HistorySeen,
  IndexEntry,
  PresentedChain,
  ProtocolVersion,
  ReadBlobOptions,
  RunningCommand,
  RunOptions,
  ScanTarget,
  SuiteEnumeration,
  VersionVerdict,
} from './observations.js';

/** What is at a path: lstat or stat, reduced to what checks judge. */
export interface FileStats {
  kind: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
}

/** The part of a file `readRange` reads, chosen from the size of the open file. */
export interface FileRange {
  start: number;
  length: number;
}

/**
 * Files, by absolute path or relative to the checklist's directory (`ctx.baseDir`).
 * Errors are the system's own (an `ENOENT` error keeps its `code`), so a check
 * can tell a missing file from an unreadable one.
 */
export interface CheckFiles {
  /** The path itself, a symlink not followed. */
  lstat(file: string): Promise<FileStats>;
  /** Through symlinks. */
  stat(file: string): Promise<FileStats>;
  readFile(file: string, options?: { signal?: AbortSignal }): Promise<Buffer>;
  readText(file: string, options?: { signal?: AbortSignal }): Promise<string>;
  /** The file as a stream of chunks of at most `chunkBytes`, for files too large to hold. */
  readChunks(file: string, options: { chunkBytes: number; signal?: AbortSignal }): AsyncIterable<Uint8Array>;
  /**
   * Opens the file once and reads the range `pick` chooses given its size then: size and bytes
   * come from the same open file, even if the path is replaced meanwhile (a rotated log).
   */
  readRange(file: string, pick: (size: number) => FileRange): Promise<Buffer>;
}

/**
 * What a child process inherits: exactly these variables (nothing implicit), or `inherit`, the
 * gate's own environment, for a command the checklist's author names to reach their own
 * infrastructure as a shell would (logs.no-credentials' log_command: `docker logs`, `kubectl logs`).
 * The check itself never sees that environment, only the command's output.
 */
export type ChildEnv = Readonly<Record<string, string>> | 'inherit';

export interface OutputOptions {
  /** Absolute, or relative to the checklist's directory. */
  cwd: string;
  env: ChildEnv;
  signal: AbortSignal;
  timeoutMs: number;
  maxBufferBytes: number;
  /** Keep a final newline in stdout and stderr (default: strip it). */
  keepFinalNewline?: boolean;
}

/** Processes. A command spec's `env` is the child's whole environment (see ChildEnv). */
export interface CheckExec {
  /** Runs to completion in its own process group, stopped (the whole group) on timeout or abort. */
  run(spec: CommandSpec, options: RunOptions): Promise<CommandResult>;
  /**
   * Starts a long-running command (a service) in its own process group; resolves once it is spawned, with a
   * handle to watch it, and `stop()` ends the whole group.
   */
  start(spec: CommandSpec, options?: { tailBytes?: number }): Promise<RunningCommand>;
  /** Runs a command for its output; rejects when it cannot start, fails, times out or is aborted. */
  output(command: string, args: readonly string[], options: OutputOptions): Promise<{ stdout: string; stderr: string }>;
}

/** TLS below the HTTP client: the presented chain, and raw ClientHellos. */
export interface CheckTls {
  fetchPresentedChain(request: ChainRequest): Promise<PresentedChain>;
  /** Offers every known suite for `version` and judges the answer. */
  probeVersion(target: ScanTarget, version: ProtocolVersion): Promise<VersionVerdict>;
  /** The suites the server accepts for `version`, asked in `groups` parallel slices (default 4). */
  enumerateSuites(target: ScanTarget, version: ProtocolVersion, groups?: number): Promise<SuiteEnumeration>;
}

/**
 * A git repository, read offline (no fetch, no remote helper): the questions the checks ask, and no more,
 * so that the contract a plugin codes against is what the engine keeps stable.
 */
export interface CheckGit {
  /** The top level of the repository holding `dir` (which may be any folder inside it). */
  repositoryTopLevel(dir: string, options?: GitOptions): Promise<string>;
  listTrackedFiles(repoDir: string, options?: GitOptions): Promise<string[]>;
  /** Every index entry (paths relative to the top level), with its blob id and its assume-unchanged/skip-worktree tag. */
  indexEntries(repoDir: string, options?: GitOptions): Promise<IndexEntry[]>;
  /**
   * Reads blobs by id through one `git cat-file --batch`, in order, handing each to `onBlob` as it arrives
   * (its content valid only during the call): what the index holds for a file the work tree does not show.
   */
  readBlobs(
    repoDir: string,
    blobs: readonly string[],
    options: ReadBlobOptions,
    onBlob: (blob: BlobContent) => void,
  ): Promise<void>;
  isIgnored(repoDir: string, relativePath: string, options?: GitOptions): Promise<boolean>;
  /** The repository's common git directory, absolute (where the object store and the Git LFS store live). */
  commonDir(dir: string, options?: GitOptions): Promise<string>;
  /** The blob id git would store for each work-tree file (relative to `repoDir`), in order: `git hash-object`. */
  blobIdsOf(repoDir: string, files: readonly string[], options?: GitOptions): Promise<string[]>;
  /**
   * Those of `objects` a partial clone (`--filter`) does not hold, in order; none for any other clone. Reading
   * one would make git fetch it from the promisor remote (or die trying): ask this before reading.
   */
  absentObjects(repoDir: string, objects: readonly string[], options?: GitOptions): Promise<string[]>;
  /** The whole history scan (refs, walk, read, scan), as an observation for the check to judge. */
  scanHistory(repoDir: string, options: HistoryScanOptions): Promise<HistorySeen>;
}
