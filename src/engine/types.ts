/**
 * The check contract. A check is a small declarative module (like an ESLint
 * rule): metadata, a zod schema for its `with:` parameters, and one `run`
 * function that probes and returns an outcome. A check never prints and never
 * exits, and it reaches the world only through its context: HTTP (`ctx.http`),
 * the database (`ctx.db`), files (`ctx.files`), processes (`ctx.exec`), raw
 * TLS (`ctx.tls`), git (`ctx.git`), the clock and the cancellation signal. Its
 * `ctx.env` holds only the variables its checklist entry names (the `env:` and
 * `env?:` requirements its `requires` declares), never process.env. Biome's
 * `noRestrictedImports` / `noRestrictedGlobals` on checks/** (biome.json) make
 * node's I/O modules, the I/O probes and `process` a lint error there.
 */
import type { z } from 'zod';
import type { CheckExec, CheckFiles, CheckGit, CheckTls } from './capabilities.js';
import type { AuthConfig, DatabaseConfig, TargetConfig } from './checklist/schema.js';
import type { Severity } from './severity.js';
import type { SourceAddressPool } from './source-addresses.js';

export type { CheckExec, CheckFiles, CheckGit, CheckTls, ChildEnv, FileRange, FileStats } from './capabilities.js';

/** JSON values, the only thing observations may carry (they go into signed evidence). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A verdict a check can reach by itself. */
export type CheckStatus = 'pass' | 'fail' | 'error' | 'skip';
/** What the engine reports: a failed check covered by a valid waiver becomes `waived`. */
export type FinalStatus = CheckStatus | 'waived';

/**
 * Side effects on the target. The scheduler starts every check as soon as its
 * claims allow: a check that locks accounts or blocks addresses holds the
 * accounts it names (`account:` requirements) and the addresses it binds
 * (`probeAddresses`) alone while it runs, and runs alone when it names none;
 * commands touch none of the service's state. Effectful checks undo what they
 * did where the checklist gives them the means.
 */
export type CheckEffect = 'none' | 'locks-account' | 'blocks-ip' | 'runs-commands';

/** A location in the repository, for findings that live in files (SARIF, annotations). */
export interface SourceLocation {
  path: string;
  line?: number;
  column?: number;
  /** The commit the finding was seen in, for history findings. */
  commit?: string;
}

/**
 * One piece of evidence. A reviewer must be able to re-judge the verdict from
 * the observations alone: what was sent, what came back, what was expected.
 */
export interface Observation {
  /** What was probed, e.g. `GET https://localhost:8443/health` or `ClientHello TLSv1.1`. */
  probe: string;
  /** What the control requires. */
  expected?: Json;
  /** What was actually seen. Secrets appear only as fingerprints (see SecretRedactor). */
  actual?: Json;
  /** Whether this observation satisfies the control; omitted when it is context only. */
  ok?: boolean;
  /** A short human explanation, e.g. the reason a value is wrong. */
  note?: string;
  location?: SourceLocation;
}

export interface CheckOutcome {
  status: CheckStatus;
  /** One line: what was found. Shown next to the check id. */
  summary: string;
  observations: Observation[];
}

/** The fingerprint that stands for a secret everywhere outside the process. */
export interface SecretFingerprint {
  length: number;
  /** First 12 hex characters of the value's sha256. */
  sha256: string;
}

export interface SecretRedactor {
  /** Remember a value so that it is scrubbed from everything the engine writes. */
  register(value: string): void;
  /** The fingerprint to put in observations instead of the value. */
  fingerprint(value: string): SecretFingerprint;
  /** Replace every registered secret in a string by its fingerprint. */
  redact(text: string): string;
}

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Local address to bind the client socket to (e.g. 127.0.0.9), for distinct client IPs. */
  localAddress?: string;
  /** Do not follow redirects (the default); kept explicit for readability. */
  followRedirects?: false;
  /** Per-request timeout; defaults to the target's timeout. */
  timeoutMs?: number;
  /** Read at most this many bytes of the body (default 1 MiB). */
  maxBodyBytes?: number;
  /** Extra cancellation on top of the check's own signal. */
  signal?: AbortSignal;
  /**
   * Send on a connection of its own, never a pooled keep-alive one (for a retry the caller has
   * proven safe, such as a login the audit rows show was not processed).
   */
  freshConnection?: boolean;
  /**
   * The request target (path and query) sent exactly as written, to the origin of the URL given: a URL
   * folds `/./` segments and reads a leading `//` as a host, so a probe of the server's own path
   * handling must bypass it.
   */
  requestTarget?: string;
}

export interface HttpResponse {
  status: number;
  /** Lower-cased header names; repeated headers keep every value. */
  headers: Record<string, string | string[]>;
  body: string;
  /**
   * The body was longer than the request's `maxBodyBytes` (1 MiB by default) and `body` holds only
   * its start. A check that judges the body must not judge a truncated one as whole.
   */
  bodyTruncated: boolean;
  /** Wall time from sending to the end of the body, in milliseconds. */
  elapsedMs: number;
  /**
   * Set when this answer came from a second attempt on a fresh connection, after the first
   * one's connection closed without an answer: why, for the evidence.
   */
  retried?: string;
}

/** HTTP(S) with the checklist's trust anchor; never follows redirects. */
export interface HttpProbe {
  request(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse>;
}

/** Read access to the service's database, for checks that verify the rows it writes. */
export interface DatabaseProbe {
  query<Row extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
}

export interface Clock {
  /** Wall-clock time, for what is compared with the service's timestamps (token expiry, audit rows). */
  now(): Date;
  /** A monotonic reading in milliseconds, for measuring how long something took (never goes back). */
  monotonicMs(): number;
  /** Waits `ms`; rejects with the signal's reason when the run is cancelled meanwhile. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Everything a check may use. Built by the engine (or by the test harness). */
export interface CheckContext {
  target: ResolvedTarget;
  /** Absolute path of the git repository under verification. */
  repoDir: string;
  /** Absolute directory of the checklist file, for resolving relative paths. */
  baseDir: string;
  /** Present when the checklist names a database; otherwise checks that need it return `error`. */
  db: DatabaseProbe | undefined;
  database: DatabaseConfig | undefined;
  auth: AuthConfig | undefined;
  http: HttpProbe;
  /**
   * Where requests that may count as authentication failures come from: each
   * takes `await ctx.addresses.forFailure()` as its localAddress, so the gate
   * never pushes one of its own addresses over the service's IP-block threshold.
   */
  addresses: SourceAddressPool;
  clock: Clock;
  /** Aborted on timeout, SIGINT or SIGTERM. Pass it to every I/O call. */
  signal: AbortSignal;
  secrets: SecretRedactor;
  /**
   * The environment variables this check's entry names: the `env:NAME` and `env?:NAME`
   * requirements its `requires` declares for its parameters, and nothing else (the engine
   * builds it per entry; a variable not declared is absent even when the gate has it).
   */
  env: Readonly<Record<string, string | undefined>>;
  /** Files, by absolute path or relative to baseDir. */
  files: CheckFiles;
  /** Child processes; each gets only the environment the check gives it. */
  exec: CheckExec;
  /** The presented certificate chain and raw ClientHellos. */
  tls: CheckTls;
  /** Reads of a git repository. */
  git: CheckGit;
}

export interface ResolvedTarget extends TargetConfig {
  /** PEM text of the trust anchor, when `ca_file` is given. */
  caPem: string | undefined;
}

/**
 * Which way a parameter makes the gate stronger, for the weakening guard
 * (`verify --baseline-ref`):
 * - `higher` / `lower`: a number the control requires at least / allows at most;
 * - a list of values, weakest first (`minimum: TLSv1.2` → `TLSv1.3`);
 * - `requirement`: a switch that is stronger on (`true` → `false` loosens);
 * - `exception`: a switch that is stronger off (`allow_refused: false` → `true` loosens);
 * - `verified`: a list of things verified, stronger as a superset (removing one loosens);
 * - `accepted`: a list of exceptions or accepted answers, stronger as a subset (adding one loosens).
 */
export type Strength = 'higher' | 'lower' | 'requirement' | 'exception' | 'verified' | 'accepted' | readonly string[];

/** The names of a check's `with:` parameters; any string once the registry has erased the schema's type. */
export type ParamName<Params extends z.ZodType> =
  z.input<Params> extends object ? Extract<keyof z.input<Params>, string> : string;

/** Per parameter, which way is stronger (see Strength). Keys must be the check's own parameters. */
export type ParamStrength<Params extends z.ZodType> = { readonly [Name in ParamName<Params>]?: Strength };

export interface CheckMeta<Params extends z.ZodType> {
  /** Stable dotted id, `surface.control`, e.g. `tls.protocols`. */
  id: string;
  /** One sentence: the control this check proves. */
  title: string;
  /** Where the control comes from, e.g. `seed 002, checklist item 3`. */
  source: string;
  /** What to do when the check fails. */
  remediation: string;
  effects: CheckEffect;
  /**
   * How much a failure of this control matters (a checklist entry may override it); reports show it
   * and SARIF maps it to `security-severity`. Every built-in check declares one; DEFAULT_SEVERITY otherwise.
   */
  severity?: Severity;
  /**
   * Schema of the `with:` parameters; must be `.strict()` so unknown keys are errors. Every
   * parameter carries its meaning as `.describe('…')`, which `secgate explain` prints.
   */
  params: Params;
  /**
   * Which way each parameter makes the gate stronger, for the weakening guard. A parameter left
   * out cannot be proven stronger, so any change to it blocks (the guard fails closed).
   */
  strength?: NoInfer<ParamStrength<Params>>;
  /** Why the control matters, for `secgate explain`. */
  rationale?: string;
  /** The control this check proves, as a link into the catalogue: `docs/controls.md#L1`. */
  docs?: string;
  /**
   * Parts of the checklist the check cannot run without, given its
   * parameters. Verified when the checklist loads, so a missing one is an
   * invalid checklist (exit 2, naming the entry), not an error met while
   * probing (exit 3). Every environment variable the check reads must be
   * here (`env:` or `env?:`): `ctx.env` holds nothing else.
   */
  requires?: (params: z.output<Params>) => readonly ChecklistRequirement[];
  /**
   * The client addresses the check binds by itself (outside the run's pool),
   * given its parameters. Before anything runs, the engine asks the service
   * whether any of them is already blocked, and does not start a check whose
   * address is: that is an error naming the address, not a failed control.
   */
  probeAddresses?: (params: z.output<Params>) => readonly (string | null | undefined)[];
  /**
   * The check takes seconds by design (timing samples, a lockout sequence, a command it runs, a whole
   * history): the scheduler starts slow checks first, so that the quick ones fill in around them and the
   * gate ends with its slowest check rather than after it.
   */
  slow?: boolean;
  /**
   * The longest the check may take by its own parameters (a command's `timeout_ms` and the grace to stop it).
   * Without the entry's own `timeout_ms`, the engine's deadline for it is at least this plus a margin, so that
   * the check's own limit, not `settings.check_timeout_ms`, decides; an entry `timeout_ms` below it is
   * refused at load.
   */
  deadlineMs?: (params: z.output<Params>) => number;
}

/**
 * A checklist section or setting a check may need (see CheckMeta.requires);
 * `account:NAME` an account a parameter names (probe_account, no_mfa_account
 * or a name under auth.accounts); `env:NAME` an environment variable a
 * parameter names that must be set (e.g. a test signing key); `env?:NAME` one
 * the check reads when it is set and judges itself when it is not (a secret
 * whose absence is a finding, a variable a command inherits). The env
 * requirements are also the whole of what the check sees in `ctx.env`.
 */
export type ChecklistRequirement =
  | 'database'
  | 'target.http_url'
  | 'auth.probe_account'
  | 'auth.no_mfa_account'
  | 'auth.logout'
  | 'auth.sessions.expire_sql'
  | `account:${string}`
  | `env:${string}`
  | `env?:${string}`;

export interface CheckDefinition<Params extends z.ZodType = z.ZodType> extends CheckMeta<Params> {
  run(ctx: CheckContext, params: z.output<Params>): Promise<CheckOutcome>;
}

/**
 * Gives a check module its types (the ESLint `createRule` idea) and erases its
 * parameter type for the registry. The erasure is sound because the engine
 * always parses `with:` through the check's own `params` schema before `run`.
 */
export function defineCheck<Params extends z.ZodType>(definition: CheckDefinition<Params>): CheckDefinition {
  return definition as unknown as CheckDefinition;
}
