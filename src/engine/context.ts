/**
 * Builds the CheckContext: the only door through which a check reaches the
 * network, the database, files, processes, git, the environment and the clock.
 * The engine builds one per run from the checklist; tests build one directly
 * from options, with the same real I/O (context-io.ts). `env` here is what the
 * gate may hand out; each check sees only its declared part (check-env.ts).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpProbeOptions } from '../probes/http.js';
import { type AuthConfig, authSchema, TARGET_DEFAULTS, type TargetConfig } from './checklist/schema.js';
import { createCheckIo } from './context-io.js';
import { createSecretRedactor } from './secrets.js';
import { createSourceAddressPool, poolAddresses } from './source-addresses.js';
import type { CheckContext, DatabaseProbe, HttpProbe, SecretRedactor } from './types.js';

export interface ContextOptions {
  target: Partial<TargetConfig> & { url: string; caPem?: string };
  repoDir?: string;
  baseDir?: string;
  databaseUrl?: string | undefined;
  /** Raw auth section (defaults are applied here, as the checklist loader does). */
  auth?: unknown;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  now?: () => Date;
  secrets?: SecretRedactor;
}

export interface OpenContext {
  context: CheckContext;
  /** Closes sockets and database pools. Safe to call twice. */
  close(): Promise<void>;
}

export async function openCheckContext(options: ContextOptions): Promise<OpenContext> {
  const baseDir = path.resolve(options.baseDir ?? process.cwd());
  const timeoutMs = options.target.timeout_ms ?? TARGET_DEFAULTS.timeout_ms;
  const caFile = options.target.ca_file ? path.resolve(baseDir, options.target.ca_file) : undefined;
  const caPem = options.target.caPem ?? (caFile ? await readFile(caFile, 'utf8') : undefined);
  const signal = options.signal ?? new AbortController().signal;
  const http = lazyHttpProbe({ caPem, timeoutMs, signal });
  const db = options.databaseUrl ? lazyPostgresProbe(options.databaseUrl, timeoutMs) : undefined;
  const auth: AuthConfig | undefined = options.auth === undefined ? undefined : authSchema.parse(options.auth);
  const secrets = options.secrets ?? createSecretRedactor();
  registerConfigSecrets(secrets, auth, [options.databaseUrl, options.target.url, options.target.http_url]);

  const target = {
    url: options.target.url,
    http_url: options.target.http_url,
    ca_file: caFile,
    timeout_ms: timeoutMs,
    source_addresses: options.target.source_addresses,
    max_failures_per_address: options.target.max_failures_per_address ?? TARGET_DEFAULTS.max_failures_per_address,
    health_path: options.target.health_path ?? TARGET_DEFAULTS.health_path,
    caPem,
  };
  const context: CheckContext = {
    target,
    addresses: createSourceAddressPool({
      addresses: poolAddresses(target),
      maxFailuresPerAddress: target.max_failures_per_address,
      http,
      targetUrl: target.url,
      healthPath: target.health_path,
      db,
      auth,
    }),
    repoDir: path.resolve(baseDir, options.repoDir ?? '.'),
    baseDir,
    db,
    database: options.databaseUrl ? { url: options.databaseUrl } : undefined,
    auth,
    http,
    clock: {
      now: options.now ?? (() => new Date()),
      monotonicMs: () => performance.now(),
      sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}),
    },
    signal,
    secrets,
    env: Object.freeze({ ...(options.env ?? {}) }),
    ...createCheckIo(baseDir),
  };
  let closed = false;
  return {
    context,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([http.close(), db?.close()]);
    },
  };
}

/**
 * The HTTP and database clients (undici, pg) are imported at the first request or query, not when the
 * context opens: a gate of TLS or repository checks never loads them (start-up is most of a small gate's time).
 */
function lazyHttpProbe(options: HttpProbeOptions): HttpProbe & { close(): Promise<void> } {
  const client = lazyClient(async () => (await import('../probes/http.js')).createHttpProbe(options));
  return {
    request: async (url, requestOptions) => (await client.open()).request(url, requestOptions),
    close: client.close,
  };
}

function lazyPostgresProbe(connectionString: string, timeoutMs: number): DatabaseProbe & { close(): Promise<void> } {
  const client = lazyClient(async () =>
    (await import('../probes/postgres.js')).createPostgresProbe(connectionString, timeoutMs),
  );
  return { query: async (sql, params) => (await client.open()).query(sql, params), close: client.close };
}

/**
 * A client made at its first use. close() closes one being made too, and a use after close() is refused:
 * a check still running when the context closes must not open sockets or a pool that nothing closes.
 */
function lazyClient<Client extends { close(): Promise<void> }>(create: () => Promise<Client>) {
  let client: Promise<Client> | undefined;
  let closed = false;
  return {
    open(): Promise<Client> {
      if (closed) return Promise.reject(new Error('the check context is closed'));
      client ??= create();
      return client;
    },
    async close(): Promise<void> {
      closed = true;
      if (client) await (await client).close();
    },
  };
}

/** Every credential the checklist hands to the gate is scrubbed from its output. */
function registerConfigSecrets(
  secrets: SecretRedactor,
  auth: AuthConfig | undefined,
  urls: readonly (string | undefined)[],
): void {
  for (const account of [auth?.probe_account, auth?.no_mfa_account, ...Object.values(auth?.accounts ?? {})]) {
    if (!account) continue;
    secrets.register(account.password);
    if (account.totp_secret) secrets.register(account.totp_secret);
  }
  for (const url of urls) {
    for (const credential of urlCredentials(url)) secrets.register(credential);
  }
}

/**
 * The password of a URL, as written and decoded. A user name is not registered (it is often an
 * ordinary word such as `postgres`); the redactor scrubs every URL's userinfo wherever a URL is
 * shown, which covers a token passed as `https://TOKEN@host`.
 */
function urlCredentials(url: string | undefined): string[] {
  if (!url) return [];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The schema already checked the URL; one that does not parse has no credential to pick out.
    return [];
  }
  const credential = parsed.password;
  if (!credential) return [];
  const decoded = safeDecode(credential);
  return decoded === credential ? [credential] : [credential, decoded];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
