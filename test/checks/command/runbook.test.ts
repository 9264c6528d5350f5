import { mkdtemp, rm } from 'node:fs/promises';
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

testCheck(commandRunbook, {
  // Each case has its own port and process; two of them wait out a deadline.
  concurrent: true,
  valid: [{ name: 'service that becomes healthy and stops on SIGTERM', ...(await runbookCase(service())) }],
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
  ],
});
