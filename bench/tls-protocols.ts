/**
 * Bench: secgate's tls.protocols against `sslscan --no-ciphersuites` and
 * `testssl.sh -p` on the same local targets, in one run, several repetitions.
 * Records medians, ratios and the per-version verdicts of every tool in
 * bench/results/tls-protocols.md, with the command that produced them.
 *
 * Build and run (Node 20 runs no TypeScript, so the bench is compiled first):
 *
 *   npm run bench:tls      (= tsc -p tsconfig.bench.json && node dist/bench/tls-protocols.js --reps 5)
 *
 * secgate is timed twice: in-process (the check as the engine runs it) and as
 * a fresh `node` process that loads the check and runs it once (`--probe URL`),
 * so the comparison with the two external tools includes process start-up too.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import tlsProtocols from '../checks/tls/protocols.js';
import type { CheckContext, CheckOutcome } from '../src/engine/types.js';
import { PROTOCOL_VERSIONS } from '../src/probes/tls-hello.js';
import type { ProtocolVerdicts, ScannerRun } from './tls-scanners.js';

const execFileAsync = promisify(execFile);
/** Node 20 runs no TypeScript: the bench is compiled with the repository's own tsc first. */
const BUILD_COMMAND = 'npm run build';
const thisFile = fileURLToPath(import.meta.url);
// dist/bench/tls-protocols.js → the repository root.
const repoRoot = path.resolve(path.dirname(thisFile), '..', '..');

function verdictsOf(outcome: CheckOutcome): ProtocolVerdicts {
  const verdicts: ProtocolVerdicts = {};
  for (const version of PROTOCOL_VERSIONS) {
    const observation = outcome.observations.find((candidate) => candidate.probe.startsWith(`ClientHello ${version} `));
    const actual = typeof observation?.actual === 'string' ? observation.actual : '';
    if (actual.startsWith('accepted')) verdicts[version] = 'accepted';
    else if (actual.startsWith('refused')) verdicts[version] = 'refused';
  }
  return verdicts;
}

/** Runs tls.protocols once on `url` through the engine's context, as `secgate verify` does. */
async function runSecgate(url: string): Promise<ScannerRun> {
  const { openCheckContext } = await import('../src/engine/context.js');
  const started = performance.now();
  const { context, close } = await openCheckContext({ target: { url } });
  try {
    const outcome = await tlsProtocols.run(context, tlsProtocols.params.parse({}));
    const elapsedMs = performance.now() - started;
    return { tool: 'secgate (in-process)', command: 'tls.protocols check', verdicts: verdictsOf(outcome), elapsedMs };
  } finally {
    await close();
  }
}

/**
 * `--probe URL`: the check alone in this process. tls.protocols reads only the
 * target, the timeout and the abort signal from its context, so the engine
 * (undici, pg, yaml) is not loaded: the process time is Node start-up plus the check.
 */
async function probeOnce(url: string): Promise<ProtocolVerdicts> {
  const unused = (): never => {
    throw new Error('tls.protocols uses only the target from its context');
  };
  const context = {
    target: { url, timeout_ms: 5_000, caPem: undefined },
    signal: new AbortController().signal,
    clock: { now: () => new Date() },
    http: { request: unused },
  } as unknown as CheckContext;
  return verdictsOf(await tlsProtocols.run(context, tlsProtocols.params.parse({})));
}

/** The same check in a fresh Node process: start-up and module loading included. */
async function runSecgateProcess(url: string): Promise<ScannerRun> {
  const started = performance.now();
  const { stdout } = await execFileAsync(process.execPath, [thisFile, '--probe', url]);
  const elapsedMs = performance.now() - started;
  return {
    tool: 'secgate (new node process)',
    command: `node ${path.relative(repoRoot, thisFile)} --probe URL`,
    verdicts: JSON.parse(stdout) as ProtocolVerdicts,
    elapsedMs,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? 0) + upper) / 2;
}

function verdictLine(verdicts: ProtocolVerdicts): string {
  return PROTOCOL_VERSIONS.map((version) => verdicts[version] ?? '—').join(' | ');
}

interface TargetResult {
  name: string;
  runs: Map<string, ScannerRun[]>;
}

async function benchTarget(
  name: string,
  fixtureName: 'legacyProtocols' | 'wellConfigured',
  reps: number,
  tools: { sslscan: string; testssl: string },
): Promise<TargetResult> {
  const fixtures = await import('../fixtures/tls/servers.js');
  const { runSslscan, runTestssl } = await import('./tls-scanners.js');
  const fixture = await fixtures[fixtureName]();
  const runs = new Map<string, ScannerRun[]>();
  const record = (run: ScannerRun): void => {
    runs.set(run.tool, [...(runs.get(run.tool) ?? []), run]);
  };
  try {
    const url = fixture.context.target.url;
    const { hostname, port } = new URL(url);
    // Warm-up (not recorded): first TLS handshakes, page cache for the external tools.
    await runSecgate(url);
    await runSslscan(tools.sslscan, hostname, Number(port));
    for (let rep = 0; rep < reps; rep += 1) {
      // One tool at a time, so they never compete for the two cores.
      record(await runSecgate(url));
      record(await runSecgateProcess(url));
      record(await runSslscan(tools.sslscan, hostname, Number(port)));
      record(await runTestssl(tools.testssl, hostname, Number(port)));
      process.stderr.write(`${name}: repetition ${rep + 1}/${reps} done\n`);
    }
  } finally {
    await fixture.close();
  }
  return { name, runs };
}

async function toolVersion(command: string, args: string[], pattern: RegExp): Promise<string> {
  const { stdout } = await execFileAsync(command, args).catch(() => ({ stdout: '' }));
  // biome-ignore lint/suspicious/noControlCharactersInRegex: sslscan colours its version banner.
  const plain = stdout.replace(/\u001b\[[0-9;]*m/g, '');
  return pattern.exec(plain)?.[1] ?? 'unknown';
}

function report(results: TargetResult[], reps: number, commandLine: string, versions: Record<string, string>): string {
  const lines: string[] = [
    '# tls.protocols bench',
    '',
    `Produced on ${new Date().toISOString()} by:`,
    '',
    '```sh',
    BUILD_COMMAND,
    commandLine,
    '```',
    '',
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.platform()} ${os.release()}, Node ${process.version}.`,
    `Tools: sslscan ${versions.sslscan}, testssl.sh ${versions.testssl}. ${reps} repetitions per tool and target after one warm-up, tools run one after another.`,
    '',
    'Targets are local fixture servers (`fixtures/tls/servers.ts`) on 127.0.0.1. secgate runs the full `tls.protocols`',
    'check: five version hellos **and** the TLS 1.2 cipher-suite enumeration, which the other two tools skip',
    '(`--no-ciphersuites`, `-p`). "secgate (new node process)" runs the same check in a fresh `node` process',
    '(start-up and module loading included, engine not loaded), the fair comparison with the two external processes.',
    `Load average when the run started: ${os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(', ')} (shared machine).`,
    '',
  ];
  let allIdentical = true;
  for (const result of results) {
    const secgate = result.runs.get('secgate (in-process)') ?? [];
    const baseline = median(secgate.map((run) => run.elapsedMs));
    lines.push(
      `## ${result.name}`,
      '',
      '| tool | command | median ms | min ms | max ms | × secgate (in-process) |',
      '|---|---|---:|---:|---:|---:|',
    );
    for (const [tool, runs] of result.runs) {
      const times = runs.map((run) => run.elapsedMs);
      const toolMedian = median(times);
      lines.push(
        `| ${tool} | \`${runs[0]?.command ?? ''}\` | ${toolMedian.toFixed(1)} | ${Math.min(...times).toFixed(1)} | ${Math.max(...times).toFixed(1)} | ${(toolMedian / baseline).toFixed(1)} |`,
      );
    }
    lines.push(
      '',
      `| tool | ${PROTOCOL_VERSIONS.join(' | ')} | same in every repetition |`,
      `|---|${PROTOCOL_VERSIONS.map(() => '---').join('|')}|---|`,
    );
    const reference = JSON.stringify(secgate[0]?.verdicts ?? {});
    for (const [tool, runs] of result.runs) {
      const stable = runs.every((run) => JSON.stringify(run.verdicts) === JSON.stringify(runs[0]?.verdicts));
      lines.push(`| ${tool} | ${verdictLine(runs[0]?.verdicts ?? {})} | ${stable ? 'yes' : 'NO'} |`);
      const identical = runs.every((run) => JSON.stringify(run.verdicts) === reference);
      if (!identical) allIdentical = false;
    }
    lines.push('');
  }
  lines.push(
    `**Verdicts identical across all tools, targets and repetitions: ${allIdentical ? 'yes' : 'NO'}.**`,
    '',
    'SSLv3: the local OpenSSL 3 (used by the fixtures, by sslscan and by testssl.sh for some tests) has no SSLv3, so every tool',
    'reports it refused; secgate sends its own SSLv3 hello and reads the server’s handshake_failure alert.',
    '',
  );
  return lines.join('\n');
}

async function main(argv: string[]): Promise<void> {
  const probeIndex = argv.indexOf('--probe');
  if (probeIndex >= 0) {
    const url = argv[probeIndex + 1];
    if (!url) throw new Error('--probe needs a URL');
    process.stdout.write(JSON.stringify(await probeOnce(url)));
    return;
  }
  const repsIndex = argv.indexOf('--reps');
  const reps = repsIndex >= 0 ? Number(argv[repsIndex + 1]) : 5;
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps needs a positive integer');
  const { findExecutable } = await import('./tls-scanners.js');
  const sslscan = await findExecutable('sslscan');
  const testssl = await findExecutable('testssl.sh', 'testssl');
  if (!sslscan || !testssl)
    throw new Error('install sslscan and testssl.sh first (apt-get install sslscan testssl.sh)');
  const versions = {
    sslscan: await toolVersion(sslscan, ['--version'], /(\d+\.\d+\.\d+)/),
    testssl: await toolVersion(testssl, ['--version'], /testssl(?:\.sh)?\s+(\d+\.\d+\S*)/),
  };
  const results = [
    await benchTarget('legacy server (accepts TLS 1.0 – 1.3)', 'legacyProtocols', reps, { sslscan, testssl }),
    await benchTarget('well-configured server (TLS 1.2 + 1.3)', 'wellConfigured', reps, { sslscan, testssl }),
  ];
  const commandLine = `node dist/bench/tls-protocols.js --reps ${reps}`;
  const markdown = report(results, reps, commandLine, versions);
  const output = path.join(repoRoot, 'bench', 'results', 'tls-protocols.md');
  await mkdir(path.dirname(output), { recursive: true });
  await writeFile(output, markdown);
  process.stdout.write(markdown);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
