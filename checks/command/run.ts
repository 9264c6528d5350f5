import { z } from 'zod';
import { type CheckContext, type CheckOutcome, defineCheck, type Observation } from '../../src/engine/types.js';
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

export const commandRunParams = z
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
  .strict()
  .refine(...argvWithoutShell);
type CommandRunParams = z.output<typeof commandRunParams>;

/** What the probe saw: the command as shown, and how it ended, or why it was not run. */
export type CommandRunSeen = { problem: string } | (ShownCommand & { ending: CommandEnding });

/** The verdict on how the gate command ended. Pure: exit 0 in time passes, a non-zero exit fails, anything else is an error. */
export function judgeCommandRun(
  seen: CommandRunSeen,
  params: Pick<CommandRunParams, 'name' | 'timeout_ms' | 'cwd'>,
): CheckOutcome {
  if ('problem' in seen) return { status: 'error', summary: `${params.name}: ${seen.problem}`, observations: [] };
  const { ending } = seen;
  const observation: Observation = {
    probe: `${params.name}: ${seen.display}`,
    expected: { exit_code: 0, within_ms: params.timeout_ms },
    actual: {
      exit_code: ending.exitCode ?? null,
      signal: ending.signal ?? null,
      duration_ms: Math.round(ending.durationMs),
      output_bytes: ending.outputBytes,
      output_sha256: ending.outputSha256,
      output_tail: ending.outputTail,
      cwd: params.cwd,
      env_names: seen.envNames,
    },
    ok: ending.exitCode === 0 && !ending.timedOut,
  };
  if (ending.spawnError !== undefined) {
    return {
      status: 'error',
      summary: `${params.name}: could not start ${seen.display}: ${ending.spawnError}`,
      observations: [{ ...observation, ok: false, note: 'the command could not be started' }],
    };
  }
  if (ending.aborted) {
    return {
      status: 'error',
      summary: `${params.name}: cancelled after ${Math.round(ending.durationMs)} ms`,
      observations: [{ ...observation, ok: false, note: 'cancelled by the gate (signal or check timeout)' }],
    };
  }
  if (ending.timedOut) {
    return {
      status: 'error',
      summary: `${params.name}: timed out after ${params.timeout_ms} ms (process group stopped)`,
      observations: [{ ...observation, ok: false, note: `no exit within timeout_ms ${params.timeout_ms}` }],
    };
  }
  if (ending.exitCode !== 0) {
    const how = ending.signal ? `was killed by ${ending.signal}` : `exited with code ${ending.exitCode}`;
    return {
      status: 'fail',
      summary: `${params.name} ${how}`,
      observations: [{ ...observation, note: `${params.name} ${how}; last lines of output attached` }],
    };
  }
  return {
    status: 'pass',
    summary: `${params.name} exited 0 in ${Math.round(ending.durationMs)} ms`,
    observations: [{ ...observation, note: `${params.name} exited 0` }],
  };
}

/** Runs the command with the environment the checklist gives it: everything judgeCommandRun needs. */
export async function probeCommandRun(ctx: CheckContext, params: CommandRunParams): Promise<CommandRunSeen> {
  const built = buildCommandSpec(ctx, params);
  if ('problem' in built) return { problem: built.problem };
  registerEnvSecrets(ctx, params.env);
  const result = await ctx.exec.run(built.spec, {
    timeoutMs: params.timeout_ms,
    graceMs: params.grace_ms,
    signal: ctx.signal,
  });
  return {
    ...shownCommand(built),
    ending: commandEnding(ctx, result),
  };
}

/**
 * Seed 000 item 6, "run all four gates before every deploy": lint, tests,
 * static analysis and the dependency audit are commands the checklist names;
 * each must exit 0. The evidence is the command, exit code, duration, the
 * sha256 of the full output and its redacted last lines. Probing records how
 * the command ended; judgeCommandRun is pure.
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
  params: commandRunParams,
  requires: inheritedEnv,
  strength: { timeout_ms: 'lower' },
  // The command's own limit, then the grace between SIGTERM and SIGKILL.
  deadlineMs: (params) => params.timeout_ms + params.grace_ms,
  async run(ctx, params) {
    return judgeCommandRun(await probeCommandRun(ctx, params), params);
  },
});
