/**
 * The data the context's capabilities (capabilities.ts) take and return: what a check hands to
 * `ctx.exec`, `ctx.tls` and `ctx.git`, and what it gets back to judge. They belong to the contract,
 * not to the probes that produce them, so that the contract depends on no probe: the probes import
 * these types (and re-export them, for their existing importers), never the other way round.
 * A leaf: types only, importing nothing but node's X509Certificate type.
 */
import type { X509Certificate } from 'node:crypto';

// git (src/probes/git.ts, git-history.ts)

export interface GitOptions {
  signal?: AbortSignal;
}

/** One entry of the index (`git ls-files -s -v`): what `git commit` would record for the path. */
export interface IndexEntry {
  /** Relative to the top level, exactly as stored. */
  path: string;
  /** `100644`, `100755` (files), `120000` (a symlink), `160000` (a submodule's commit). */
  mode: string;
  /** The object id: a blob for files and symlinks, a commit for a submodule. */
  object: string;
  /** 0, or 1–3 for the sides of an unresolved merge conflict. */
  stage: number;
  /**
   * `ls-files -v`'s status tag: lower case when the entry is marked assume-unchanged, `S` when
   * skip-worktree (a sparse checkout): either way the work tree need not hold what the index does.
   */
  tag: string;
}

/**
 * A blob read from the object store: its content when it is no larger than the reader's limit (a view
 * that is only valid during the callback), else only its size (its bytes went to the large-blob sink).
 */
export type BlobContent =
  | { sha: string; kind: 'text-or-binary'; size: number; content: Buffer }
  | { sha: string; kind: 'too-large'; size: number }
  | { sha: string; kind: 'missing'; size: 0 };

export interface ReadBlobOptions extends GitOptions {
  /** Blobs larger than this go piece by piece to the sink `onLargeBlob` gives, then are reported `too-large`. */
  maxBlobBytes: number;
  onLargeBlob?: (sha: string, size: number) => ((piece: Buffer) => void) | undefined;
}

export interface BlobIntroduction {
  /** The first commit (parents before children) whose diff added this blob. */
  commit: string;
  /** The path the blob had in that commit. */
  path: string;
}

export interface PathIntroduction extends BlobIntroduction {
  blob: string;
}

// secrets found (src/secrets/findings.ts), and the history scan (src/probes/history-scan.ts)

/** One place a secret appears. */
export interface Occurrence {
  rule: string;
  /** Other rules that found the same value at the same place (`STRIPE_KEY = "sk_live_…"`: the token and the assignment). */
  alsoMatchedBy?: string[];
  path: string;
  /** 1-based line in text; absent for binary content, which has `offset`. */
  line?: number;
  /** Byte offset in binary content. */
  offset?: number;
  /** The commit that introduced the blob holding it (history only; `none` for a blob no commit holds). */
  commit?: string;
  /** The blob holding it (history only). */
  blob?: string;
  /** The secret variable given the value, for a `named-secret-value` occurrence (`POSTGRES_PASSWORD`). */
  name?: string;
  /** Set when it lies in a commit's or an annotated tag's message, not in a file: `path` then says which. */
  message?: 'commit' | 'tag';
  /** For a tag message: the tag object, and a ref that reaches it. */
  tag?: { object: string; ref: string };
}

export interface SecretFinding {
  /** The value's `{length, sha256 prefix}`: never the value. */
  fingerprint: string;
  length: number;
  /** In reading order: for history, the first is where the secret was introduced. */
  occurrences: Occurrence[];
}

/** A blob read, or not, with where the walk met it. */
export interface BlobPlace {
  blob: string;
  /** The commit that introduced it, NO_COMMIT or UNREACHABLE. */
  commit: string;
  path: string;
}

/** Content that no scan can judge (an archive). */
export interface UnjudgedBlob extends BlobPlace {
  what: string;
  size: number;
  /** A Git LFS pointer whose content is not in the local LFS store (or not as committed): `what` says which. */
  lfs?: { oid: string; size: number };
}

/** A blob of the history that is not in the object store (a partial clone, or a damaged one). */
export interface AbsentBlob extends BlobPlace {
  /** A ref that reaches its commit (`main~2`), when git could name one. */
  ref?: string;
}

/** The step of the scan that failed; what came before it is still in the observation. */
export type HistoryStep = 'cutoffs' | 'refs' | 'partial-clone' | 'walk' | 'read' | 'lfs' | 'head';

export interface HistoryTotals {
  /** Commits walked; each one's message was scanned too. */
  commits: number;
  /** Annotated tags whose messages were scanned. */
  tagMessages: number;
  /** Blobs the walk found (present or not). */
  uniqueBlobs: number;
  /** Blob ids sent to `git cat-file --batch`. */
  requested: number;
  /** Blobs it answered with their content: `requested` minus `missingFromStore` when all is well. */
  scannedBlobs: number;
  scannedBytes: number;
  /** Sent, but answered `missing`: not known absent beforehand (a damaged store). */
  missingFromStore: number;
  decodedTextBlobs: number;
  binaryBlobs: number;
  streamedBlobs: number;
  /** Git LFS pointers among the blobs, and those whose content was read from the LFS store and scanned. */
  lfsPointers: number;
  lfsObjectsScanned: number;
  seconds: number;
}

/** What the scan saw; every field that a failed step left unknown is absent. */
export interface HistorySeen {
  repoDir: string;
  /** Why the stored history is incomplete (a shallow clone, grafts); empty when it is whole. */
  cutoffs?: string[];
  /** Every ref the walk starts from. */
  refs?: string[];
  /** Stash entries (`stash@{0}` … `stash@{n}`) the walk starts from too: the older ones only a reflog holds. */
  stashEntries?: number;
  partialClone?: boolean;
  totals?: HistoryTotals;
  /** Every path ever added or modified within the scope, with its first commit and blob. */
  paths: PathIntroduction[];
  /** One per secret (fingerprint), its occurrences in reading order: the first introduced it. */
  findings: SecretFinding[];
  /** HEAD's blobs and their paths within the scope: looked up only when there are findings, to say which HEAD still holds. */
  headPaths: ReadonlyMap<string, readonly string[]>;
  unjudged: UnjudgedBlob[];
  absent: AbsentBlob[];
  /** `git name-rev` failed: the absent blobs have no ref. */
  refNamingError?: string;
  failure?: { step: HistoryStep; reason: string };
}

export interface HistoryScanOptions {
  /** Paths relative to the top level ('' the whole repository); unset, the whole repository. */
  paths?: readonly string[] | undefined;
  /** Also scan blobs no ref reaches. */
  includeUnreachable: boolean;
  /** Blobs above this size are scanned as a stream. */
  maxBlobBytes: number;
  /**
   * Secret variable names whose values are judged in every text blob held whole (the named-secret rule,
   * src/secrets/named-secrets.ts); unset or empty, none.
   */
  names?: readonly string[] | undefined;
  signal: AbortSignal;
}

// processes (src/probes/process.ts)

export interface CommandSpec {
  /** argv (no shell) or a shell string when `shell` is true. */
  command: readonly string[] | string;
  shell: boolean;
  cwd: string;
  /** The complete environment of the child; nothing is inherited implicitly. */
  env: Record<string, string>;
}

export interface RunOptions {
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL when stopping. */
  graceMs?: number;
  signal?: AbortSignal;
  /** Bytes of output kept for the tail. */
  tailBytes?: number;
}

export interface CommandResult {
  exitCode: number | undefined;
  /** The signal that ended the process, if any. */
  signal: string | undefined;
  timedOut: boolean;
  aborted: boolean;
  /** Set when the process could not be started at all (ENOENT, EACCES). */
  spawnError: string | undefined;
  durationMs: number;
  outputBytes: number;
  outputSha256: string;
  /** The last bytes of stdout+stderr, interleaved as produced. */
  outputTail: string;
  /** Whether SIGKILL was needed because the group ignored SIGTERM. */
  killed: boolean;
}

export interface StopResult {
  /** 'exited' before any signal, 'sigterm' stopped it in time, 'sigkill' was needed. */
  stoppedBy: 'exited' | 'sigterm' | 'sigkill';
  /** Whether any process of the group survived even SIGKILL (should never happen). */
  survivors: boolean;
  durationMs: number;
}

/** A started command: its output digest grows while it runs; `stop()` ends the whole group. */
export interface RunningCommand {
  pid: number | undefined;
  /** Resolves when the main process exits (not necessarily its children). */
  exited: Promise<CommandResult>;
  hasExited(): boolean;
  stop(graceMs: number): Promise<StopResult>;
}

// TLS (src/probes/certificate.ts, tls-hello.ts, tls-scan.ts)

export interface PresentedChain {
  /** Leaf first, then each issuer as OpenSSL built the path (may end at the trust anchor). */
  chain: X509Certificate[];
  /**
   * The certificates a client's verification rests on: the leaf, each presented issuer up to the first one
   * a trust anchor issued, and that anchor. A presented certificate past it (a cross-signature) is not on
   * it. When no anchor issued any of them, the whole chain.
   */
  trustPath: X509Certificate[];
  /** OpenSSL's chain verification against the trust anchor. */
  verified: boolean;
  /** OpenSSL's reason when not verified, e.g. DEPTH_ZERO_SELF_SIGNED_CERT. */
  verificationError: string | undefined;
  protocol: string | null;
  cipher: string;
}

export interface ChainRequest {
  host: string;
  port: number;
  servername: string | undefined;
  caPem: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export type ProtocolVersion = 'SSLv3' | 'TLSv1.0' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface HelloTarget {
  host: string;
  port: number;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export type VersionVerdict =
  | { version: ProtocolVersion; state: 'accepted'; cipherSuite: string; helloRetryRequest: boolean; elapsedMs: number }
  /** `answer` says how: the alert, the close, or the (other) version the server answered with. */
  | { version: ProtocolVersion; state: 'refused'; answer: string; elapsedMs: number }
  | { version: ProtocolVersion; state: 'unknown'; reason: string; elapsedMs: number };

export interface ScanTarget extends HelloTarget {
  /** SNI name; undefined for IP literals. */
  serverName: string | undefined;
}

/** The finite-field group a DHE suite was served with: its prime's size, or why the prime could not be read. */
export type DhGroupObservation = { bits: number } | { error: string };

export interface SuiteEnumeration {
  version: ProtocolVersion;
  /** IANA names of accepted suites, in the order the server chose them. */
  accepted: string[];
  /** For each accepted DHE suite (by IANA name), the group its ServerKeyExchange carried. */
  dhGroups?: Record<string, DhGroupObservation>;
  /** Hellos sent. */
  hellos: number;
  /** Set when a hello got no usable answer: the list may be incomplete. */
  error?: string;
}
