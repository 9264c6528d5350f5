import { z } from 'zod';
import { defineCheck, type Observation } from '../../src/engine/types.js';
import { lastLines } from '../../src/probes/process.js';
import { buildCommandSpec, commandParams, gracePeriodParam, inheritedEnv, registerEnvSecrets } from './command-spec.js';

const TAIL_LINES = 20;

/** ECONNREFUSED, TimeoutError…: the short name of why a health probe got no answer. */
function describeProbeError(error: unknown): string {
  const withCause = error as { cause?: { code?: unknown }; code?: unknown; name?: unknown };
  for (const candidate of [withCause.cause?.code, withCause.code]) {
    if (typeof candidate === 'string') return candidate;
  }
  if (error instanceof Error) return error.name === 'Error' ? error.message : error.name;
  return String(error);
}

/**
 * Seed 002 item 14, "the service starts cleanly from a documented
 * procedure": the runbook's start command brings the service up, its health
 * URL answers within the startup timeout, and the whole process tree stops on
 * SIGTERM (SIGKILL is the fallback, and needing it is a failure).
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
  params: z
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
    .strict(),
  requires: inheritedEnv,
  strength: { startup_timeout_ms: 'lower' },
  async run(ctx, params) {
    const built = buildCommandSpec(ctx, params);
    if ('problem' in built) return { status: 'error', summary: `${params.name}: ${built.problem}`, observations: [] };
    registerEnvSecrets(ctx, params.env);
    let healthUrl: URL;
    try {
      healthUrl = new URL(params.health_url, ctx.target.url);
    } catch {
      return {
        status: 'error',
        summary: `${params.name}: health_url ${params.health_url} is not a URL`,
        observations: [],
      };
    }

    const observations: Observation[] = [];
    const running = await ctx.exec.start(built.spec);
    const started = performance.now();
    const deadline = started + params.startup_timeout_ms;
    let attempts = 0;
    let lastSeen = 'no answer yet';
    let healthyAfterMs: number | undefined;
    while (performance.now() < deadline && !ctx.signal.aborted && !running.hasExited()) {
      attempts++;
      try {
        const remaining = Math.max(1, Math.floor(Math.min(2_000, deadline - performance.now())));
        const response = await ctx.http.request(healthUrl, { timeoutMs: remaining });
        lastSeen = `HTTP ${response.status}`;
        if (response.status === params.expect_status) {
          healthyAfterMs = performance.now() - started;
          break;
        }
      } catch (error) {
        // An HTTP answer seen earlier is better evidence than the timeout of the final attempt.
        if (!lastSeen.startsWith('HTTP')) lastSeen = describeProbeError(error);
      }
      await new Promise((resolve) => setTimeout(resolve, params.poll_interval_ms));
    }
    const exitedEarly = running.hasExited();
    const stop = await running.stop(params.grace_ms);
    const result = await running.exited;
    const tail = ctx.secrets.redact(lastLines(result.outputTail, TAIL_LINES));

    observations.push({
      probe: `${params.name}: start ${built.display}`,
      actual: { pid: running.pid ?? null, cwd: params.cwd, env_names: Object.keys(built.spec.env).sort() },
      note: 'started in its own process group',
    });
    observations.push({
      probe: `GET ${healthUrl.href} (every ${params.poll_interval_ms} ms)`,
      expected: { status: params.expect_status, within_ms: params.startup_timeout_ms },
      actual: {
        attempts,
        last: lastSeen,
        healthy_after_ms: healthyAfterMs === undefined ? null : Math.round(healthyAfterMs),
      },
      ok: healthyAfterMs !== undefined,
      note:
        healthyAfterMs !== undefined
          ? `${healthUrl.href} answered ${params.expect_status} after ${Math.round(healthyAfterMs)} ms`
          : exitedEarly
            ? `${params.name} exited with code ${result.exitCode ?? result.signal} before ${healthUrl.href} answered ${params.expect_status}`
            : `${healthUrl.href} did not answer ${params.expect_status} within ${params.startup_timeout_ms} ms (last: ${lastSeen})`,
    });
    const cleanStop = stop.stoppedBy !== 'sigkill' && !stop.survivors;
    observations.push({
      probe: `${params.name}: stop process group (SIGTERM, SIGKILL after ${params.grace_ms} ms)`,
      expected: 'the whole tree exits on SIGTERM within grace_ms',
      actual: {
        stopped_by: stop.stoppedBy,
        survivors: stop.survivors,
        stop_ms: Math.round(stop.durationMs),
        exit_code: result.exitCode ?? null,
        signal: result.signal ?? null,
        output_sha256: result.outputSha256,
        output_tail: tail,
      },
      ok: exitedEarly || cleanStop,
      note: stop.survivors
        ? `processes of ${params.name} survived SIGKILL`
        : stop.stoppedBy === 'sigkill'
          ? `${params.name} did not stop on SIGTERM within ${params.grace_ms} ms; SIGKILL was needed`
          : `${params.name} stopped (${stop.stoppedBy})`,
    });

    if (result.spawnError !== undefined) {
      return {
        status: 'error',
        summary: `${params.name}: could not start ${built.display}: ${result.spawnError}`,
        observations,
      };
    }
    if (ctx.signal.aborted) return { status: 'error', summary: `${params.name}: cancelled`, observations };
    const failing = observations.filter((observation) => observation.ok === false);
    if (failing.length > 0) {
      return { status: 'fail', summary: failing.map((observation) => observation.note).join('; '), observations };
    }
    return {
      status: 'pass',
      summary: `${params.name} healthy after ${Math.round(healthyAfterMs ?? 0)} ms and stopped cleanly on SIGTERM`,
      observations,
    };
  },
});
