/**
 * Parameters shared by command.run and command.runbook: what to run, where,
 * with which environment. The child's environment is exactly `env` plus the
 * `inherit_env` variables that are set in the gate's environment, nothing
 * else: PATH, HOME, LANG and TMPDIR by default, because a lint or a test
 * suite needs them to find its programs. The `inherit_env` names are the
 * check's `env?:` requirements, so they are what its ctx.env holds.
 */
import path from 'node:path';
import { z } from 'zod';
import type { CheckContext, ChecklistRequirement } from '../../src/engine/types.js';
import { type CommandResult, type CommandSpec, lastLines } from '../../src/probes/process.js';

export const commandParams = {
  command: z
    .union([z.array(z.string().min(1)).min(1), z.string().min(1)])
    .describe('what to run: an argv list, or a string run through /bin/sh with shell: true'),
  shell: z
    .boolean()
    .default(false)
    .describe('run `command` (a string) through /bin/sh; not allowed with an argv array, which never needs a shell'),
  cwd: z.string().default('.').describe('working directory relative to the repository'),
  env: z.record(z.string(), z.string()).default({}).describe('explicit environment for the command'),
  inherit_env: z
    .array(z.string())
    .default(['PATH', 'HOME', 'LANG', 'TMPDIR'])
    .describe("variables copied from the gate's environment when set there (PATH is needed to find programs)"),
};

/** How long a stopped command gets between SIGTERM and SIGKILL. */
export const gracePeriodParam = z
  .number()
  .int()
  .positive()
  .max(60_000)
  .default(5_000)
  .describe('time between SIGTERM and SIGKILL when the command (and everything it started) is stopped');

/**
 * An argv array with `shell: true` is refused at load: the shell would get the array joined with spaces,
 * its quoting lost (`["sh", "-c", "exit 1"]` ran as `sh -c exit 1`, which exits 0), while the evidence
 * shows the quoted argv. Applied with `.refine` to both checks' params, so it is a checklist error (exit 2).
 */
export const argvWithoutShell: [
  (params: { command: string[] | string; shell: boolean }) => boolean,
  { message: string; path: PropertyKey[] },
] = [
  (params: { command: string[] | string; shell: boolean }): boolean => !(params.shell && Array.isArray(params.command)),
  {
    message:
      'shell: true needs command as one string; an argv array runs without a shell (its words would be joined and lose their quoting): drop shell: true, or write command as a string',
    path: ['shell'],
  },
];

export interface CommandParamValues {
  command: string[] | string;
  shell: boolean;
  cwd: string;
  env: Record<string, string>;
  inherit_env: string[];
}

/** The variables the child may inherit, declared so that the engine hands them to the check (when set). */
export function inheritedEnv(params: Pick<CommandParamValues, 'inherit_env'>): ChecklistRequirement[] {
  return params.inherit_env.map((name) => `env?:${name}` as const);
}

export type SpecResult = { spec: CommandSpec; display: string } | { problem: string };

export function buildCommandSpec(ctx: CheckContext, params: CommandParamValues): SpecResult {
  if (typeof params.command === 'string' && !params.shell) {
    return { problem: 'command is a string: pass an argv array, or set shell: true to run it through /bin/sh' };
  }
  const cwd = path.resolve(ctx.repoDir, params.cwd);
  const relative = path.relative(ctx.repoDir, cwd);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    return { problem: `cwd ${params.cwd} is outside the repository` };
  }
  const env: Record<string, string> = {};
  for (const name of params.inherit_env) {
    const value = ctx.env[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, params.env);
  const display = typeof params.command === 'string' ? params.command : params.command.map(quoteArgument).join(' ');
  return { spec: { command: params.command, shell: params.shell, cwd, env }, display: ctx.secrets.redact(display) };
}

function quoteArgument(argument: string): string {
  return /^[\w@%+=:,./-]+$/.test(argument) ? argument : `'${argument.replace(/'/g, `'\\''`)}'`;
}

/** Values given in `env` are treated as secrets: scrubbed from every output tail. */
export function registerEnvSecrets(ctx: CheckContext, env: Record<string, string>): void {
  for (const value of Object.values(env)) ctx.secrets.register(value);
}

/** How many lines of a command's output the evidence keeps. */
const TAIL_LINES = 20;

/**
 * How a command ended, as plain data for a judge: the probe's result with its output only as a hash,
 * a size and the last lines, and those lines and any spawn error scrubbed of secrets.
 */
export type CommandEnding = Omit<CommandResult, 'killed'>;

/** The command as a judge shows it: its line (secrets scrubbed) and the names, never the values, of its variables. */
export interface ShownCommand {
  display: string;
  envNames: string[];
}

export function shownCommand(built: { spec: CommandSpec; display: string }): ShownCommand {
  return { display: built.display, envNames: Object.keys(built.spec.env).sort() };
}

export function commandEnding(ctx: CheckContext, result: CommandResult): CommandEnding {
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    aborted: result.aborted,
    spawnError: result.spawnError === undefined ? undefined : ctx.secrets.redact(result.spawnError),
    durationMs: result.durationMs,
    outputBytes: result.outputBytes,
    outputSha256: result.outputSha256,
    outputTail: ctx.secrets.redact(lastLines(result.outputTail, TAIL_LINES)),
  };
}
