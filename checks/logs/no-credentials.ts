/**
 * logs.no-credentials: the service never writes credentials to its logs
 * (seed 000, item 4). The check sends unique canary credentials in every place
 * a careless logger picks them up — the Authorization header, a cookie, a
 * password in a JSON body, a token in the query string — then reads what the
 * service logged since, and fails if any canary is there. It first proves it
 * is reading the right log: the probe's own request must appear in it.
 *
 * Ways a leaking logger looks clean: it writes later (buffered or
 * asynchronous loggers flush after the access line), and it writes a cut,
 * masked or encoded credential (the first 30 characters of a header, the last
 * 16 of a token, `abcdef...uvwxyz`, base64 of the header value). So, once the canary
 * requests are answered, the check sends a closing request and reads until the
 * service has logged that too: a log is a stream, so whatever a buffered logger
 * queued for the canary requests is written before the closing line. It then
 * reads `grace_ms` longer for lines written out of order (a background task
 * logging after the response), and counts any 8 characters of a canary in one
 * stretch, or both its ends around a cut, as the canary (canary-traces.ts).
 *
 * Waiting for a closing line, not for the log to fall quiet, is what lets the
 * check finish in well under a second on a log that other checks (or real
 * users) keep writing to, and never stop early on a logger that flushes
 * seldom: it waits for the flush, up to `settle_ms`.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../../src/engine/errors.js';
import {
  type CheckContext,
  type CheckOutcome,
  type Clock,
  defineCheck,
  type HttpRequestOptions,
  type Observation,
} from '../../src/engine/types.js';
import { authMapping } from '../../src/probes/auth-client.js';
import { attemptFailureRequest, attemptRequest, describeFailure, targetUrl } from '../../src/probes/http-attempt.js';
import { type Canary, describeTrace, findCanaryTraces, randomCanary } from './canary-traces.js';

const params = z
  .object({
    log_file: z.string().min(1).optional().describe("the service's log file, relative to the checklist's directory"),
    log_command: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('instead of log_file: a command that prints the logs (argv), e.g. [docker, logs, --since, 5m, api]'),
    source_address: z
      .string()
      .optional()
      .describe(
        "the address the canary requests come from (they are failed logins and bad tokens); unset: addresses from the run's pool (target.source_addresses), so they never count against the gate's own address",
      ),
    settle_ms: z
      .number()
      .int()
      .positive()
      .max(120_000)
      .default(10_000)
      .describe("the longest the check waits for the closing request's log line, from the canary requests on"),
    grace_ms: z
      .number()
      .int()
      .nonnegative()
      .max(60_000)
      .default(500)
      .describe(
        'how long the check keeps reading after the closing request was logged, for lines a logger writes out of order (a background task that logs a request after answering it); raise it for such loggers',
      ),
  })
  .strict()
  .refine((value) => (value.log_file === undefined) !== (value.log_command === undefined), {
    message: 'expected exactly one of log_file or log_command',
  });

type Params = z.output<typeof params>;

/** A marker is unique to this run, so a log line holding it is the line for the request that carried it. */
function marker(label: string): string {
  return `secgate-canary-${label}-${randomBytes(12).toString('hex')}`;
}

interface LogReader {
  describe: string;
  /** Log text written since the reader was created (file) or the whole output (command). */
  read(): Promise<string>;
}

async function openLogReader(ctx: CheckContext, options: Params): Promise<LogReader> {
  if (options.log_file) {
    const file = path.resolve(ctx.baseDir, options.log_file);
    const startSize = (await ctx.files.stat(file)).size;
    return {
      describe: `log file ${options.log_file}`,
      async read() {
        const buffer = await ctx.files.readRange(file, (size) => {
          // A rotated (shorter) file is read from its start.
          const from = size < startSize ? 0 : startSize;
          return { start: from, length: Math.min(size - from, 16 * 1024 * 1024) };
        });
        return buffer.toString('utf8');
      },
    };
  }
  const [command, ...args] = options.log_command ?? [];
  if (!command) throw new Error('no log source configured');
  return {
    // The command's name only: its arguments may carry a credential (kubectl --token=…).
    describe: `log command ${command} (${args.length} argument${args.length === 1 ? '' : 's'})`,
    async read() {
      const result = await ctx.exec.output(command, args, {
        cwd: ctx.baseDir,
        // The checklist's own command for its own log infrastructure (docker, kubectl): it runs in the
        // gate's environment, as it would from the operator's shell; the check sees only its output.
        env: 'inherit',
        signal: ctx.signal,
        timeoutMs: 30_000,
        keepFinalNewline: true,
        maxBufferBytes: 64 * 1024 * 1024,
      });
      return `${result.stdout}\n${result.stderr}`;
    },
  };
}

interface LogReading {
  text: string;
  /** The probe's own request was logged: this is the service's log. */
  markerSeen: boolean;
  /** The closing request was logged: everything queued before it has been written. */
  closingSeen: boolean;
}

/** How often the log is read again while waiting for a line. */
const POLL_INTERVAL_MS = 50;

/**
 * Reads until the closing request's line appears (or settle_ms runs out), then
 * keeps reading grace_ms longer; the last text read is what gets judged.
 */
async function readUntilClosingLine(
  reader: LogReader,
  options: { marker: string; closingMarker: string; settle_ms: number; grace_ms: number },
  clock: Clock,
  signal: AbortSignal,
): Promise<LogReading> {
  const deadline = clock.monotonicMs() + options.settle_ms;
  let text = await reader.read();
  while (!text.includes(options.closingMarker) && clock.monotonicMs() < deadline) {
    await clock.sleep(POLL_INTERVAL_MS, signal);
    text = await reader.read();
  }
  const closingSeen = text.includes(options.closingMarker);
  if (closingSeen && options.grace_ms > 0) {
    await clock.sleep(options.grace_ms, signal);
    text = await reader.read();
  }
  return { text, markerSeen: text.includes(options.marker), closingSeen };
}

export default defineCheck({
  id: 'logs.no-credentials',
  title: 'Credentials sent to the service never appear in its logs',
  source: 'control L1 (docs/controls.md#L1): Credentials are never logged',
  docs: 'docs/controls.md#L1',
  remediation:
    'Log operational context only (request id, method, path without query string, status, duration); never the Authorization header, cookies, request bodies or query strings, and keep diagnose/traceback-locals logging off in production.',
  rationale:
    'Whatever a log captures travels to aggregators and backups and outlives credential rotation; a logged token is a leaked token.',
  effects: 'none',
  severity: 'high',
  params,
  probeAddresses: (options) => [options.source_address],
  // Reading longer sees more of what a slow logger writes.
  strength: { settle_ms: 'higher', grace_ms: 'higher' },
  async run(ctx, options) {
    return judgeLogs(await observeLogs(ctx, options), options);
  },
});

/** One request the check sent: the status it got, or why it got none. */
export interface SentRequest {
  probe: string;
  /** The closing request, sent once the canary requests were answered. */
  closing: boolean;
  answer: { status: number } | { error: string };
}

/** What the check saw: the requests it sent, then what the log holds of them. */
export interface LogsSeen {
  /** The log source (`log file …`, `log command … (n arguments)`), or why it could not be opened (redacted). */
  source: { describe: string } | { error: string };
  probePath: string;
  closingPath: string;
  /** The two canary requests (sent together), then the closing one, sent only if both were answered. */
  requests: SentRequest[];
  /** Why the log could not be read (redacted); absent once it was. */
  readError?: string;
  /** The log as last read; absent when it was not read. */
  log?: {
    characters: number;
    lines: number;
    /** The probe's own request was logged: this is the service's log. */
    markerSeen: boolean;
    /** The closing request was logged: everything queued before it has been written. */
    closingSeen: boolean;
  };
  /**
   * Every canary sent, with the log lines it appears on (none: absent) and, in words, what those lines
   * hold of it (which characters, in what form; never the characters).
   */
  canaries: { kind: string; lines: number[]; shapes: string[] }[];
}

/**
 * Sends the canary requests and the closing request, then reads the log until
 * the closing line (or settle_ms). Decides nothing: judgeLogs does.
 */
async function observeLogs(ctx: CheckContext, options: Params): Promise<LogsSeen> {
  const probeMarker = marker('marker');
  const closingMarker = marker('closing');
  const probePath = `/api/v1/${probeMarker}`;
  const closingPath = `/api/v1/${closingMarker}`;
  const canaries: Canary[] = [
    { kind: 'Authorization bearer token', value: randomCanary() },
    { kind: 'cookie value', value: randomCanary() },
    { kind: 'password in a JSON body', value: randomCanary() },
    { kind: 'token in the query string', value: randomCanary() },
  ];
  const seen: LogsSeen = {
    source: { describe: '' },
    probePath,
    closingPath,
    requests: [],
    canaries: canaries.map((item) => ({ kind: item.kind, lines: [], shapes: [] })),
  };
  let reader: LogReader;
  try {
    reader = await openLogReader(ctx, options);
  } catch (error) {
    seen.source = { error: ctx.secrets.redact(errorMessage(error)) };
    return seen;
  }
  seen.source = { describe: reader.describe };

  for (const item of canaries) ctx.secrets.register(item.value);
  const [bearer, cookie, password, query] = canaries.map((item) => item.value);

  const loginPath = authMapping(ctx).login.path;
  const usernameField = authMapping(ctx).login.username_field;
  const passwordField = authMapping(ctx).login.password_field;
  const send = (url: URL, request: HttpRequestOptions) =>
    options.source_address
      ? attemptRequest(ctx.http, url, { ...request, localAddress: options.source_address })
      : attemptFailureRequest(ctx, url, request);
  const answerOf = (attempt: Awaited<ReturnType<typeof send>>): SentRequest['answer'] =>
    attempt.failure ? { error: describeFailure(attempt.failure) } : { status: attempt.response.status };
  const attempts = await Promise.all([
    send(targetUrl(ctx.target.url, `${probePath}?access_token=${query}`), {
      headers: { authorization: `Bearer ${bearer}`, cookie: `session=${cookie}` },
    }),
    send(targetUrl(ctx.target.url, loginPath), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ [usernameField]: `${probeMarker}-user`, [passwordField]: password }),
    }),
  ]);
  seen.requests.push(
    {
      probe: `GET ${probePath}?access_token=<canary> with bearer and cookie canaries`,
      closing: false,
      answer: answerOf(attempts[0]),
    },
    { probe: `POST ${loginPath} with a canary password`, closing: false, answer: answerOf(attempts[1]) },
  );
  if (attempts.some((attempt) => attempt.failure)) return seen;

  // Sent only once the canary requests are answered, shaped like the first one so a logger that keeps
  // some requests keeps this one too; its line marks the point up to which the log has been flushed.
  const closing = await send(targetUrl(ctx.target.url, closingPath), {
    headers: { authorization: `Bearer ${closingMarker}` },
  });
  seen.requests.push({
    probe: `GET ${closingPath} after the canary requests were answered`,
    closing: true,
    answer: answerOf(closing),
  });
  if (closing.failure) return seen;

  let reading: LogReading;
  try {
    reading = await readUntilClosingLine(
      reader,
      { marker: probeMarker, closingMarker, ...options },
      ctx.clock,
      ctx.signal,
    );
  } catch (error) {
    seen.readError = ctx.secrets.redact(errorMessage(error));
    return seen;
  }
  const { text } = reading;
  seen.log = {
    characters: text.length,
    lines: text.split('\n').length,
    markerSeen: reading.markerSeen,
    closingSeen: reading.closingSeen,
  };
  // Only line numbers and shapes leave the log: the lines themselves may hold other users' credentials.
  const found = findCanaryTraces(text, canaries);
  seen.canaries = canaries.map((item) => {
    const traces = found.get(item.kind) ?? [];
    return {
      kind: item.kind,
      lines: traces.map((trace) => trace.line),
      shapes: [...new Set(traces.map((trace) => describeTrace(trace)))],
    };
  });
  return seen;
}

/**
 * The verdict on what the log holds. Pure: the requests sent and what was
 * found of them are its inputs. A log that was not read, or not read up to the
 * closing request, is an error: not seen is not absent.
 */
export function judgeLogs(seen: LogsSeen, options: Pick<Params, 'settle_ms' | 'grace_ms'>): CheckOutcome {
  if ('error' in seen.source) {
    return {
      status: 'error',
      summary: `cannot read the service's logs: ${seen.source.error}`,
      observations: [{ probe: 'open log source', ok: false, note: seen.source.error }],
    };
  }
  const source = seen.source.describe;
  const { probePath, closingPath } = seen;
  const observations: Observation[] = [];
  for (const request of seen.requests) {
    if ('status' in request.answer) {
      observations.push({ probe: request.probe, actual: { status: request.answer.status } });
      continue;
    }
    const failed: Observation = { probe: request.probe, ok: false, actual: { error: request.answer.error } };
    // A canary request that got no answer is the whole story: the other one's answer adds nothing.
    if (!request.closing) {
      return {
        status: 'error',
        summary: `could not send the canary requests: ${request.answer.error}`,
        observations: [failed],
      };
    }
    return {
      status: 'error',
      summary: `could not send the closing request: ${request.answer.error}`,
      observations: [...observations, failed],
    };
  }
  if (seen.readError !== undefined) {
    return { status: 'error', summary: `cannot read ${source}: ${seen.readError}`, observations };
  }
  const { log } = seen;
  if (!log || !seen.requests.some((request) => request.closing)) {
    return { status: 'error', summary: `${source} was not read after the closing request`, observations };
  }
  // A canary found is proof whatever else was missed: the run's own random credential is in the log.
  const canaryObservations: Observation[] = [];
  const leaked: string[] = [];
  for (const { kind, lines, shapes } of seen.canaries) {
    const present = lines.length > 0;
    if (present) leaked.push(kind);
    const held = shapes.length > 0 ? `: ${shapes.slice(0, 3).join('; ')}` : '';
    canaryObservations.push({
      probe: `search ${source} for the ${kind} canary`,
      expected: 'absent',
      actual: present
        ? `present on ${lines.length} line(s) of the new log output (lines ${lines.slice(0, 5).join(', ')})${held}`
        : 'absent',
      ok: !present,
      ...(present ? { note: `the service logged a ${kind}` } : {}),
    });
  }
  if (leaked.length > 0) {
    return {
      status: 'fail',
      summary: `the service logged credentials: ${leaked.join(', ')}`,
      observations: [...observations, ...canaryObservations],
    };
  }
  const readProbe = `read ${source}`;
  if (!log.markerSeen) {
    observations.push({
      probe: readProbe,
      expected: `a log line for the probe request ${probePath}`,
      actual: `${log.characters} characters logged since the probe started, none mentioning it`,
      ok: false,
    });
    return {
      status: 'error',
      summary: `${source} shows none of the probe's requests within ${options.settle_ms} ms: is it the service's log?`,
      observations,
    };
  }
  if (!log.closingSeen) {
    // Lines a buffered logger still holds for the canary requests were not read: not seen is not absent.
    observations.push({
      probe: readProbe,
      expected: `log lines for the probe request ${probePath} and then for the closing request ${closingPath}`,
      actual: `the probe request's line, but no line for the closing request within ${options.settle_ms} ms`,
      ok: false,
    });
    return {
      status: 'error',
      summary: `${source} did not log the closing request within ${options.settle_ms} ms (settle_ms): whatever the service had not yet written was not read`,
      observations,
    };
  }
  observations.push({
    probe: readProbe,
    expected: `log lines for the probe request ${probePath} and the closing request ${closingPath}`,
    actual: `both found among ${log.lines} lines`,
    ok: true,
    note: `read until the closing request was logged, then ${options.grace_ms} ms more (grace_ms) for lines written out of order`,
  });
  observations.push(...canaryObservations);

  if (seen.canaries.length === 0) return { status: 'error', summary: 'no canary was sent', observations };
  return {
    status: 'pass',
    summary: `none of ${seen.canaries.length} canary credentials appears in ${source}`,
    observations,
  };
}
