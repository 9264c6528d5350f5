/** The process edges a command may use, injectable so commands are testable in-process. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Chalk, type ChalkInstance } from 'chalk';

/** Where a command writes text. Node's process streams fit, and so does any test sink. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  /** What `-` reads (`-c -`, `evidence verify -`); absent in tests that never read it. */
  stdin?: NodeJS.ReadableStream;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

/**
 * A stream whose reader may go away (`secgate verify | head -n1`). A closed
 * pipe is the reader's choice, never the gate's verdict: from then on writes
 * are dropped, and the run goes on to clean up, write its evidence and exit
 * with the verdict's code. Any other write error is still thrown.
 */
export function toleratingClosedPipe(stream: NodeJS.WriteStream): OutputStream {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') {
      closed = true;
      return;
    }
    throw error;
  });
  return {
    get isTTY() {
      return stream.isTTY;
    },
    write: (text: string) => (closed ? false : stream.write(text)),
  };
}

export function processIo(): CliIo {
  return {
    stdout: toleratingClosedPipe(process.stdout),
    stderr: toleratingClosedPipe(process.stderr),
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
}

/** The argument `-`: standard input or output, wherever a file is expected. */
export const STDIO = '-';

/**
 * How many colours a stream gets. Decided per stream, so a redirected stdout
 * gets no escape sequences while stderr is a terminal. `FORCE_COLOR` wins
 * (as in Node itself: 0/false off, 1/true/empty basic, 2 = 256, 3 = truecolor),
 * then `NO_COLOR` (any non-empty value), `TERM=dumb` and `CI=true` turn it off;
 * otherwise a terminal gets basic colour and anything else none.
 */
export function colorLevel(stream: OutputStream, env: CliIo['env']): 0 | 1 | 2 | 3 {
  const forced = env.FORCE_COLOR;
  if (forced !== undefined) {
    if (forced === '0' || forced === 'false') return 0;
    if (forced === '2') return 2;
    if (forced === '3') return 3;
    return 1;
  }
  if (env.NO_COLOR) return 0;
  if (env.TERM === 'dumb' || env.CI === 'true') return 0;
  return stream.isTTY ? 1 : 0;
}

export function chalkFor(stream: OutputStream, env: CliIo['env']): ChalkInstance {
  return new Chalk({ level: colorLevel(stream, env) });
}

/**
 * Reads a file argument, or standard input for `-`. From standard input at most
 * `maxBytes` are read, so a caller can tell "too large" without holding it all.
 */
export async function readInput(io: CliIo, file: string, maxBytes = Number.POSITIVE_INFINITY): Promise<Buffer> {
  if (file !== STDIO) return readFile(path.resolve(io.cwd, file));
  if (!io.stdin) throw new Error('standard input is not available');
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of io.stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(bytes);
    length += bytes.length;
    if (length >= maxBytes) break;
  }
  return Buffer.concat(chunks);
}

/** Exit codes, as DESIGN.md defines them. */
export const EXIT = {
  passed: 0,
  controlFailed: 1,
  invalidInvocation: 2,
  couldNotVerify: 3,
} as const;

/** An invocation problem: reported on stderr, exit 2, nothing probed. */
export class UsageError extends Error {
  override name = 'UsageError';
}
