/**
 * `secgate verify --all` / `--target a,b`: several targets of one checklist on
 * one machine, at most `--parallel` at a time. Each target is an ordinary
 * `runVerify` — its own context, its own evidence, its effectful checks
 * serialised as always — so a fleet run proves exactly what the runs one by
 * one would. Each target's report is held back until it finishes and then
 * printed whole, so the reports never interleave; nothing but a summary row
 * is kept after that, so memory does not grow with the number of targets.
 */
import path from 'node:path';
import { allChecks } from '../../checks/index.js';
import { expandAddresses } from '../engine/addresses.js';
import { ChecklistError, type ChecklistProblem } from '../engine/checklist/errors.js';
import { fleetSourceAddresses } from '../engine/checklist/fleet.js';
import { type LoadedChecklist, loadChecklist, loadFleetInventory } from '../engine/checklist/load.js';
import { errorMessageWithCode } from '../engine/errors.js';
import type { Verdict } from '../evidence/types.js';
import { type CliIo, chalkFor, EXIT, type OutputStream, STDIO, UsageError } from './io.js';
import { runVerify, type VerifyOptions } from './verify.js';
import { TARGET_PLACEHOLDER } from './verify-command.js';

/** Stands for the target's name in --out and --report paths. */

export interface FleetVerifyOptions extends Omit<VerifyOptions, 'target'> {
  /** The targets to run, in order; all of the checklist's when `all`. */
  targets: string[];
  all: boolean;
  /** Targets at once (1..64). */
  parallel: number;
}

export interface FleetRow {
  target: string;
  exitCode: number;
  verdict: Verdict | 'invalid';
  durationMs: number;
}

/** Runs the targets; returns the fleet's exit code (1 if any failed, else 3 if any did not pass, else 0). */
export async function runFleetVerify(
  options: FleetVerifyOptions,
  io: CliIo,
): Promise<{ exitCode: number; rows: FleetRow[] }> {
  if (options.checklist === STDIO)
    throw new UsageError('--all and several --target need the checklist as a file, not -c -');
  if (options.json)
    throw new UsageError(
      '--json prints one envelope: with several targets, write them with --out "evidence/{target}.json"',
    );
  const reports = options.report ?? [];
  if (reports.some((spec) => spec.endsWith(`:${STDIO}`))) {
    throw new UsageError('with several targets, reports go to files named with {target}, not to standard output');
  }
  for (const [flag, value] of [
    ['--out', options.out],
    ...reports.map((spec) => ['--report', spec] as const),
  ] as const) {
    if (value !== undefined && !value.includes(TARGET_PLACEHOLDER)) {
      throw new UsageError(
        `${flag} ${value}: with several targets the path must contain {target}, e.g. evidence/{target}.json`,
      );
    }
  }
  const file = path.resolve(io.cwd, options.checklist);
  const inventory = await loadFleetInventory(file);
  const names = options.all ? inventory.targets : options.targets;
  // Every selected target is loaded before any is probed: one invalid target is exit 2 with nothing probed.
  const problems: ChecklistProblem[] = [];
  // Only each target's pool is kept, not its loaded checklist (its parsed YAML): memory stays flat in the targets.
  const pools: TargetPool[] = [];
  for (const target of names) {
    try {
      pools.push(
        targetPool(await loadChecklist(file, { env: io.env, registry: options.registry ?? allChecks, target })),
      );
    } catch (error) {
      if (!(error instanceof ChecklistError)) throw error;
      problems.push(...error.problems);
    }
  }
  problems.push(...sharedAddressProblems(pools));
  if (problems.length > 0) throw new ChecklistError(problems);

  const rows: FleetRow[] = [];
  await forEachAtMost(names, options.parallel, async (target) => {
    const held = heldOutput();
    const started = Date.now();
    let row: FleetRow;
    // Each target's own signal, linked to the invocation's only while it runs: the long-lived
    // Ctrl-C signal never accumulates one dependent per target over a long fleet run.
    const targetRun = new AbortController();
    const forward = () => targetRun.abort(options.signal?.reason);
    if (options.signal?.aborted) forward();
    else options.signal?.addEventListener('abort', forward, { once: true });
    try {
      const outcome = await runVerify(
        {
          ...options,
          signal: targetRun.signal,
          target,
          ...(options.out ? { out: options.out.replaceAll(TARGET_PLACEHOLDER, target) } : {}),
          report: reports.map((spec) => spec.replaceAll(TARGET_PLACEHOLDER, target)),
        },
        { ...io, stdout: held.stdout, stderr: held.stderr },
      );
      row = {
        target,
        exitCode: outcome.exitCode,
        verdict: outcome.statement?.predicate.verdict ?? 'error',
        durationMs: Date.now() - started,
      };
    } catch (error) {
      // Loaded above, so this is the run failing to start (an unreadable CA, a bad pool): not verified.
      held.stderr.write(`secgate: ${target}: ${errorMessageWithCode(error)}\n`);
      row = { target, exitCode: EXIT.couldNotVerify, verdict: 'invalid', durationMs: Date.now() - started };
    }
    options.signal?.removeEventListener('abort', forward);
    io.stdout.write(`\n== target ${target} ==\n`);
    held.replay(io);
    rows.push(row);
  });
  const ordered = names.map((name) => rows.find((row) => row.target === name)).filter((row) => row !== undefined);
  const exitCode = fleetExitCode(ordered.map((row) => row.exitCode));
  for (const line of formatFleetSummary(ordered, exitCode, chalkFor(io.stdout, io.env))) io.stdout.write(`${line}\n`);
  return { exitCode, rows: ordered };
}

/**
 * Targets that run side by side must not share a source address: a service
 * counting failures per address would see two targets' probes as one client
 * (and two targets of one service would block each other). Each pair that
 * overlaps is a problem at the second one's `source_addresses`.
 */
export interface TargetPool {
  name: string;
  addresses: string[];
  /** Where its `source_addresses` are (or would be) written. */
  position: Pick<ChecklistProblem, 'file' | 'line' | 'column'>;
}

/** A loaded target's failure-provoking source addresses, and where they are set. */
export function targetPool(loaded: LoadedChecklist): TargetPool {
  return {
    name: loaded.fleet?.target ?? '',
    addresses: fleetSourceAddresses(loaded.checklist.target, loaded.fleet?.index ?? -1) ?? [],
    position: loaded.locate(['target', 'source_addresses']),
  };
}

export function sharedAddressProblems(pools: readonly TargetPool[]): ChecklistProblem[] {
  const owners = new Map<string, string>();
  const problems: ChecklistProblem[] = [];
  for (const { name, addresses, position } of pools) {
    const shared = new Set<string>();
    for (const address of addresses.flatMap(expandAddresses)) {
      const owner = owners.get(address);
      if (owner !== undefined && owner !== name) shared.add(`${address} (also ${owner}'s)`);
      else owners.set(address, name);
    }
    if (shared.size === 0) continue;
    problems.push({
      ...position,
      keyPath: `targets.${name}.target.source_addresses`,
      message: `shares source addresses with another target run at the same time: ${[...shared].slice(0, 3).join(', ')}${shared.size > 3 ? ` and ${shared.size - 3} more` : ''}; give each target its own, or run them one at a time (--target)`,
    });
  }
  return problems;
}

/** Pure: a failed control anywhere is 1; otherwise anything not passed is 3 (not verified); else 0. */
export function fleetExitCode(codes: readonly number[]): 0 | 1 | 3 {
  if (codes.includes(EXIT.controlFailed)) return 1;
  return codes.every((code) => code === EXIT.passed) ? 0 : 3;
}

function formatFleetSummary(rows: readonly FleetRow[], exitCode: number, chalk: ReturnType<typeof chalkFor>): string[] {
  const width = Math.max(8, ...rows.map((row) => row.target.length)) + 2;
  const lines = ['', `${'target'.padEnd(width)}verdict  exit  seconds`];
  for (const row of rows) {
    lines.push(
      `${row.target.padEnd(width)}${row.verdict.padEnd(9)}${String(row.exitCode).padEnd(6)}${(row.durationMs / 1000).toFixed(1)}`,
    );
  }
  const passed = rows.filter((row) => row.exitCode === 0).length;
  const verdict = `${passed} of ${rows.length} targets passed`;
  lines.push(
    exitCode === 0
      ? chalk.green.bold(`FLEET PASSED: ${verdict}`)
      : chalk.red.bold(`FLEET NOT PASSED: ${verdict} (exit ${exitCode})`),
  );
  return lines;
}

/** Runs `worker` over `items`, at most `limit` at a time, in order of start. */
async function forEachAtMost<T>(items: readonly T[], limit: number, worker: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const lane = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await worker(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, lane));
}

/** Output held back until its target finishes, then written in the order it was produced. */
function heldOutput(): { stdout: OutputStream; stderr: OutputStream; replay(io: CliIo): void } {
  const chunks: { stream: 'stdout' | 'stderr'; text: string }[] = [];
  return {
    stdout: { write: (text: string) => chunks.push({ stream: 'stdout', text }) },
    stderr: { write: (text: string) => chunks.push({ stream: 'stderr', text }) },
    replay(io) {
      for (const chunk of chunks) io[chunk.stream].write(chunk.text);
    },
  };
}
