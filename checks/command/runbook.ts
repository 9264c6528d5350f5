import { z } from 'zod';
import { type CheckContext, type CheckOutcome, defineCheck, type Observation } from '../../src/engine/types.js';
import type { StopResult } from '../../src/probes/process.js';
import {
  argvWithoutShell,
  buildCommandSpec,
  type CommandEnding,
  commandEnding,
  commandParams,
  gracePeriodParam,
  inheritedEnv,
  registerEnvSecrets,
  type ShownCommand,
  shownCommand,
} from './command-spec.js';

/** ECONNREFUSED, TimeoutError…: the short name of why a health probe got no answer. */
function describeProbeError(error: unknown): string {
  const withCause = error as { cause?: { code?: unknown }; code?: unknown; name?: unknown };
  for (const candidate of [withCause.cause?.code, withCause.code]) {
    if (typeof candidate === 'string') return candidate;
  }
  if (error instanceof Error) return error.name === 'Error' ? error.message : error.name;
  return String(error);
}

export const runbookParams = z
  .object({
    name: z.string().min(1).default('runbook').describe('what the runbook is called in the report'),
    ...commandParams,
    health_url: z.string().min(1).describe('absolute URL, or a path resolved against the target URL'),
    expect_status: z
      .number()
      .int()
      .min(100)
      .max(599)
      .default(200)
      .describe('the status health_url must answer once the service is up'),
    startup_timeout_ms: z
      .number()
      .int()
      .positive()
      .max(600_000)
      .default(30_000)
      .describe('how long the service may take to answer health_url'),
    poll_interval_ms: z
      .number()
      .int()
      .positive()
      .max(10_000)
      .default(250)
      .describe('time between two requests to health_url while the service starts'),
    grace_ms: gracePeriodParam,
  })
  .strict()
  .refine(...argvWithoutShell);
type RunbookParams = z.output<typeof runbookParams>;

/** How long the check looks for a leftover instance answering health_url before it starts the command. */
function leftoverLookMs(params: Pick<RunbookParams, 'startup_timeout_ms'>): number {
  return Math.min(2_000, params.startup_timeout_ms);
}

/** What the probe saw: the start, the health polls and the stop, or why the runbook was not started. */
export type RunbookSeen =
  | { problem: string }
  | (ShownCommand & {
      pid: number | undefined;
      healthUrl: string;
      health: {
        attempts: number;
        /** The last answer (`HTTP 503`) or, without any, why there was none (`ECONNREFUSED`). */
        last: string;
        /** When health_url first answered expect_status, counted from the start; undefined if it never did. */
        healthyAfterMs: number | undefined;
        /**
         * The command exited by itself before the gate stopped it: while the service was waited for,
         * or after health_url answered (then what answered was not the command's service).
         */
        exitedEarly: boolean;
      };
      stop: StopResult;
      ending: CommandEnding;
      /** The gate was cancelled (signal or check timeout) while the runbook ran. */
      cancelled: boolean;
    });

/** `exited with code 3` or `was killed by SIGKILL`: how a command that ended by itself ended. */
function howItEnded(ending: CommandEnding): string {
  return ending.signal ? `was killed by ${ending.signal}` : `exited with code ${ending.exitCode}`;
}

/** The last line the command wrote (already scrubbed of secrets), cut short for a summary. */
function lastOutputLine(ending: CommandEnding): string {
  const line = ending.outputTail.trimEnd().split('\n').pop()?.trim() ?? '';
  if (line === '') return 'no output';
  return `last output: ${line.length > 200 ? `${line.slice(0, 200)}…` : line}`;
}

/**
 * The verdict on the runbook. Pure: healthy within the startup timeout while the command still ran,
 * then stopped by SIGTERM, passes. A command that exited by itself fails whatever its code: before
 * health_url answered it never came up, after it something else answered. A start that failed or a
 * cancelled gate is an error.
 */
export function judgeRunbook(
  seen: RunbookSeen,
  params: Pick<
    RunbookParams,
    'name' | 'cwd' | 'expect_status' | 'startup_timeout_ms' | 'poll_interval_ms' | 'grace_ms'
  >,
): CheckOutcome {
  if ('problem' in seen) return { status: 'error', summary: `${params.name}: ${seen.problem}`, observations: [] };
  const { health, stop, ending, healthUrl } = seen;
  const { healthyAfterMs } = health;
  const ownExit =
    healthyAfterMs === undefined
      ? `${params.name} ${howItEnded(ending)} before ${healthUrl} answered ${params.expect_status}`
      : `${params.name} ${howItEnded(ending)} before the gate stopped it; what answered ${healthUrl} ` +
        `${params.expect_status} was not its service (${lastOutputLine(ending)})`;
  const observations: Observation[] = [
    {
      probe: `${params.name}: start ${seen.display}`,
      actual: { pid: seen.pid ?? null, cwd: params.cwd, env_names: seen.envNames },
      note: 'started in its own process group',
    },
    {
      probe: `GET ${healthUrl} (every ${params.poll_interval_ms} ms)`,
      expected: { status: params.expect_status, within_ms: params.startup_timeout_ms },
      actual: {
        attempts: health.attempts,
        last: health.last,
        healthy_after_ms: healthyAfterMs === undefined ? null : Math.round(healthyAfterMs),
      },
      ok: healthyAfterMs !== undefined,
      note:
        healthyAfterMs !== undefined
          ? `${healthUrl} answered ${params.expect_status} after ${Math.round(healthyAfterMs)} ms`
          : health.exitedEarly
            ? ownExit
            : `${healthUrl} did not answer ${params.expect_status} within ${params.startup_timeout_ms} ms (last: ${health.last})`,
    },
  ];
  const cleanStop = stop.stoppedBy !== 'sigkill' && !stop.survivors;
  observations.push({
    probe: `${params.name}: stop process group (SIGTERM, SIGKILL after ${params.grace_ms} ms)`,
    expected: 'the whole tree exits on SIGTERM within grace_ms',
    actual: {
      stopped_by: stop.stoppedBy,
      survivors: stop.survivors,
      stop_ms: Math.round(stop.durationMs),
      exit_code: ending.exitCode ?? null,
      signal: ending.signal ?? null,
      output_sha256: ending.outputSha256,
      output_tail: ending.outputTail,
    },
    // A command that was gone before the gate stopped it proves nothing about stopping, and its own
    // exit (any code, or a signal the gate did not send) is a failure, never a clean stop.
    ok: !health.exitedEarly && cleanStop,
    note: health.exitedEarly
      ? ownExit
      : stop.survivors
        ? `processes of ${params.name} survived SIGKILL`
        : stop.stoppedBy === 'sigkill'
          ? `${params.name} did not stop on SIGTERM within ${params.grace_ms} ms; SIGKILL was needed`
          : `${params.name} stopped (${stop.stoppedBy})`,
  });

  if (ending.spawnError !== undefined) {
    return {
      status: 'error',
      summary: `${params.name}: could not start ${seen.display}: ${ending.spawnError}`,
      observations,
    };
  }
  if (seen.cancelled) return { status: 'error', summary: `${params.name}: cancelled`, observations };
  const failing = observations.filter((observation) => observation.ok === false);
  if (failing.length > 0) {
    // An early exit is named by both the health poll and the stop: say it once.
    const notes = new Set(failing.map((observation) => observation.note));
    return { status: 'fail', summary: [...notes].join('; '), observations };
  }
  return {
    status: 'pass',
    summary: `${params.name} healthy after ${Math.round(healthyAfterMs ?? 0)} ms and stopped cleanly on SIGTERM`,
    observations,
  };
}

/** One GET of health_url: the status it answered, or why there was no answer (`ECONNREFUSED`). */
async function pollHealth(
  ctx: CheckContext,
  healthUrl: URL,
  timeoutMs: number,
): Promise<{ status: number } | { noAnswer: string }> {
  try {
    const response = await ctx.http.request(healthUrl, { timeoutMs });
    return { status: response.status };
  } catch (error) {
    return { noAnswer: describeProbeError(error) };
  }
}

/** Starts the runbook, polls its health URL until it answers or time runs out, then stops it: everything judgeRunbook needs. */
export async function probeRunbook(ctx: CheckContext, params: RunbookParams): Promise<RunbookSeen> {
  const built = buildCommandSpec(ctx, params);
  if ('problem' in built) return { problem: built.problem };
  registerEnvSecrets(ctx, params.env);
  let healthUrl: URL;
  try {
    healthUrl = new URL(params.health_url, ctx.target.url);
  } catch {
    return { problem: `health_url ${params.health_url} is not a URL` };
  }

  // Whatever answers expect_status before the command starts is not its service: a leftover from an earlier
  // run would pass the health poll while the new start dies on EADDRINUSE. Another answer (a proxy's 502 until
  // its backend is up) cannot pass the poll, so it is only the starting point.
  const before = await pollHealth(ctx, healthUrl, leftoverLookMs(params));
  if ('status' in before && before.status === params.expect_status) {
    return {
      problem:
        `something already answers ${healthUrl.href} (HTTP ${before.status}) before the runbook's command ` +
        'started: stop it or choose other ports',
    };
  }

  const running = await ctx.exec.start(built.spec);
  const started = ctx.clock.monotonicMs();
  const deadline = started + params.startup_timeout_ms;
  let attempts = 0;
  let lastSeen = 'no answer yet';
  let answered = false;
  let healthyAfterMs: number | undefined;
  while (ctx.clock.monotonicMs() < deadline && !ctx.signal.aborted && !running.hasExited()) {
    attempts++;
    const remaining = Math.max(1, Math.floor(Math.min(2_000, deadline - ctx.clock.monotonicMs())));
    const seen = await pollHealth(ctx, healthUrl, remaining);
    if ('status' in seen) {
      lastSeen = `HTTP ${seen.status}`;
      answered = true;
      if (seen.status === params.expect_status) {
        healthyAfterMs = ctx.clock.monotonicMs() - started;
        break;
      }
    } else if (!answered) {
      // An HTTP answer seen earlier is better evidence than the timeout of the final attempt.
      lastSeen = seen.noAnswer;
    }
    await ctx.clock.sleep(params.poll_interval_ms, ctx.signal).catch(() => {});
  }
  const exitedBeforeStop = running.hasExited();
  const stop = await running.stop(params.grace_ms);
  // `exited` from stop: the group was already gone, though the exit had not reached us yet.
  const exitedEarly = exitedBeforeStop || stop.stoppedBy === 'exited';
  const result = await running.exited;
  return {
    ...shownCommand(built),
    pid: running.pid,
    healthUrl: healthUrl.href,
    health: { attempts, last: lastSeen, healthyAfterMs, exitedEarly },
    stop,
    ending: commandEnding(ctx, result),
    cancelled: ctx.signal.aborted,
  };
}

/**
 * Seed 002 item 14, "the service starts cleanly from a documented
 * procedure": the runbook's start command brings the service up, its health
 * URL answers within the startup timeout, and the whole process tree stops on
 * SIGTERM (SIGKILL is the fallback, and needing it is a failure). Probing
 * records the start, the health polls and the stop; judgeRunbook is pure.
 */
export default defineCheck({
  id: 'command.runbook',
  title: "The runbook's start command brings the service up healthy and it stops cleanly on SIGTERM",
  source: 'control O2 (docs/controls.md#O2): The service starts from its written runbook',
  docs: 'docs/controls.md#O2',
  remediation:
    'Make the documented start command self-sufficient (migrations, config from the environment), expose a health ' +
    'endpoint, and handle SIGTERM by closing listeners and exiting within the grace period.',
  effects: 'runs-commands',
  slow: true,
  severity: 'low',
  params: runbookParams,
  requires: inheritedEnv,
  strength: { startup_timeout_ms: 'lower' },
  // The look for a leftover instance, the start, then the grace between SIGTERM and SIGKILL.
  deadlineMs: (params) => leftoverLookMs(params) + params.startup_timeout_ms + params.grace_ms,
  async run(ctx, params) {
    return judgeRunbook(await probeRunbook(ctx, params), params);
  },
});
