import { z } from 'zod';
import { defineCheck } from '../../src/engine/types.js';
import { lastLines } from '../../src/probes/process.js';
import { buildCommandSpec, commandParams, gracePeriodParam, inheritedEnv, registerEnvSecrets } from './command-spec.js';

const TAIL_LINES = 20;

/**
 * Seed 000 item 6, "run all four gates before every deploy": lint, tests,
 * static analysis and the dependency audit are commands the checklist names;
 * each must exit 0. The evidence is the command, exit code, duration, the
 * sha256 of the full output and its redacted last lines.
 */
export default defineCheck({
  id: 'command.run',
  title: 'A named gate command (lint, tests, static analysis, dependency audit) runs and exits 0',
  source: 'control O1 (docs/controls.md#O1): The gates run before every deploy',
  docs: 'docs/controls.md#O1',
  remediation:
    'Run the command locally, fix what it reports (or the cause of the timeout), and keep it as a required gate.',
  effects: 'runs-commands',
  slow: true,
  severity: 'medium',
  params: z
    .object({
      name: z.string().min(1).describe('what the gate is, e.g. `npm audit` or `bandit`; shown in the report'),
      ...commandParams,
      timeout_ms: z
        .number()
        .int()
        .positive()
        .max(3_600_000)
        .default(300_000)
        .describe('a command still running after this long is stopped, and the check is an error'),
      grace_ms: gracePeriodParam,
    })
    .strict(),
  requires: inheritedEnv,
  strength: { timeout_ms: 'lower' },
  async run(ctx, params) {
    const built = buildCommandSpec(ctx, params);
    if ('problem' in built) {
      return { status: 'error', summary: `${params.name}: ${built.problem}`, observations: [] };
    }
    registerEnvSecrets(ctx, params.env);
    const result = await ctx.exec.run(built.spec, {
      timeoutMs: params.timeout_ms,
      graceMs: params.grace_ms,
      signal: ctx.signal,
    });
    const tail = ctx.secrets.redact(lastLines(result.outputTail, TAIL_LINES));
    const observation = {
      probe: `${params.name}: ${built.display}`,
      expected: { exit_code: 0, within_ms: params.timeout_ms },
      actual: {
        exit_code: result.exitCode ?? null,
        signal: result.signal ?? null,
        duration_ms: Math.round(result.durationMs),
        output_bytes: result.outputBytes,
        output_sha256: result.outputSha256,
        output_tail: tail,
        cwd: params.cwd,
        env_names: Object.keys(built.spec.env).sort(),
      },
      ok: result.exitCode === 0 && !result.timedOut,
    };
    if (result.spawnError !== undefined) {
      return {
        status: 'error',
        summary: `${params.name}: could not start ${built.display}: ${ctx.secrets.redact(result.spawnError)}`,
        observations: [{ ...observation, ok: false, note: 'the command could not be started' }],
      };
    }
    if (result.aborted) {
      return {
        status: 'error',
        summary: `${params.name}: cancelled after ${Math.round(result.durationMs)} ms`,
        observations: [{ ...observation, ok: false, note: 'cancelled by the gate (signal or check timeout)' }],
      };
    }
    if (result.timedOut) {
      return {
        status: 'error',
        summary: `${params.name}: timed out after ${params.timeout_ms} ms (process group stopped)`,
        observations: [{ ...observation, ok: false, note: `no exit within timeout_ms ${params.timeout_ms}` }],
      };
    }
    if (result.exitCode !== 0) {
      const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
      return {
        status: 'fail',
        summary: `${params.name} ${how}`,
        observations: [{ ...observation, note: `${params.name} ${how}; last lines of output attached` }],
      };
    }
    return {
      status: 'pass',
      summary: `${params.name} exited 0 in ${Math.round(result.durationMs)} ms`,
      observations: [{ ...observation, note: `${params.name} exited 0` }],
    };
  },
});
