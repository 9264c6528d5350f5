import { z } from 'zod';
import { type CheckContext, type CheckOutcome, defineCheck, type Observation } from '../../src/engine/types.js';
import type { StopResult } from '../../src/probes/process.js';
import {
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
  .strict();
type RunbookParams = z.output<typeof runbookParams>;

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
        /** The command exited by itself while the service was still being waited for. */
        exitedEarly: boolean;
      };
      stop: StopResult;
      ending: CommandEnding;
      /** The gate was cancelled (signal or check timeout) while the runbook ran. */
      cancelled: boolean;
    });

/**
 * The verdict on the runbook. Pure: healthy within the startup timeout and stopped by SIGTERM
 * (or gone by itself) passes; a start that failed or a cancelled gate is an error.
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
            ? `${params.name} exited with code ${ending.exitCode ?? ending.signal} before ${healthUrl} answered ${params.expect_status}`
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
    ok: health.exitedEarly || cleanStop,
    note: stop.survivors
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
    return { status: 'fail', summary: failing.map((observation) => observation.note).join('; '), observations };
  }
  return {
    status: 'pass',
    summary: `${params.name} healthy after ${Math.round(healthyAfterMs ?? 0)} ms and stopped cleanly on SIGTERM`,
    observations,
  };
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

  const running = await ctx.exec.start(built.spec);
  const started = ctx.clock.monotonicMs();
  const deadline = started + params.startup_timeout_ms;
  let attempts = 0;
  let lastSeen = 'no answer yet';
  let healthyAfterMs: number | undefined;
  while (ctx.clock.monotonicMs() < deadline && !ctx.signal.aborted && !running.hasExited()) {
    attempts++;
    try {
      const remaining = Math.max(1, Math.floor(Math.min(2_000, deadline - ctx.clock.monotonicMs())));
      const response = await ctx.http.request(healthUrl, { timeoutMs: remaining });
      lastSeen = `HTTP ${response.status}`;
      if (response.status === params.expect_status) {
        healthyAfterMs = ctx.clock.monotonicMs() - started;
        break;
      }
    } catch (error) {
      // An HTTP answer seen earlier is better evidence than the timeout of the final attempt.
      if (!lastSeen.startsWith('HTTP')) lastSeen = describeProbeError(error);
    }
    await ctx.clock.sleep(params.poll_interval_ms, ctx.signal).catch(() => {});
  }
  const exitedEarly = running.hasExited();
  const stop = await running.stop(params.grace_ms);
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
  async run(ctx, params) {
    return judgeRunbook(await probeRunbook(ctx, params), params);
  },
});
