/**
 * Bench: how long `secgate verify` takes from its spawn to its first probe (issue 16: ≤ 0.3 s), with
 * `node -e 0` spawned in the same rounds so a loaded machine can be read as a ratio.
 *
 * A TCP forwarder on a loopback port of its own stands between the gate and the TLS server, and notes
 * when the first connection arrives; the gate runs a checklist aimed at the forwarder. Run by
 * bench/startup.sh (which starts the server and writes the checklist's certificate), or alone:
 *
 *   npm run build && npx tsc -p tsconfig.bench.json
 *   node dist/bench/first-probe.js --server 127.0.0.1:PORT --dir DIR_WITH_cert.pem [--rounds 11] [--json]
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { errorMessage } from '../src/engine/errors.js';

// dist/bench/first-probe.js → the repository root.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Round {
  /** Spawn → the forwarder's first accepted connection, ms; undefined if the gate never connected. */
  firstProbeMs: number | undefined;
  /** Spawn → exit, ms. */
  totalMs: number;
  /** `node -e 0`, spawn → exit, ms (same round). */
  bareNodeMs: number;
}

/** Forwards every connection to the server and reports the first one after each `arm()`. */
async function startForwarder(serverHost: string, serverPort: number) {
  let onFirst: (() => void) | undefined;
  const server = net.createServer((client) => {
    onFirst?.();
    onFirst = undefined;
    const upstream = net.connect(serverPort, serverHost);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the forwarder has no port');
  return {
    port: address.port,
    arm(callback: () => void) {
      onFirst = callback;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Runs a command to its exit; resolves with the time from spawn, ms. */
function timeToExit(command: string, args: string[], cwd: string, started: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(performance.now() - started));
  });
}

async function round(forwarder: Awaited<ReturnType<typeof startForwarder>>, dir: string): Promise<Round> {
  const bareStarted = performance.now();
  const bareNodeMs = await timeToExit(process.execPath, ['-e', '0'], dir, bareStarted);
  let firstProbeMs: number | undefined;
  const started = performance.now();
  forwarder.arm(() => {
    firstProbeMs = performance.now() - started;
  });
  const secgate = path.join(repoRoot, 'bin', 'secgate');
  const totalMs = await timeToExit(process.execPath, [secgate, 'verify', '-c', 'first-probe.yaml'], dir, started);
  return { firstProbeMs, totalMs, bareNodeMs };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      server: { type: 'string' },
      dir: { type: 'string' },
      rounds: { type: 'string', default: '11' },
      json: { type: 'boolean', default: false },
    },
  });
  const [host, portText] = (values.server ?? '').split(':');
  const rounds = Number(values.rounds);
  if (!host || !portText || !values.dir || !Number.isInteger(rounds) || rounds < 1) {
    throw new Error('usage: first-probe.js --server HOST:PORT --dir DIR [--rounds N] [--json]');
  }
  const forwarder = await startForwarder(host, Number(portText));
  const dir = path.resolve(values.dir);
  await writeFile(
    path.join(dir, 'first-probe.yaml'),
    `version: 1\ntarget:\n  url: https://127.0.0.1:${forwarder.port}\n  ca_file: cert.pem\nchecks:\n  - check: tls.protocols\n  - check: tls.certificate\n`,
  );
  const results: Round[] = [];
  for (let index = 0; index < rounds; index += 1) results.push(await round(forwarder, dir));
  await forwarder.close();
  const missed = results.filter((result) => result.firstProbeMs === undefined).length;
  // A gate that never connected measured nothing: the bench says so instead of a median of fewer rounds.
  if (missed > 0) throw new Error(`${missed} of ${rounds} gates never reached the forwarder`);
  const summary = {
    rounds,
    firstProbeMs: Math.round(median(results.map((result) => result.firstProbeMs ?? Number.NaN))),
    totalMs: Math.round(median(results.map((result) => result.totalMs))),
    bareNodeMs: Math.round(median(results.map((result) => result.bareNodeMs))),
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const ratio = (value: number) => (value / summary.bareNodeMs).toFixed(2);
  process.stdout.write(
    `time to first probe ${summary.firstProbeMs} ms (${ratio(summary.firstProbeMs)}× node -e 0), ` +
      `whole run ${summary.totalMs} ms, node -e 0 ${summary.bareNodeMs} ms; medians of ${rounds} rounds\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`first-probe: ${errorMessage(error)}\n`);
  process.exitCode = 1;
});
