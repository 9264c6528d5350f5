import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import commandRun from '../../../checks/command/run.js';
import commandRunbook from '../../../checks/command/runbook.js';
import { createSecretRedactor } from '../../../src/engine/secrets.js';
import { runCommand } from '../../../src/probes/process.js';
import { runCheckOn, type TargetHandle, testCheck } from '../../harness/check-tester.js';

let workDir = '';
beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'secgate-command-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** The commands run in a scratch "repository"; PATH is what the checklist would pass through. */
const scratch = (): Promise<TargetHandle> =>
  Promise.resolve({
    context: {
      target: { url: 'https://127.0.0.1:9' },
      repoDir: workDir,
      env: { PATH: process.env.PATH, HOME: workDir },
    },
    close: async () => {},
  });

const node = (script: string): string[] => [process.execPath, '-e', script];

testCheck(commandRun, {
  valid: [
    {
      name: 'argv command exiting 0',
      target: scratch,
      with: { name: 'lint', command: node('console.log("0 problems")') },
    },
    {
      name: 'shell string exiting 0',
      target: scratch,
      with: { name: 'tests', command: 'echo "42 passed" && exit 0', shell: true },
    },
  ],
  invalid: [
    {
      name: 'a gate that exits 1 (npm audit found a high vulnerability)',
      target: scratch,
      with: { name: 'npm audit', command: node('console.log("1 high severity vulnerability"); process.exit(1)') },
      expect: /npm audit exited with code 1/,
    },
    {
      name: 'a gate killed by a signal',
      target: scratch,
      with: { name: 'bandit', command: 'kill -9 $$', shell: true },
      expect: /bandit was killed by SIGKILL/,
    },
    {
      name: 'a gate that hangs past its timeout',
      status: 'error',
      target: scratch,
      with: { name: 'pytest', command: node('setInterval(() => {}, 1000)'), timeout_ms: 300, grace_ms: 200 },
      expect: /pytest: timed out after 300 ms/,
    },
    {
      name: 'a program that does not exist',
      status: 'error',
      target: scratch,
      with: { name: 'pip-audit', command: ['secgate-no-such-program-xyz'] },
      expect: /pip-audit: could not start secgate-no-such-program-xyz/,
    },
    {
      name: 'a shell string without shell: true',
      status: 'error',
      target: scratch,
      with: { name: 'lint', command: 'npm run lint' },
      expect: /pass an argv array, or set shell: true/,
    },
    {
      name: 'a cwd outside the repository',
      status: 'error',
      target: scratch,
      with: { name: 'lint', command: ['true'], cwd: '../..' },
      expect: /cwd \.\.\/\.\. is outside the repository/,
    },
  ],
});

describe('an argv array with shell: true', () => {
  // It ran as `/bin/sh -c "sh -c exit 1"` (the words joined, the quoting lost), which exits 0, while the
  // evidence showed `sh -c 'exit 1'`: refused in the parameters, so the checklist does not load (exit 2).
  it.each([
    ['command.run', commandRun, {}],
    ['command.runbook', commandRunbook, { health_url: '/health' }],
  ])('is refused by %s at load', (_id, check, required) => {
    const parsed = check.params.safeParse({ name: 'lint', command: ['sh', '-c', 'exit 1'], shell: true, ...required });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['shell'],
        message: expect.stringMatching(/^shell: true needs command as one string; an argv array runs without a shell/),
      }),
    ]);
  });

  it('is never handed to a shell by the process probe, whose contract says argv runs without one', async () => {
    const result = await runCommand(
      { command: ['sh', '-c', 'exit 1'], shell: true, cwd: workDir, env: { PATH: process.env.PATH ?? '' } },
      { timeoutMs: 10_000 },
    );
    expect(result.exitCode).toBe(1);
  });
});

describe('command.run evidence', () => {
  it('records exit code, duration, sha256 and the last 20 lines, with secrets redacted', async () => {
    const secret = 'pw-7Jq2vX9LmR4tZ8kN';
    const script =
      'for (let i = 1; i <= 30; i++) console.log("line " + i); console.log("password is " + process.env.DB_PASSWORD)';
    const outcome = await runCheckOn(commandRun, await scratch(), {
      name: 'tests',
      command: node(script),
      env: { DB_PASSWORD: secret },
    });
    expect(outcome.status).toBe('pass');
    const actual = outcome.observations[0]?.actual as Record<string, unknown>;
    expect(actual.exit_code).toBe(0);
    expect(actual.output_sha256).toMatch(/^[0-9a-f]{64}$/);
    const tail = String(actual.output_tail);
    expect(tail.split('\n')).toHaveLength(20);
    expect(tail).toMatch(/^line 12\n/);
    expect(tail).toMatch(/password is \[redacted len=19 sha256=[0-9a-f]{12}\]$/);
    expect(JSON.stringify(outcome)).not.toContain(secret);
    expect(actual.env_names).toEqual(['DB_PASSWORD', 'HOME', 'PATH']);
  });

  it('passes only the explicit environment to the command', async () => {
    const outcome = await runCheckOn(
      commandRun,
      {
        context: {
          target: { url: 'https://127.0.0.1:9' },
          repoDir: workDir,
          env: { PATH: process.env.PATH, SECGATE_SHOULD_NOT_LEAK: 'x' },
        },
        close: async () => {},
      },
      { name: 'env', command: node('process.exit(process.env.SECGATE_SHOULD_NOT_LEAK ? 1 : 0)') },
    );
    expect(outcome.status).toBe('pass');
  });

  it('stops the whole process tree on timeout, not just the shell', async () => {
    const pidFile = path.join(workDir, 'grandchild.pid');
    const outcome = await runCheckOn(commandRun, await scratch(), {
      name: 'hang',
      command: `sleep 30 & echo $! > ${pidFile}; wait`,
      shell: true,
      // Long enough for the shell to start its child even on a loaded machine.
      timeout_ms: 5_000,
      grace_ms: 200,
    });
    expect(outcome.status).toBe('error');
    const grandchild = Number((await readFile(pidFile, 'utf8')).trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(() => process.kill(grandchild, 0)).toThrow();
  });

  it('is cancelled through ctx.signal', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const outcome = await runCheckOn(
      commandRun,
      {
        context: {
          target: { url: 'https://127.0.0.1:9' },
          repoDir: workDir,
          env: { PATH: process.env.PATH },
          signal: controller.signal,
          secrets: createSecretRedactor(),
        },
        close: async () => {},
      },
      { name: 'slow', command: node('setTimeout(() => {}, 20000)'), grace_ms: 200 },
    );
    expect(outcome.status).toBe('error');
    expect(outcome.summary).toMatch(/slow: cancelled after \d+ ms/);
  });
});
