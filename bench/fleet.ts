/**
 * Bench (not a test): one checklist gating a fleet of local targets, four ways
 * in the same run, so the ratios compare like with like on the same machine
 * load:
 *
 *   1. sequential: one `secgate verify --target T` process per target, one
 *      after another (what a plain shell loop does);
 *   2. `secgate verify --all --parallel P` in one process, P = 1, 4, 8;
 *   3. `secgate plan --shards 4`, the 4 shards as 4 concurrent processes
 *      (`verify --target a,b,…`), then `secgate evidence aggregate` over all
 *      the evidence — the CI matrix, on one machine;
 *   4. memory: the peak RSS of `--all --parallel 4` over half the targets and
 *      over all of them (it must stay flat in the number of targets).
 *
 * Targets: light HTTPS fixture servers (fixtures/http, the well-configured
 * one) and a few reference-service instances, all on loopback, every one
 * gated by the same network checks (TLS certificate, status, headers,
 * redirect, documentation paths, CORS). Every run signs its evidence.
 *
 * Build and run (bench/ has its own build, tsconfig.bench.json):
 *
 *   npm run build && npx tsc -p tsconfig.bench.json   (build first: the fleet runs bin/secgate, the bundle in dist/cli)
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node dist/bench/fleet.js --targets 50 --references 3 --record
 *
 * `--targets N` (default 50) counts every target, `--references R` (default
 * 3) how many of them are reference-service instances (they need
 * DATABASE_URL, or start embedded PostgreSQL each). `--record` writes
 * bench/results/fleet.md; `--memory-only` runs only the two `--all --parallel 4`
 * runs (all targets, half of them).
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { startHttpFixture } from '../fixtures/http/servers.js';
import { startReferenceTarget } from '../test/support/reference-service.js';

// Compiled by `tsc -p tsconfig.bench.json` to dist/bench/fleet.js.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/secgate');
const RESULTS = path.join(ROOT, 'bench/results/fleet.md');

interface Handle {
  url: string;
  httpUrl: string;
  caPem: string;
  close(): Promise<void>;
}

interface Measure {
  name: string;
  targets: number;
  wallMs: number;
  /** Peak resident set of the (largest) secgate process, KiB. */
  peakRssKiB: number;
  exitCode: number;
}

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} takes a whole number`);
  return value;
}

/** Runs secgate under /usr/bin/time for its peak RSS; returns wall time too. */
async function secgate(
  cwd: string,
  args: string[],
): Promise<{ wallMs: number; peakRssKiB: number; exitCode: number; output: string }> {
  const started = performance.now();
  const result = await execa('/usr/bin/time', ['-f', 'peak-rss-kib=%M', 'node', BIN, ...args], {
    cwd,
    reject: false,
    env: { CI: 'true' },
    extendEnv: true,
  });
  const wallMs = performance.now() - started;
  const peak = /peak-rss-kib=(\d+)/.exec(result.stderr)?.[1];
  return {
    wallMs,
    peakRssKiB: Number(peak ?? 0),
    exitCode: result.exitCode ?? -1,
    output: `${result.stdout}\n${result.stderr}`,
  };
}

async function startTargets(count: number, references: number): Promise<Handle[]> {
  const handles: Handle[] = [];
  for (let index = 0; index < count; index++) {
    if (index < references) {
      const reference = await startReferenceTarget();
      handles.push({
        url: reference.context.target.url,
        httpUrl: reference.context.target.http_url ?? '',
        caPem: reference.context.target.caPem ?? '',
        close: () => reference.close(),
      });
    } else {
      const fixture = await startHttpFixture();
      const target = fixture.context.target;
      handles.push({
        url: target.url,
        httpUrl: target.http_url ?? '',
        caPem: target.caPem ?? '',
        close: () => fixture.close(),
      });
    }
  }
  return handles;
}

const CHECKS = `checks:
  - check: tls.certificate
  - check: http.status
    with: { path: /health, status: 200 }
  - check: http.headers
  - check: http.redirect
  - check: http.docs-disabled
  - check: http.cors
`;

async function writeFleet(directory: string, handles: readonly Handle[]): Promise<string[]> {
  const names = handles.map((_, index) => `t${String(index + 1).padStart(2, '0')}`);
  const caFiles = new Map<string, string>();
  const lines = ['version: 1', 'targets:'];
  for (const [index, handle] of handles.entries()) {
    let caFile = caFiles.get(handle.caPem);
    if (!caFile) {
      caFile = `ca-${caFiles.size + 1}.crt`;
      caFiles.set(handle.caPem, caFile);
      await writeFile(path.join(directory, caFile), handle.caPem);
    }
    lines.push(
      `  ${names[index]}:`,
      `    target: { url: "${handle.url}", http_url: "${handle.httpUrl}", ca_file: ${caFile} }`,
    );
  }
  await writeFile(path.join(directory, 'inventory.yaml'), `${lines.join('\n')}\n`);
  await writeFile(
    path.join(directory, 'checklist.yaml'),
    `version: 1\ntarget:\n  timeout_ms: 20000\nsettings:\n  check_timeout_ms: 120000\n${CHECKS}inventory: inventory.yaml\n`,
  );
  await writeFile(
    path.join(directory, 'half.yaml'),
    `version: 1\ntarget:\n  timeout_ms: 20000\nsettings:\n  check_timeout_ms: 120000\n${CHECKS}inventory: inventory-half.yaml\n`,
  );
  const half = Math.ceil(handles.length / 2);
  const halfLines = lines.slice(0, 2 + half * 2);
  await writeFile(path.join(directory, 'inventory-half.yaml'), `${halfLines.join('\n')}\n`);
  return names;
}

async function main(): Promise<void> {
  const count = argument('--targets', 50);
  const references = Math.min(argument('--references', 3), count);
  const record = process.argv.includes('--record');
  // Only the two --parallel 4 runs (all the targets, then half of them): the memory comparison alone.
  const memoryOnly = process.argv.includes('--memory-only');
  const directory = await mkdtemp(path.join(os.tmpdir(), 'secgate-bench-fleet-'));
  const loadAtStart = os.loadavg()[0] ?? 0;
  const startedAt = new Date().toISOString();
  const handles = await startTargets(count, references);
  const measures: Measure[] = [];
  const failures: string[] = [];
  const keep = (
    name: string,
    targets: number,
    run: { wallMs: number; peakRssKiB: number; exitCode: number; output: string },
  ) => {
    measures.push({ name, targets, wallMs: run.wallMs, peakRssKiB: run.peakRssKiB, exitCode: run.exitCode });
    if (run.exitCode !== 0) {
      // The checks that did not pass, with their target's header: what the table's exit code stands for.
      const lines = run.output.split('\n').filter((line) => /^(== target|ERROR|FAIL)\b|^secgate: /.test(line));
      failures.push(`${name}: exit ${run.exitCode}\n${lines.join('\n')}`);
    }
    process.stderr.write(
      `${name}: ${(run.wallMs / 1000).toFixed(1)} s, exit ${run.exitCode}, peak RSS ${run.peakRssKiB} KiB\n`,
    );
  };
  try {
    const names = await writeFleet(directory, handles);
    // The evidence names the commit verified: the fleet's folder is a repository with one commit.
    await writeFile(path.join(directory, '.gitignore'), '*/\nfleet.json\n');
    const git = (...args: string[]) =>
      execa('git', args, {
        cwd: directory,
        env: { GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' },
      });
    await git('init', '-q', '-b', 'main');
    await git('add', '.');
    await git('commit', '-q', '-m', 'fleet');
    await mkdir(path.join(directory, 'keys'));
    await execa('node', [BIN, 'keygen', '--out', 'keys/gate'], { cwd: directory });
    const sign = ['--sign-key', 'keys/gate.key.pem'];

    if (!memoryOnly) {
      // 1. Sequential, one process per target.
      let sequentialMs = 0;
      let sequentialPeak = 0;
      let sequentialExit = 0;
      let sequentialOutput = '';
      for (const name of names) {
        const run = await secgate(directory, ['verify', '--target', name, ...sign, '--out', `seq/${name}.json`]);
        sequentialMs += run.wallMs;
        sequentialPeak = Math.max(sequentialPeak, run.peakRssKiB);
        if (run.exitCode !== 0) {
          sequentialExit = run.exitCode;
          sequentialOutput = run.output;
        }
      }
      keep('sequential (one process per target)', count, {
        wallMs: sequentialMs,
        peakRssKiB: sequentialPeak,
        exitCode: sequentialExit,
        output: sequentialOutput,
      });

      // 2. --all at 1, 4 and 8 targets at once.
      for (const parallel of [1, 4, 8]) {
        const run = await secgate(directory, [
          'verify',
          '--all',
          '--parallel',
          String(parallel),
          ...sign,
          '--out',
          `all-${parallel}/{target}.json`,
        ]);
        keep(`--all --parallel ${parallel}`, count, run);
      }

      // 3. Four shards as four processes, then the join.
      const plan = await execa(
        'node',
        [BIN, 'plan', '--shards', '4', '--format', 'github', '--evidence', ...names.map((name) => `seq/${name}.json`)],
        {
          cwd: directory,
        },
      );
      const shards = (JSON.parse(plan.stdout) as { include: { shard: number; targets: string }[] }).include;
      const shardStarted = performance.now();
      const shardRuns = await Promise.all(
        shards.map((shard) =>
          secgate(directory, [
            'verify',
            '--target',
            shard.targets,
            '--parallel',
            '1',
            ...sign,
            '--out',
            'shards/{target}.json',
          ]),
        ),
      );
      const evidence = (await readdir(path.join(directory, 'shards'))).map((file) => `shards/${file}`);
      const join = await secgate(directory, [
        'evidence',
        'aggregate',
        ...evidence,
        '--key',
        'keys/gate.pub.pem',
        ...sign,
        '--out',
        'fleet.json',
      ]);
      keep('4 shards (4 processes) + aggregate', count, {
        wallMs: performance.now() - shardStarted,
        peakRssKiB: Math.max(join.peakRssKiB, ...shardRuns.map((run) => run.peakRssKiB)),
        exitCode: Math.max(join.exitCode, ...shardRuns.map((run) => run.exitCode)),
        output: [join, ...shardRuns].map((run) => run.output).join('\n'),
      });
      keep('  of which aggregate', count, join);
    }

    // 4. Memory: the same --all over all and over half of the targets.
    if (memoryOnly) {
      keep(
        '--all --parallel 4',
        count,
        await secgate(directory, ['verify', '--all', '--parallel', '4', ...sign, '--out', 'all-4/{target}.json']),
      );
    }
    const half = Math.ceil(count / 2);
    keep(
      '--all --parallel 4, half the targets',
      half,
      await secgate(directory, [
        'verify',
        '-c',
        'half.yaml',
        '--all',
        '--parallel',
        '4',
        ...sign,
        '--out',
        `half/{target}.json`,
      ]),
    );
  } finally {
    await Promise.allSettled(handles.map((handle) => handle.close()));
    await rm(directory, { recursive: true, force: true });
  }
  const report = formatReport({ count, references, measures, loadAtStart, loadAtEnd: os.loadavg()[0] ?? 0, startedAt });
  const full =
    failures.length > 0
      ? `${report}\nNot every run passed (what did not, as secgate printed it):\n\n\`\`\`\n${failures.join('\n\n')}\n\`\`\`\n`
      : report;
  process.stdout.write(full);
  if (record) await writeFile(RESULTS, full);
}

function formatReport(input: {
  count: number;
  references: number;
  measures: Measure[];
  loadAtStart: number;
  loadAtEnd: number;
  startedAt: string;
}): string {
  const sequential = input.measures[0]?.wallMs ?? 0;
  const rows = input.measures.map(
    (measure) =>
      `| ${measure.name} | ${measure.targets} | ${(measure.wallMs / 1000).toFixed(1)} s | ${(measure.wallMs / measure.targets / 1000).toFixed(2)} s | ${measure.name.startsWith('  ') || measure.name.includes('half') ? '' : `${(sequential / measure.wallMs).toFixed(2)}×`} | ${(measure.peakRssKiB / 1024).toFixed(0)} MiB | ${measure.exitCode} |`,
  );
  return [
    '# A fleet: sequential, --all, and 4 shards joined',
    '',
    `Produced by \`npm run build && tsc -p tsconfig.bench.json && node dist/bench/fleet.js --targets ${input.count} --references ${input.references} --record\``,
    `(with DATABASE_URL=postgres://postgres@127.0.0.1:5432/test) on ${input.startedAt}.`,
    `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; load average ${input.loadAtStart.toFixed(1)} at the start, ${input.loadAtEnd.toFixed(1)} at the end (the machine is shared).`,
    '',
    `${input.count} targets: ${input.count - input.references} light HTTPS fixture servers and ${input.references} reference-service instances, all on loopback; 6 network checks per target (tls.certificate, http.status, http.headers, http.redirect, http.docs-disabled, http.cors); every run signs its evidence. Wall time includes starting Node for each secgate process.`,
    '',
    '| how | targets | wall time | per target | speed-up vs sequential | peak RSS | exit |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ].join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
