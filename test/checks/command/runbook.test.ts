import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import commandRunbook from '../../../checks/command/runbook.js';
import { type TargetHandle, testCheck } from '../../harness/check-tester.js';

let workDir = '';
beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'secgate-runbook-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** A free loopback port: the runbook's health URL must be known before the service starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A tiny service as a runbook would start it: PORT from the environment, /health, SIGTERM handling. */
function service(options: { healthStatus?: number; ignoreSigterm?: boolean; crash?: boolean } = {}): string {
  return [
    "const http = require('node:http');",
    options.crash ? "console.error('DATABASE_URL is not set'); process.exit(2);" : '',
    `const server = http.createServer((req, res) => { res.statusCode = req.url === '/health' ? ${options.healthStatus ?? 200} : 404; res.end(); });`,
    "server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));",
    options.ignoreSigterm
      ? "process.on('SIGTERM', () => console.log('ignoring SIGTERM'));"
      : "process.on('SIGTERM', () => server.close(() => process.exit(0)));",
  ].join('\n');
}

interface RunbookCase {
  target: () => Promise<TargetHandle>;
  with: Record<string, unknown>;
}

/**
 * Each case gets its own port, chosen when the table is built: the harness
 * reads `with` before it starts the target, and the runbook's health URL must
 * name the port before the service exists.
 */
async function runbookCase(script: string, extra: Record<string, unknown> = {}): Promise<RunbookCase> {
  const port = await freePort();
  return {
    target: async () => ({
      context: { target: { url: `https://127.0.0.1:${port}` }, repoDir: workDir, env: { PATH: process.env.PATH } },
      close: async () => {},
    }),
    with: {
      name: 'start service',
      command: [process.execPath, '-e', script],
      env: { PORT: String(port) },
      health_url: `http://127.0.0.1:${port}/health`,
      // Generous: a loaded machine may take seconds to start node; only the cases about time set less.
      startup_timeout_ms: 30_000,
      poll_interval_ms: 50,
      grace_ms: 10_000,
      ...extra,
    },
  };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `server` on 127.0.0.1:port and hands the runbook a target that closes it afterwards. */
function targetWithServer(server: Server, port: number): () => Promise<TargetHandle> {
  return async () => {
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return {
      context: { target: { url: `https://127.0.0.1:${port}` }, repoDir: workDir, env: { PATH: process.env.PATH } },
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  };
}

/** A start command that fails as a second instance does on a taken port. */
const failingStart = ['sh', '-c', 'echo "boom: listen EADDRINUSE" >&2; exit 3'];

/** A leftover service from an earlier run: something already answers the runbook's health URL. */
async function leftoverServiceCase(): Promise<RunbookCase> {
  const port = await freePort();
  return {
    target: targetWithServer(
      createHttpServer((_request, response) => response.end('ok')),
      port,
    ),
    with: {
      name: 'start',
      command: failingStart,
      health_url: `http://127.0.0.1:${port}/`,
      startup_timeout_ms: 3_000,
      poll_interval_ms: 50,
    },
  };
}

/**
 * Something else answers health_url, but only once the start command runs (another instance coming up
 * beside it), and its answer arrives after the command has already exited 3. The command touches a
 * marker file first: the listener drops connections made before the marker exists (the gate's check
 * before the start), and answers 200 half a second after it appears, by when the command is gone.
 * Deterministic form of the race the review found: the first poll was answered before the exit was seen.
 */
async function answeredAfterExitCase(secret: string): Promise<RunbookCase> {
  const port = await freePort();
  // Relative: the command runs in the repository (workDir), which is made only after the table is built.
  const marker = `started-${port}`;
  const markerExists = () =>
    stat(path.join(workDir, marker)).then(
      () => true,
      () => false,
    );
  const server = createHttpServer(async (request, response) => {
    for (let waited = 0; waited < 1_000 && !(await markerExists()); waited += 20) await pause(20);
    if (!(await markerExists())) {
      request.socket.destroy();
      return;
    }
    await pause(500);
    response.end('ok');
  });
  return {
    target: targetWithServer(server, port),
    with: {
      name: 'start',
      command: ['sh', '-c', ': > "$MARKER"; echo "boom: token $START_TOKEN rejected" >&2; exit 3'],
      env: { MARKER: marker, START_TOKEN: secret },
      health_url: `http://127.0.0.1:${port}/`,
      startup_timeout_ms: 10_000,
      poll_interval_ms: 50,
    },
  };
}

/**
 * A proxy in front of the service: it answers 502 until the runbook's command is up (a marker file), then 200.
 * Its 502 before the start is not a leftover service: the check must start the command and pass.
 */
async function proxyBeforeStartCase(): Promise<RunbookCase> {
  const port = await freePort();
  const marker = `up-${port}`;
  const server = createHttpServer(async (_request, response) => {
    const up = await stat(path.join(workDir, marker)).then(
      () => true,
      () => false,
    );
    response.statusCode = up ? 200 : 502;
    response.end(up ? 'ok' : 'bad gateway');
  });
  return {
    target: targetWithServer(server, port),
    with: {
      name: 'start',
      command: ['sh', '-c', ': > "$MARKER"; trap "exit 0" TERM; while :; do sleep 0.05; done'],
      env: { MARKER: marker },
      health_url: `http://127.0.0.1:${port}/`,
      startup_timeout_ms: 10_000,
      poll_interval_ms: 50,
    },
  };
}

testCheck(commandRunbook, {
  // Each case has its own port and process; two of them wait out a deadline.
  concurrent: true,
  valid: [
    { name: 'service that becomes healthy and stops on SIGTERM', ...(await runbookCase(service())) },
    { name: 'a proxy answers 502 before the start (not a leftover service)', ...(await proxyBeforeStartCase()) },
  ],
  invalid: [
    {
      name: 'health endpoint answers 500',
      // Long enough for the service to be up and answering 500 on a loaded machine, not only refusing.
      ...(await runbookCase(service({ healthStatus: 500 }), { startup_timeout_ms: 8_000 })),
      expect: /\/health did not answer 200 within 8000 ms \(last: HTTP 500\)/,
    },
    {
      name: 'service ignores SIGTERM',
      ...(await runbookCase(service({ ignoreSigterm: true }), { grace_ms: 500 })),
      expect: /start service did not stop on SIGTERM within 500 ms; SIGKILL was needed/,
    },
    {
      name: 'service crashes at start',
      ...(await runbookCase(service({ crash: true }))),
      expect: /start service exited with code 2 before http:\/\/127\.0\.0\.1:\d+\/health answered 200/,
    },
    {
      name: 'something already answers health_url, and the start command fails',
      status: 'error',
      ...(await leftoverServiceCase()),
      expect:
        /^start: something already answers http:\/\/127\.0\.0\.1:\d+\/ \(HTTP 200\) before the runbook's command started: stop it or choose other ports$/,
    },
    {
      name: 'health_url answered 200 after the start command had exited 3',
      // Generated: a literal token in a test is a finding of the gate's own history scan.
      ...(await answeredAfterExitCase(randomBytes(16).toString('hex'))),
      expect:
        /^start exited with code 3 before the gate stopped it; what answered http:\/\/127\.0\.0\.1:\d+\/ 200 was not its service \(last output: boom: token \[redacted len=32 sha256=[0-9a-f]{12}\] rejected\)$/,
    },
  ],
});
