/**
 * The CLI's edges as a shell meets them (a real child process on the build):
 * a reader that closes the pipe early, `-` for standard streams, flags and
 * paths that are not what they seem.
 */
import { access, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const BIN = path.resolve('bin/secgate');
const STRONG = 'Zr8vQ2xL0pW4nT7yB1cK9mH3sD6fJ5gA-strong-enough';
const SHORT = 'only-31-characters-long-secret!';
const ENV = { CI: 'true', PATH: process.env.PATH ?? '/usr/bin:/bin', APP_SECRET: SHORT };

async function workspace(checklist: string): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'secgate-edges-'));
  await writeFile(path.join(directory, 'checklist.yaml'), checklist);
  return directory;
}

const run = (cwd: string, args: string[], input?: string) =>
  execa('node', [BIN, ...args], { cwd, reject: false, env: ENV, extendEnv: false, ...(input ? { input } : {}) });

const failingChecklist = (extra = '') =>
  `version: 1\ntarget:\n  url: https://127.0.0.1:1\nchecks:\n${['a', 'b', 'c']
    .map(
      (id) =>
        `  - check: repo.secret-strength\n    id: repo.secret-strength.${id}\n    with: { names: [APP_SECRET] }\n`,
    )
    .join('')}${extra}`;

describe('a closed stdout never changes the verdict', () => {
  it('under bash -o pipefail with | head -n1: the run goes on, writes its evidence and exits 1', async () => {
    // A command check that waits until the reader has gone (so it finishes last), so the rest of the
    // report is certainly written into a closed pipe.
    const waitForRelease =
      "const fs = require('node:fs'); const t = setInterval(() => { if (fs.existsSync('release')) clearInterval(t); }, 20);";
    const cwd = await workspace(
      failingChecklist(
        `  - check: command.run\n    with:\n      name: wait for the reader to close\n      command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(waitForRelease)}]\n      timeout_ms: 100000\n`,
      ),
    );
    const script = `node ${JSON.stringify(BIN)} verify --out evidence.json | { head -n1; exec 0<&-; touch release; }`;
    const result = await execa('bash', ['-o', 'pipefail', '-c', script], {
      cwd,
      reject: false,
      env: ENV,
      extendEnv: false,
    });
    expect(result.stdout).toMatch(/^FAIL +repo\.secret-strength/);
    expect(result.exitCode, result.stderr).toBe(1);
    const envelope = JSON.parse(await readFile(path.join(cwd, 'evidence.json'), 'utf8'));
    const predicate = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')).predicate;
    expect(predicate.verdict).toBe('fail');
    expect(predicate.counts).toMatchObject({ fail: 3, pass: 1 });
    expect(predicate.checks.map((check: { id: string; status: string }) => [check.id, check.status])).toEqual([
      ['repo.secret-strength.a', 'fail'],
      ['repo.secret-strength.b', 'fail'],
      ['repo.secret-strength.c', 'fail'],
      ['command.run', 'pass'],
    ]);
  });
});

describe('- means standard input and output', () => {
  it('verify -c - reads the checklist from stdin; evidence verify - and evidence render - -o - use stdin and stdout', async () => {
    const cwd = await workspace('');
    const checklist = `version: 1\ntarget:\n  url: https://127.0.0.1:1\nchecks:\n  - check: repo.secret-strength\n    with: { names: [APP_SECRET] }\n`;
    expect((await run(cwd, ['keygen', '--out', 'k'])).exitCode).toBe(0);
    const verified = await execa('node', [BIN, 'verify', '-c', '-', '--json', '--sign-key', 'k.key.pem'], {
      cwd,
      reject: false,
      env: { ...ENV, APP_SECRET: STRONG },
      extendEnv: false,
      input: checklist,
    });
    expect(verified.exitCode, verified.stderr).toBe(0);
    const envelope = verified.stdout;
    expect(JSON.parse(envelope).payloadType).toBe('application/vnd.in-toto+json');

    const checked = await run(cwd, ['evidence', 'verify', '-', '--key', 'k.pub.pem'], envelope);
    expect(checked.exitCode, checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(/^VALID signature by key/);

    const rendered = await run(cwd, ['evidence', 'render', '-', '--key', 'k.pub.pem', '-o', '-'], envelope);
    expect(rendered.exitCode, rendered.stderr).toBe(0);
    expect(rendered.stdout.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(rendered.stdout.trimEnd().endsWith('</html>')).toBe(true);
    expect(rendered.stderr).toContain('Evidence page: standard output (signature valid)');
    // Nothing named '-' was created.
    await expect(access(path.join(cwd, '-'))).rejects.toThrow(/ENOENT/);
  });
});

describe('flags and paths that are not what they seem are exit 2, before anything is probed', () => {
  it.each(['8abc', '0', '65', '1e1', ' ', '-3'])('--concurrency %j', async (value) => {
    const cwd = await workspace(failingChecklist());
    const result = await run(cwd, ['verify', '--concurrency', value]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`--concurrency takes a whole number 1..64, got '${value}'`);
    expect(result.stdout).not.toContain('FAIL');
  });

  it('--out into /proc is an error, not a hang', async () => {
    const cwd = await workspace(failingChecklist());
    const result = await run(cwd, ['verify', '--out', '/proc/secgate-no-such-dir/evidence.json']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(
      /--out \/proc\/secgate-no-such-dir\/evidence\.json cannot be written \(E[A-Z]+\); nothing was probed/,
    );
  });

  it('--out as a file /proc will not let anyone create is an error before probing', async () => {
    const cwd = await workspace(failingChecklist());
    const result = await run(cwd, ['verify', '--out', '/proc/secgate-evidence.json']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('nothing was probed');
  });

  it('a ca_file that is not PEM is exit 2 at load, with file:line:column', async () => {
    const cwd = await workspace(
      'version: 1\ntarget:\n  url: https://127.0.0.1:1\n  ca_file: ca.der\nchecks:\n  - check: http.status\n',
    );
    await writeFile(path.join(cwd, 'ca.der'), Buffer.from([0x30, 0x82, 0x01, 0x0a, 0x02, 0x82]));
    const result = await run(cwd, ['verify']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(
      'checklist.yaml:4:12: target.ca_file: ca.der: expected PEM certificates (-----BEGIN CERTIFICATE-----), found none',
    );
  });
});

describe('the launcher answers --version itself', () => {
  it('with what the full command line answers (which --version plus another flag still reaches)', async () => {
    const cwd = await workspace('version: 1\n');
    const [short, long, full] = await Promise.all([
      run(cwd, ['-V']),
      run(cwd, ['--version']),
      // Not the launcher's fast path: commander answers, from src/cli/package-info.ts.
      run(cwd, ['--no-color', '--version']),
    ]);
    for (const result of [short, long, full]) expect(result.exitCode, result.stderr).toBe(0);
    expect(full.stdout).toMatch(/^\d+\.\d+\.\d+/);
    expect(short.stdout).toBe(full.stdout);
    expect(long.stdout).toBe(full.stdout);
  });
});
