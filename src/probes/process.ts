/**
 * Process probe: runs a command in its own process group so that the whole
 * tree (a shell and everything it started) can be stopped: SIGTERM first,
 * SIGKILL after a grace period. Output is streamed into a sha256 and a bounded
 * tail, so a chatty test suite never fills memory.
 */
import { createHash } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import type { CommandResult, CommandSpec, RunningCommand, RunOptions, StopResult } from '../engine/observations.js';

// The contract owns these types (src/engine/observations.ts); re-exported for this module's importers.
export type { CommandResult, CommandSpec, RunningCommand, RunOptions, StopResult } from '../engine/observations.js';

const DEFAULT_TAIL_BYTES = 16 * 1024;

/** Whether any process in the group still exists. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForGroupExit(pid: number, withinMs: number): Promise<boolean> {
  const deadline = performance.now() + withinMs;
  while (performance.now() < deadline) {
    if (!groupAlive(pid)) return true;
    await sleep(25);
  }
  return !groupAlive(pid);
}

export function startCommand(spec: CommandSpec, options: { tailBytes?: number } = {}): RunningCommand {
  const started = performance.now();
  const tailLimit = options.tailBytes ?? DEFAULT_TAIL_BYTES;
  const hash = createHash('sha256');
  let tail = Buffer.alloc(0);
  let outputBytes = 0;
  let killed = false;
  let exited = false;
  const common = {
    cwd: spec.cwd,
    env: spec.env,
    extendEnv: false,
    // Own process group, so the whole tree can be signalled at once.
    detached: true,
    all: true,
    buffer: false,
    reject: false,
    stdin: 'ignore',
  } as const;
  const child: ResultPromise<typeof common> =
    typeof spec.command === 'string'
      ? execa(spec.command, { ...common, shell: spec.shell ? '/bin/sh' : false })
      : // An argv array never goes through a shell (the contract): execa would join it with spaces and
        // lose its quoting, so `sh -c 'exit 1'` would run as `sh -c exit 1`.
        execa(spec.command[0] ?? '', spec.command.slice(1), { ...common, shell: false });

  const drained = (async () => {
    if (!child.all) return;
    for await (const chunk of child.all as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(`${chunk}\n`) : chunk;
      hash.update(buffer);
      outputBytes += buffer.length;
      tail = Buffer.concat([tail, buffer]);
      if (tail.length > tailLimit) tail = tail.subarray(tail.length - tailLimit);
    }
  })().catch(() => {});

  const exitedPromise = (async (): Promise<CommandResult> => {
    const result = await child;
    exited = true;
    await drained;
    const failed = result as unknown as { code?: string; originalMessage?: string };
    const spawnError =
      result.exitCode === undefined && result.signal === undefined
        ? (failed.originalMessage ?? failed.code ?? 'could not start')
        : undefined;
    return {
      exitCode: result.exitCode,
      signal: result.signal,
      timedOut: false,
      aborted: false,
      spawnError,
      durationMs: performance.now() - started,
      outputBytes,
      outputSha256: hash.copy().digest('hex'),
      outputTail: tail.toString('utf8'),
      killed,
    };
  })();

  return {
    pid: child.pid,
    exited: exitedPromise,
    hasExited: () => exited,
    async stop(graceMs) {
      const stopStarted = performance.now();
      const pid = child.pid;
      if (pid === undefined) return { stoppedBy: 'exited', survivors: false, durationMs: 0 };
      if (!groupAlive(pid)) {
        await exitedPromise;
        return { stoppedBy: 'exited', survivors: false, durationMs: performance.now() - stopStarted };
      }
      signalGroup(pid, 'SIGTERM');
      let stoppedBy: StopResult['stoppedBy'] = 'sigterm';
      if (!(await waitForGroupExit(pid, graceMs))) {
        killed = true;
        stoppedBy = 'sigkill';
        signalGroup(pid, 'SIGKILL');
      }
      const gone = await waitForGroupExit(pid, 2_000);
      await exitedPromise;
      return { stoppedBy, survivors: !gone, durationMs: performance.now() - stopStarted };
    },
  };
}

/** Runs a command to completion, stopping the whole group on timeout or abort. */
export async function runCommand(spec: CommandSpec, options: RunOptions): Promise<CommandResult> {
  const running = startCommand(spec, options.tailBytes === undefined ? {} : { tailBytes: options.tailBytes });
  const graceMs = options.graceMs ?? 2_000;
  let reason: 'timeout' | 'abort' | undefined;
  let onAbort: (() => void) | undefined;
  const interrupted = new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      reason = 'timeout';
      resolve();
    }, options.timeoutMs);
    onAbort = () => {
      reason = 'abort';
      resolve();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    void running.exited.finally(() => clearTimeout(timer));
  });
  await Promise.race([running.exited, interrupted]);
  if (onAbort) options.signal?.removeEventListener('abort', onAbort);
  if (reason !== undefined && !running.hasExited()) {
    await running.stop(graceMs);
    const result = await running.exited;
    return { ...result, timedOut: reason === 'timeout', aborted: reason === 'abort' };
  }
  // The main process exited; stop any children it left behind in its group.
  if (running.pid !== undefined && groupAlive(running.pid)) await running.stop(graceMs);
  return running.exited;
}

/** The last `lines` lines of a text, for evidence. */
export function lastLines(text: string, lines: number): string {
  const all = text.replace(/\n$/, '').split('\n');
  return all.slice(-lines).join('\n');
}
