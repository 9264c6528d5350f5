/**
 * The CLI as CI and operators run it: a real child process (bin/secgate on the
 * build), real exit codes, real signals.
 */

import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const BIN = path.resolve('bin/secgate');
const STRONG = 'Zr8vQ2xL0pW4nT7yB1cK9mH3sD6fJ5gA-strong-enough';

async function checklist(body: string): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'secgate-cli-'));
  await writeFile(path.join(directory, 'checklist.yaml'), body);
  return directory;
}

function secretStrengthChecklist(target = 'https://127.0.0.1:1'): string {
  return `version: 1\ntarget:\n  url: ${target}\nchecks:\n  - check: repo.secret-strength\n    with: { names: [APP_SECRET] }\n`;
}

const run = (cwd: string, args: string[], env: Record<string, string> = {}) =>
  execa('node', [BIN, ...args], { cwd, reject: false, env: { ...env, CI: 'true' }, extendEnv: false });

describe('secgate CLI exit codes (child process)', () => {
  let silentServer: Server;
  let silentPort = 0;
  beforeAll(async () => {
    // Accepts TCP connections, reads (so it notices the peer closing) and never answers: a hung deployment.
    silentServer = createServer((socket) => {
      socket.resume();
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve));
    const address = silentServer.address();
    silentPort = typeof address === 'object' && address ? address.port : 0;
  });
  afterAll(() => new Promise<void>((resolve) => silentServer.close(() => resolve())));

  it('--help exits 0 and lists the commands', async () => {
    const result = await run(process.cwd(), ['--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/verify/);
    expect(result.stdout).toMatch(/keygen/);
  });

  it('exit 0: every control passed', async () => {
    const cwd = await checklist(secretStrengthChecklist());
    const result = await run(cwd, ['verify'], { APP_SECRET: STRONG });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^PASS +repo\.secret-strength/m);
    expect(result.stdout).toContain('GATE PASSED');
    expect(result.stdout + result.stderr).not.toContain(STRONG);
  });

  it('exit 1: a control failed, and the secret is not printed', async () => {
    const cwd = await checklist(secretStrengthChecklist());
    const short = 'only-31-characters-long-secret!';
    const result = await run(cwd, ['verify'], { APP_SECRET: short });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^FAIL +repo\.secret-strength/m);
    expect(result.stdout).toContain('GATE FAILED');
    expect(result.stdout + result.stderr).not.toContain(short);
  });

  it('exit 2: an invalid checklist is reported with its position and nothing is probed', async () => {
    const cwd = await checklist('version: 1\ntarget:\n  url: https://127.0.0.1:1\nchecks:\n  - check: tls.protocol\n');
    const result = await run(cwd, ['verify']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('checklist.yaml:5:12: checks[0].check: unknown check');
    expect(result.stderr).toContain('nothing was probed');
  });

  it('exit 2: the reference service refuses to start without its secrets (never 0, which a runbook would take for a clean stop)', async () => {
    const directory = await checklist(secretStrengthChecklist());
    const result = await run(directory, ['service', 'start', '--https-port', '0', '--http-port', '0'], {
      PATH: process.env.PATH ?? '',
    });
    expect(result.stderr).toMatch(/secgate service: refusing to start: SECGATE_JWT_SECRET/);
    expect(result.exitCode).toBe(2);
  });

  it('exit 2: an unknown option', async () => {
    const result = await run(process.cwd(), ['verify', '--sign-kee', 'x']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/unknown option '--sign-kee'/);
  });

  it('exit 3: the target cannot be reached, so the control could not be verified', async () => {
    const cwd = await checklist(
      'version: 1\ntarget:\n  url: https://127.0.0.1:1\n  timeout_ms: 2000\nchecks:\n  - check: http.status\n',
    );
    const result = await run(cwd, ['verify']);
    expect(result.exitCode, result.stdout + result.stderr).toBe(3);
    expect(result.stdout).toMatch(/^ERROR +http\.status/m);
    expect(result.stdout).toContain('exit 3');
  });

  it('SIGINT stops a hung probe promptly, closes its socket and exits 3', async () => {
    const cwd = await checklist(
      // The probe would wait as long as the test may run: the child exiting in time shows SIGINT stopped it.
      `version: 1\ntarget:\n  url: https://127.0.0.1:${silentPort}\n  timeout_ms: 120000\nchecks:\n  - check: http.status\n`,
    );
    const child = execa('node', [BIN, 'verify', '--out', 'evidence.json'], {
      cwd,
      reject: false,
      env: { CI: 'true' },
      extendEnv: false,
    });
    // Wait until the probe's connection is open, then interrupt.
    const connections = () =>
      new Promise<number>((resolve) => silentServer.getConnections((_error, count) => resolve(count)));
    const exited = child.then(
      () => true,
      () => true,
    );
    await vi.waitFor(
      async () => {
        // A child that already ended will never connect: stop waiting and let the assertion below say so.
        if (await Promise.race([exited, Promise.resolve(false)])) return;
        expect(await connections()).toBeGreaterThan(0);
      },
      { timeout: 60_000, interval: 50 },
    );
    expect(await connections(), 'the probe never connected').toBeGreaterThan(0);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, result.stdout + result.stderr).toBe(3);
    expect(result.stderr).toContain('SIGINT: stopping the checks that are running');
    expect(result.stdout).toMatch(/^ERROR +http\.status .*interrupted/m);
    // The server learns of the close a moment after the child exits.
    await vi.waitFor(async () => expect(await connections(), 'the probe socket must be closed').toBe(0), {
      timeout: 10_000,
      interval: 50,
    });
  });
});
