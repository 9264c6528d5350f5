/**
 * logs.no-credentials: the service never writes credentials to its logs
 * (seed 000, item 4). The check sends unique canary credentials in every place
 * a careless logger picks them up — the Authorization header, a cookie, a
 * password in a JSON body, a token in the query string — then reads what the
 * service logged since, and fails if any canary is there. It first proves it
 * is reading the right log: the probe's own request must appear in it.
 *
 * Two ways a leaking logger looks clean: it writes later (buffered or
 * asynchronous loggers flush after the access line), and it writes a cut
 * credential (the first 30-40 characters of a header). So the check keeps
 * reading until the log has been quiet for `quiet_ms`, and counts any prefix
 * of a canary that carries 8 or more of its random characters as the canary.
 */
import { randomBytes } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { z } from 'zod';
import { errorMessage } from '../../src/engine/errors.js';
import { type CheckContext, defineCheck, type HttpRequestOptions, type Observation } from '../../src/engine/types.js';
import { authMapping } from '../../src/probes/auth-client.js';
import { attemptFailureRequest, attemptRequest, describeFailure, targetUrl } from '../../src/probes/http-attempt.js';

const params = z
  .object({
    /** The service's log file, relative to the checklist's directory. */
    log_file: z.string().min(1).optional(),
    /** Or a command that prints the logs (argv), e.g. [docker, logs, --since, 5m, api]. */
    log_command: z.array(z.string().min(1)).min(1).optional(),
    /**
     * The address the canary requests come from (they are failed logins and bad tokens); unset: addresses
     * from the run's pool (target.source_addresses), so they never count against the gate's own address.
     */
    source_address: z.string().optional(),
    /** The longest the check waits for the log, from the canary requests on. */
    settle_ms: z.number().int().positive().max(120_000).default(10_000),
    /** The log counts as flushed once it has not grown for this long (after the probe's own line appeared). */
    quiet_ms: z.number().int().positive().max(60_000).default(2_000),
  })
  .strict()
  .refine((value) => (value.log_file === undefined) !== (value.log_command === undefined), {
    message: 'expected exactly one of log_file or log_command',
  });

type Params = z.output<typeof params>;

interface Canary {
  kind: string;
  value: string;
}

const CANARY_PREFIX = 'secgate-canary-';

/** A canary is unique to this run, so finding it anywhere can only mean it was logged. */
function canary(label: string): string {
  return `${CANARY_PREFIX}${label}-${randomBytes(12).toString('hex')}`;
}

/**
 * Random characters a cut canary must still carry to count: 8 hex digits are
 * 32 bits, so a log cannot hold them by chance, while a logger that keeps
 * "only the first 30 characters" of a header still leaks this much.
 */
export const MIN_RANDOM_CHARACTERS = 8;

/** The shortest start of `value` that still carries MIN_RANDOM_CHARACTERS of its random tail. */
function shortestLeakingPrefix(value: string): string {
  const randomStart = value.lastIndexOf('-') + 1;
  return value.slice(0, Math.min(value.length, randomStart + MIN_RANDOM_CHARACTERS));
}

/**
 * Where each canary occurs in the log text, as 1-based line numbers (the lines
 * themselves are never copied): whole or cut after enough random characters,
 * raw, URL-encoded or base64-encoded.
 */
export function findCanaries(logText: string, canaries: Canary[]): Map<string, number[]> {
  const found = new Map<string, number[]>();
  const lines = logText.split('\n');
  for (const item of canaries) {
    const prefix = shortestLeakingPrefix(item.value);
    // A base64 prefix is stable only in whole 3-byte groups.
    const base64Prefix = Buffer.from(prefix.slice(0, prefix.length - (prefix.length % 3))).toString('base64');
    const forms = [prefix, encodeURIComponent(prefix), base64Prefix];
    const hits = lines.flatMap((line, index) => (forms.some((form) => line.includes(form)) ? [index + 1] : []));
    if (hits.length > 0) found.set(item.kind, hits);
  }
  return found;
}

interface LogReader {
  describe: string;
  /** Log text written since the reader was created (file) or the whole output (command). */
  read(): Promise<string>;
}

async function openLogReader(ctx: CheckContext, options: Params): Promise<LogReader> {
  if (options.log_file) {
    const file = path.resolve(ctx.baseDir, options.log_file);
    const startSize = (await stat(file)).size;
    return {
      describe: `log file ${options.log_file}`,
      async read() {
        const handle = await open(file, 'r');
        try {
          const { size } = await handle.stat();
          // A rotated (shorter) file is read from its start.
          const from = size < startSize ? 0 : startSize;
          const buffer = Buffer.alloc(Math.min(size - from, 16 * 1024 * 1024));
          await handle.read(buffer, 0, buffer.length, from);
          return buffer.toString('utf8');
        } finally {
          await handle.close();
        }
      },
    };
  }
  const [command, ...args] = options.log_command ?? [];
  if (!command) throw new Error('no log source configured');
  return {
    describe: `log command ${[command, ...args].join(' ')}`,
    async read() {
      const result = await execa(command, args, {
        cwd: ctx.baseDir,
        cancelSignal: ctx.signal,
        timeout: 30_000,
        stripFinalNewline: false,
        maxBuffer: 64 * 1024 * 1024,
      });
      return `${result.stdout}\n${result.stderr}`;
    },
  };
}

export default defineCheck({
  id: 'logs.no-credentials',
  title: 'Credentials sent to the service never appear in its logs',
  source: 'control L1 (docs/controls.md#L1): Credentials are never logged',
  remediation:
    'Log operational context only (request id, method, path without query string, status, duration); never the Authorization header, cookies, request bodies or query strings, and keep diagnose/traceback-locals logging off in production.',
  rationale:
    'Whatever a log captures travels to aggregators and backups and outlives credential rotation; a logged token is a leaked token.',
  effects: 'none',
  severity: 'high',
  params,
  probeAddresses: (options) => [options.source_address],
  async run(ctx, options) {
    let reader: LogReader;
    try {
      reader = await openLogReader(ctx, options);
    } catch (error) {
      const reason = errorMessage(error);
      return {
        status: 'error',
        summary: `cannot read the service's logs: ${ctx.secrets.redact(reason)}`,
        observations: [{ probe: 'open log source', ok: false, note: ctx.secrets.redact(reason) }],
      };
    }

    const marker = canary('marker');
    const canaries: Canary[] = [
      { kind: 'Authorization bearer token', value: canary('bearer') },
      { kind: 'cookie value', value: canary('cookie') },
      { kind: 'password in a JSON body', value: canary('password') },
      { kind: 'token in the query string', value: canary('query') },
    ];
    for (const item of canaries) ctx.secrets.register(item.value);
    const [bearer, cookie, password, query] = canaries.map((item) => item.value);

    const loginPath = authMapping(ctx).login.path;
    const usernameField = authMapping(ctx).login.username_field;
    const passwordField = authMapping(ctx).login.password_field;
    const probePath = `/api/v1/${marker}`;
    const send = (url: URL, request: HttpRequestOptions) =>
      options.source_address
        ? attemptRequest(ctx.http, url, { ...request, localAddress: options.source_address })
        : attemptFailureRequest(ctx, url, request);
    const requests = [
      send(targetUrl(ctx.target.url, `${probePath}?access_token=${query}`), {
        headers: { authorization: `Bearer ${bearer}`, cookie: `session=${cookie}` },
      }),
      send(targetUrl(ctx.target.url, loginPath), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ [usernameField]: `${marker}-user`, [passwordField]: password }),
      }),
    ];
    const attempts = await Promise.all(requests);
    const observations: Observation[] = [];
    for (const [index, attempt] of attempts.entries()) {
      const probe =
        index === 0
          ? `GET ${probePath}?access_token=<canary> with bearer and cookie canaries`
          : `POST ${loginPath} with a canary password`;
      if (attempt.failure) {
        return {
          status: 'error',
          summary: `could not send the canary requests: ${describeFailure(attempt.failure)}`,
          observations: [{ probe, ok: false, actual: { error: describeFailure(attempt.failure) } }],
        };
      }
      observations.push({ probe, actual: { status: attempt.response.status } });
    }

    // Read until the service has logged the probe's own request (proof that this is the right log) and the
    // log has then stopped growing for quiet_ms: a buffered or asynchronous logger writes the rest later.
    const deadline = Date.now() + options.settle_ms;
    let text = '';
    let markerSeen = false;
    let quiet = false;
    let lastLength = -1;
    let lastGrowth = Date.now();
    try {
      while (true) {
        text = await reader.read();
        if (text.length !== lastLength) {
          lastLength = text.length;
          lastGrowth = Date.now();
        }
        markerSeen = text.includes(marker);
        quiet = markerSeen && Date.now() - lastGrowth >= options.quiet_ms;
        if (quiet || Date.now() >= deadline) break;
        await sleep(100, undefined, { signal: ctx.signal });
      }
    } catch (error) {
      const reason = ctx.secrets.redact(errorMessage(error));
      return { status: 'error', summary: `cannot read ${reader.describe}: ${reason}`, observations };
    }
    if (!markerSeen) {
      observations.push({
        probe: `read ${reader.describe}`,
        expected: `a log line for the probe request ${probePath}`,
        actual: `${text.length} characters logged since the probe started, none mentioning it`,
        ok: false,
      });
      return {
        status: 'error',
        summary: `${reader.describe} shows none of the probe's requests within ${options.settle_ms} ms: is it the service's log?`,
        observations,
      };
    }
    observations.push({
      probe: `read ${reader.describe}`,
      expected: `a log line for the probe request ${probePath}`,
      actual: `found among ${text.split('\n').length} lines`,
      ok: true,
      note: quiet
        ? `read until the log had been quiet for ${options.quiet_ms} ms`
        : `the log was still growing when reading stopped after ${options.settle_ms} ms (settle_ms): lines written later were not read`,
    });

    const found = findCanaries(text, canaries);
    for (const item of canaries) {
      const lines = found.get(item.kind);
      observations.push({
        probe: `search ${reader.describe} for the ${item.kind} canary`,
        expected: 'absent',
        actual: lines
          ? `present on ${lines.length} line(s) of the new log output (lines ${lines.slice(0, 5).join(', ')})`
          : 'absent',
        ok: lines === undefined,
        ...(lines ? { note: `the service logged a ${item.kind}` } : {}),
      });
    }
    if (found.size > 0) {
      return {
        status: 'fail',
        summary: `the service logged credentials: ${[...found.keys()].join(', ')}`,
        observations,
      };
    }
    return {
      status: 'pass',
      summary: `none of ${canaries.length} canary credentials appears in ${reader.describe}`,
      observations,
    };
  },
});
