/**
 * The whole default gate against the reference deployment, measured as ratios from the evidence itself
 * (issue 19), so that a loaded machine does not move the goal:
 *
 * - gate wall time (the predicate's startedAt → finishedAt) against its slowest single check (durationMs);
 * - `secgate verify` process wall time (spawn → exit, as an operator waits) against the gate's own time;
 * - the absolute numbers, for an idle machine.
 *
 * One deployment (`startDemoDeployment`, what `npm run demo` starts), then `--runs` gates in a row against it:
 * every run must pass, which also proves two runs in a row both pass.
 *
 *   npm run build && tsc -p tsconfig.bench.json && node dist/bench/full-gate.js --runs 7 [--alone 3] [--out bench/results/full-gate.md]
 *
 * `--alone N` also runs every check by itself N times (`--only <id> --allow-partial`): its own duration and CPU,
 * split between the verify process, the service and PostgreSQL: where the gate's CPU goes, check by check.
 *
 * (`npm run build` first: the gates run bin/secgate, i.e. the bundle in dist/cli, which tsc alone leaves as it was.)
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { startDemoDeployment } from '../src/cli/demo.js';
import { PACKAGE_ROOT } from '../src/cli/package-info.js';

interface CheckTiming {
  id: string;
  status: string;
  durationMs: number;
}

interface RunMeasurement {
  exitCode: number;
  verdict: string;
  processMs: number;
  gateMs: number;
  checks: CheckTiming[];
  cpu?: CpuSeconds;
}

/** CPU seconds one gate cost, by who spent them (Linux /proc; absent elsewhere). */
interface CpuSeconds {
  /** The `secgate verify` process and every process it ran (lint, runbook), once they have exited. */
  verify: number;
  /** This process: the reference service runs in it (its password hashing above all). */
  service: number;
  /** The embedded PostgreSQL this process started: the postmaster and its backends, live and exited (0 with DATABASE_URL's server). */
  database: number;
}

/** Linux reports CPU time in clock ticks; 100 per second on every kernel Node supports here. */
const TICKS_PER_SECOND = 100;

/** [utime + stime, cutime + cstime, ppid] of a process, in seconds; undefined when it is gone or not Linux. */
async function procTimes(pid: number | 'self'): Promise<{ own: number; children: number; ppid: number } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: the fields after its last ')' are plain.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const tick = (index: number) => Number(fields[index - 3]) / TICKS_PER_SECOND;
    return { own: tick(14) + tick(15), children: tick(16) + tick(17), ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** CPU seconds of a process tree: each process's own time, plus what its reaped children spent. */
async function treeCpuSeconds(rootPid: number, parents: Map<number, number>): Promise<number> {
  const root = await procTimes(rootPid);
  if (!root) return 0;
  let total = root.own + root.children;
  for (const [pid, ppid] of parents) if (ppid === rootPid) total += await treeCpuSeconds(pid, parents);
  return total;
}

/** Every live process's parent, to find the database server's tree. */
async function parentsOfAll(): Promise<Map<number, number>> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue;
    const times = await procTimes(Number(entry));
    if (times) parents.set(Number(entry), times.ppid);
  }
  return parents;
}

/** A snapshot to subtract: this process, its reaped children, and the PostgreSQL trees it started. */
async function cpuSnapshot(): Promise<CpuSeconds | undefined> {
  const self = await procTimes('self');
  if (!self) return undefined;
  const parents = await parentsOfAll();
  let database = 0;
  // Between two gates the only live children are the embedded PostgreSQL's (a shell that holds the postmaster).
  for (const [pid, ppid] of parents) if (ppid === process.pid) database += await treeCpuSeconds(pid, parents);
  return { verify: self.children, service: self.own, database };
}

function cpuSpent(before: CpuSeconds | undefined, after: CpuSeconds | undefined): CpuSeconds | undefined {
  if (!before || !after) return undefined;
  return {
    verify: after.verify - before.verify,
    service: after.service - before.service,
    database: after.database - before.database,
  };
}

const cpuTotal = (cpu: CpuSeconds) => cpu.verify + cpu.service + cpu.database;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const ratio = (value: number) => value.toFixed(2);

/** The signed predicate's timing: the run's bounds and every check's own duration. */
async function readEvidence(evidencePath: string): Promise<Omit<RunMeasurement, 'exitCode' | 'processMs'>> {
  const envelope = JSON.parse(await readFile(evidencePath, 'utf8')) as { payload: string };
  const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
    predicate: { startedAt: string; finishedAt: string; verdict: string; checks: CheckTiming[] };
  };
  const { predicate } = statement;
  return {
    verdict: predicate.verdict,
    gateMs: Date.parse(predicate.finishedAt) - Date.parse(predicate.startedAt),
    checks: predicate.checks.map(({ id, status, durationMs }) => ({ id, status, durationMs })),
  };
}

/**
 * Where the CPU went: a gate cannot end sooner than its CPU seconds spread over every core, whatever the
 * schedule, so this is the floor its wall time is held against.
 */
function cpuLines(measurements: readonly RunMeasurement[]): string[] {
  const withCpu = measurements.flatMap((measurement, index) =>
    measurement.cpu ? [{ run: index + 1, cpu: measurement.cpu, gateMs: measurement.gateMs }] : [],
  );
  if (withCpu.length === 0) return ['CPU time: not measured (no /proc on this system).', ''];
  const cores = availableParallelism();
  const floor = (cpu: CpuSeconds) => cpuTotal(cpu) / cores;
  const cpuSeconds = (value: number) => value.toFixed(2);
  return [
    `CPU seconds per run (from /proc), and the floor they set on ${cores} cores (total ÷ cores):`,
    '',
    '| run | verify and its commands | service (password hashing) | PostgreSQL | total | floor s | gate ÷ floor |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...withCpu.map(
      ({ run, cpu, gateMs }) =>
        `| ${run} | ${cpuSeconds(cpu.verify)} | ${cpuSeconds(cpu.service)} | ${cpuSeconds(cpu.database)} | ${cpuSeconds(cpuTotal(cpu))} | ${cpuSeconds(floor(cpu))} | ${ratio(gateMs / 1000 / floor(cpu))} |`,
    ),
    '',
    `Median: ${cpuSeconds(median(withCpu.map(({ cpu }) => cpuTotal(cpu))))} CPU-s, floor ${cpuSeconds(median(withCpu.map(({ cpu }) => floor(cpu))))} s.`,
    '',
  ];
}

type Deployment = Awaited<ReturnType<typeof startDemoDeployment>>;

/** One gate of `secgate verify` with extra arguments: wall time, evidence, CPU by who spent it. */
async function runGate(deployment: Deployment, extraArgs: readonly string[]): Promise<RunMeasurement> {
  const cpuBefore = await cpuSnapshot();
  const started = process.hrtime.bigint();
  const gate = await execa(process.execPath, [...deployment.verifyArgs, ...extraArgs], {
    cwd: PACKAGE_ROOT,
    reject: false,
    env: deployment.verifyEnv,
    extendEnv: false,
  });
  const processMs = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = cpuSpent(cpuBefore, await cpuSnapshot());
  const evidence = await readEvidence(deployment.evidencePath);
  if (gate.exitCode !== 0) process.stderr.write(`${gate.stdout}\n${gate.stderr}\n`);
  return { exitCode: gate.exitCode ?? 3, processMs, ...evidence, ...(cpu ? { cpu } : {}) };
}

/**
 * Each check by itself, `rounds` times: where the gate's CPU goes, check by check (the whole gate runs at its
 * CPU floor, so only less work per check makes it faster). Median of the rounds.
 */
async function measureAlone(deployment: Deployment, rounds: number, checks: readonly CheckTiming[]): Promise<string[]> {
  if (!(rounds > 0)) return [];
  const rows: string[] = [];
  for (const { id } of checks) {
    if (id === 'secgate.cleanup') continue;
    const samples: RunMeasurement[] = [];
    for (let round = 0; round < rounds; round++)
      samples.push(await runGate(deployment, ['--only', id, '--allow-partial']));
    const own = (sample: RunMeasurement) => sample.checks.find((check) => check.id === id);
    const pick = (get: (sample: RunMeasurement) => number) => median(samples.map(get)).toFixed(2);
    rows.push(
      `| \`${id}\` | ${samples.map((sample) => own(sample)?.status ?? '?').join(' ')} | ${pick((sample) => (own(sample)?.durationMs ?? Number.NaN) / 1000)} | ${pick((sample) => sample.processMs / 1000)} | ${pick((sample) => sample.cpu?.verify ?? Number.NaN)} | ${pick((sample) => sample.cpu?.service ?? Number.NaN)} | ${pick((sample) => sample.cpu?.database ?? Number.NaN)} | ${pick((sample) => (sample.cpu ? cpuTotal(sample.cpu) : Number.NaN))} |`,
    );
    process.stderr.write(`  alone: ${id}\n`);
  }
  return [
    `Each check by itself (\`--only <id> --allow-partial\`, median of ${rounds}): its own duration, the verify process's`,
    'wall time, and CPU seconds by who spent them (the verify column includes start-up, about 0.2 CPU-s a process).',
    '',
    '| check | statuses | check s | process s | verify CPU-s | service CPU-s | PostgreSQL CPU-s | total CPU-s |',
    '|:---|:---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '7' },
      /** Passed to verify as --concurrency (default: the checklist's settings.concurrency). */
      concurrency: { type: 'string' },
      out: { type: 'string', default: path.join(PACKAGE_ROOT, 'bench', 'results', 'full-gate.md') },
      /** Also run every check by itself (`--only <id> --allow-partial`) this many times: its own wall time and CPU. */
      alone: { type: 'string', default: '0' },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  const loadBefore = loadavg();
  const deployment = await startDemoDeployment();
  const measurements: RunMeasurement[] = [];
  let aloneRows: string[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      const measurement = await runGate(deployment, values.concurrency ? ['--concurrency', values.concurrency] : []);
      measurements.push(measurement);
      process.stderr.write(
        `  run ${run}/${runs}: exit ${measurement.exitCode}, gate ${seconds(measurement.gateMs)} s\n`,
      );
    }
    aloneRows = await measureAlone(deployment, Number(values.alone), measurements[0]?.checks ?? []);
  } finally {
    await deployment.stop();
  }
  const loadAfter = loadavg();

  const rows = measurements.map((measurement, index) => {
    const timed = measurement.checks.filter((check) => check.id !== 'secgate.cleanup');
    const slowest = timed.reduce((a, b) => (b.durationMs > a.durationMs ? b : a));
    const next = [...timed].sort((a, b) => b.durationMs - a.durationMs).slice(1, 3);
    return {
      run: index + 1,
      measurement,
      slowest,
      next,
      gateOverSlowest: measurement.gateMs / slowest.durationMs,
      processOverGate: measurement.processMs / measurement.gateMs,
    };
  });
  const medianOf = (pick: (row: (typeof rows)[number]) => number) => median(rows.map(pick));
  const slowestCounts = new Map<string, number>();
  for (const row of rows) slowestCounts.set(row.slowest.id, (slowestCounts.get(row.slowest.id) ?? 0) + 1);
  const checkCount = measurements[0]?.checks.length ?? 0;
  const allPassed = measurements.every((measurement) => measurement.exitCode === 0 && measurement.verdict === 'pass');

  const lines = [
    '# The whole default gate against the reference deployment',
    '',
    `Produced by \`npm run build && tsc -p tsconfig.bench.json && node dist/bench/full-gate.js --runs ${runs}${values.concurrency ? ` --concurrency ${values.concurrency}` : ''}${Number(values.alone) > 0 ? ` --alone ${values.alone}` : ''}\` on ${new Date().toISOString()}.`,
    '',
    `Machine: 2 cores, Node ${process.version}; load average ${loadBefore.map((load) => load.toFixed(1)).join(' / ')} before, ${loadAfter.map((load) => load.toFixed(1)).join(' / ')} after.`,
    '',
    'One reference deployment (what `npm run demo` starts: the reference service on an embedded PostgreSQL, probe',
    `accounts provisioned), then ${runs} runs of \`secgate verify\` with the default checklist.yaml (${checkCount} checks) in a row,`,
    "each a separate process as an operator runs it. From each run's signed evidence: the gate time (`startedAt` →",
    "`finishedAt`) and every check's `durationMs`; around the process: its wall time from spawn to exit (start-up,",
    'checklist loading, pre-flight, signing and writing the evidence included). `secgate.cleanup` is not a check of',
    'the service and is left out of "slowest".',
    '',
    '| run | verdict | verify process s | gate s | slowest check | its s | next slowest | gate ÷ slowest | process ÷ gate |',
    '|---:|:---|---:|---:|:---|---:|:---|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.run} | ${row.measurement.verdict} (exit ${row.measurement.exitCode}) | ${seconds(row.measurement.processMs)} | ${seconds(row.measurement.gateMs)} | \`${row.slowest.id}\` | ${seconds(row.slowest.durationMs)} | ${row.next.map((check) => `\`${check.id}\` ${seconds(check.durationMs)}`).join(', ')} | ${ratio(row.gateOverSlowest)} | ${ratio(row.processOverGate)} |`,
    ),
    '',
    `Medians over ${runs} runs: verify process ${seconds(medianOf((row) => row.measurement.processMs))} s, gate ${seconds(medianOf((row) => row.measurement.gateMs))} s, slowest check ${seconds(medianOf((row) => row.slowest.durationMs))} s (${[...slowestCounts].map(([id, count]) => `\`${id}\` in ${count}`).join(', ')}).`,
    '',
    ...cpuLines(measurements),
    ...aloneRows,
    '| goal (issue 19) | measured (median) | met |',
    '|:---|---:|:---|',
    `| gate ≤ 1.3 × its slowest check | ${ratio(medianOf((row) => row.gateOverSlowest))} × | ${medianOf((row) => row.gateOverSlowest) <= 1.3 ? 'yes' : '**no**'} |`,
    `| slowest check ≤ 1 s | ${seconds(medianOf((row) => row.slowest.durationMs))} s | ${medianOf((row) => row.slowest.durationMs) <= 1000 ? 'yes' : '**no**'} |`,
    `| verify process ≤ 1.2 × the gate | ${ratio(medianOf((row) => row.processOverGate))} × | ${medianOf((row) => row.processOverGate) <= 1.2 ? 'yes' : '**no**'} |`,
    `| gate ≤ 2.5 s (idle machine) | ${seconds(medianOf((row) => row.measurement.gateMs))} s | ${medianOf((row) => row.measurement.gateMs) <= 2500 ? 'yes' : '**no**'}${loadBefore[0] !== undefined && loadBefore[0] > 1.5 ? ' (the machine was not idle)' : ''} |`,
    `| every run passes | ${measurements.filter((measurement) => measurement.exitCode === 0).length} of ${runs} | ${allPassed ? 'yes' : '**no**'} |`,
    '',
  ];
  const text = `${lines.join('\n')}\n`;
  await writeFile(values.out, text);
  process.stdout.write(text);
  process.stderr.write(`written to ${values.out}\n`);
  if (!allPassed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`full-gate bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
