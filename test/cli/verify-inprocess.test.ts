/** The verify command end to end in-process, with engine test checks (no network). */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { runVerify } from '../../src/cli/verify.js';
import { ChecklistError } from '../../src/engine/checklist/errors.js';
import { decodeStatement } from '../../src/evidence/dsse.js';
import { generateSigningKeyPair, writeKeyPair } from '../../src/evidence/keys.js';
import { sampleRegistry } from '../engine/sample-checks.js';

function capture(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return Object.assign(stream, { text: () => chunks.join('') });
}

async function workspace(checks: string, extra = '') {
  const directory = await mkdtemp(path.join(tmpdir(), 'secgate-verify-'));
  await writeFile(
    path.join(directory, 'checklist.yaml'),
    `version: 1\ntarget:\n  url: https://127.0.0.1:1\nrepo: .\nchecks:\n${checks}${extra}`,
  );
  const stdout = capture();
  const stderr = capture();
  const io: CliIo = { stdout, stderr, env: { PROBE_TOKEN: 'tok-abcdef-123456' }, cwd: directory };
  return { directory, io, stdout, stderr };
}

describe('secgate verify (in-process)', () => {
  it('exit 0 when every check passes, with unsigned evidence and a loud warning', async () => {
    const { io, stderr, directory } = await workspace('  - check: sample.passing\n');
    const outcome = await runVerify(
      { checklist: 'checklist.yaml', out: 'evidence.json', registry: sampleRegistry },
      io,
    );
    expect(outcome.exitCode).toBe(0);
    expect(stderr.text()).toContain('WARNING: no --sign-key given: the evidence will be UNSIGNED');
    const envelope = JSON.parse(await readFile(path.join(directory, 'evidence.json'), 'utf8'));
    expect(envelope.signatures).toEqual([]);
    expect(decodeStatement(envelope)?.predicate.checks[0]?.status).toBe('pass');
  });

  it('exit 1 when a control fails, exit 1 also beats errors; a waived failure is shown as waived', async () => {
    const failing = await workspace('  - check: sample.failing\n  - check: sample.throwing\n');
    expect((await runVerify({ checklist: 'checklist.yaml', registry: sampleRegistry }, failing.io)).exitCode).toBe(1);
    expect(failing.stdout.text()).toContain('Fix: nothing to fix: this is a test check');

    const waived = await workspace(
      '  - check: sample.failing\n',
      'waivers:\n  - check: sample.failing\n    reason: accepted until the fix ships, CHG-1\n    expires: 2999-12-31\n',
    );
    const outcome = await runVerify({ checklist: 'checklist.yaml', registry: sampleRegistry }, waived.io);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.statement?.predicate.checks[0]?.status).toBe('waived');
    expect(outcome.statement?.predicate.waivers[0]?.state).toBe('applied');
  });

  it('exit 3 when no control failed but one could not be verified', async () => {
    const { io, stdout } = await workspace('  - check: sample.passing\n  - check: sample.throwing\n');
    expect((await runVerify({ checklist: 'checklist.yaml', registry: sampleRegistry }, io)).exitCode).toBe(3);
    expect(stdout.text()).toContain('exit 3: at least one control could not be verified');
  });

  it('signs with --sign-key and records the checklist digest as a subject', async () => {
    const { io, directory } = await workspace('  - check: sample.passing\n');
    const pair = generateSigningKeyPair();
    await writeKeyPair(pair, path.join(directory, 'k.key.pem'), path.join(directory, 'k.pub.pem'));
    const outcome = await runVerify(
      { checklist: 'checklist.yaml', signKey: 'k.key.pem', requireSignature: true, registry: sampleRegistry },
      io,
    );
    expect(outcome.envelope?.signatures[0]?.keyid).toBe(pair.keyid);
    const subject = outcome.statement?.subject.find((item) => item.name === 'checklist.yaml');
    expect(subject?.digest.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects invalid invocations before probing', async () => {
    const { io } = await workspace('  - check: sample.passing\n');
    await expect(
      runVerify({ checklist: 'checklist.yaml', requireSignature: true, registry: sampleRegistry }, io),
    ).rejects.toThrow('--require-signature needs --sign-key');
    await expect(
      runVerify({ checklist: 'checklist.yaml', only: ['sample.pasing'], registry: sampleRegistry }, io),
    ).rejects.toThrow(
      "--only names 'sample.pasing', which is not a check in checklist.yaml; did you mean sample.passing?",
    );
    await expect(runVerify({ checklist: 'missing.yaml', registry: sampleRegistry }, io)).rejects.toBeInstanceOf(
      ChecklistError,
    );
  });
});

describe('outputs that cannot be written', () => {
  it('are an invalid invocation found before anything is probed', async () => {
    const { io, directory } = await workspace('  - check: sample.passing\n');
    await mkdir(path.join(directory, 'evidence-dir'));
    await expect(
      runVerify({ checklist: 'checklist.yaml', out: 'evidence-dir', registry: sampleRegistry }, io),
    ).rejects.toThrow(/--out .*evidence-dir cannot be written \(EISDIR\); nothing was probed/);
    await expect(
      runVerify(
        { checklist: 'checklist.yaml', report: ['junit:checklist.yaml/secgate.xml'], registry: sampleRegistry },
        io,
      ),
    ).rejects.toThrow(/--report junit .*checklist\.yaml\/secgate\.xml cannot be written \((ENOTDIR|EEXIST)\)/);
  });
});

describe('secrets in the environment', () => {
  it('scrubs a secret-looking variable a check read, even one the checklist never interpolated', async () => {
    const { io, stdout, directory } = await workspace(
      '  - check: sample.env-echo\n    with: { name: APP_SIGNING_KEY }\n',
    );
    const key = 'k3y-Material-9f8e7d6c5b4a';
    const outcome = await runVerify(
      { checklist: 'checklist.yaml', out: 'evidence.json', registry: sampleRegistry },
      { ...io, env: { ...io.env, APP_SIGNING_KEY: key } },
    );
    // A check that threw is an error, and an error fails the gate (exit 3).
    expect(outcome.exitCode).toBe(3);
    const envelope = JSON.parse(await readFile(path.join(directory, 'evidence.json'), 'utf8'));
    const statement = Buffer.from(envelope.payload, 'base64').toString('utf8');
    expect(statement).toContain('could not parse key [redacted len=');
    expect(statement).not.toContain(key);
    expect(stdout.text()).not.toContain(key);
  });
});

describe('secgate verify --report and --baseline-ref', () => {
  it('writes every requested report, and a bad report spec is an invalid invocation', async () => {
    const { io, directory } = await workspace('  - check: sample.failing\n');
    const outcome = await runVerify(
      {
        checklist: 'checklist.yaml',
        report: ['junit:out/secgate.xml', 'sarif:out/secgate.sarif', 'markdown:out/summary.md'],
        registry: sampleRegistry,
      },
      io,
    );
    expect(outcome.exitCode).toBe(1);
    expect(await readFile(path.join(directory, 'out/secgate.xml'), 'utf8')).toContain('<testsuite');
    const sarif = JSON.parse(await readFile(path.join(directory, 'out/secgate.sarif'), 'utf8'));
    expect(sarif.version).toBe('2.1.0');
    expect(await readFile(path.join(directory, 'out/summary.md'), 'utf8')).toContain('sample.failing');
    await expect(
      runVerify({ checklist: 'checklist.yaml', report: ['pdf:out.pdf'], registry: sampleRegistry }, io),
    ).rejects.toThrow("unknown format 'pdf'");
  });

  it('fails when the checklist is weaker than on the base ref, unless the weakening is waived', async () => {
    const base = '  - check: sample.passing\n  - check: sample.locking\n    with: { attempts: 5 }\n';
    const { io, directory } = await workspace(base);
    const git = (...args: string[]) =>
      execa('git', args, {
        cwd: directory,
        env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
      });
    await git('init', '-q', '-b', 'main');
    await git('add', 'checklist.yaml');
    await git('commit', '-q', '-m', 'base');
    const weakened = (await readFile(path.join(directory, 'checklist.yaml'), 'utf8')).replace(
      'attempts: 5',
      'attempts: 50',
    );
    await writeFile(path.join(directory, 'checklist.yaml'), weakened);
    const failed = await runVerify({ checklist: 'checklist.yaml', baselineRef: 'main', registry: sampleRegistry }, io);
    expect(failed.exitCode).toBe(1);
    const guard = failed.statement?.predicate.checks.find((record) => record.id === 'secgate.baseline');
    expect(guard?.status).toBe('fail');
    expect(guard?.summary).toMatch(/attempts/);
    expect(failed.statement?.predicate.checklist.baselineSha256).toMatch(/^[0-9a-f]{64}$/);

    await writeFile(
      path.join(directory, 'checklist.yaml'),
      `${weakened}waivers:\n  - check: secgate.baseline\n    reason: lockout relaxed for a load test, CHG-90\n    expires: 2999-12-31\n`,
    );
    const waived = await runVerify({ checklist: 'checklist.yaml', baselineRef: 'main', registry: sampleRegistry }, io);
    expect(waived.statement?.predicate.checks.find((record) => record.id === 'secgate.baseline')?.status).toBe(
      'waived',
    );
    await expect(
      runVerify({ checklist: 'checklist.yaml', baselineRef: 'no-such-branch', registry: sampleRegistry }, io),
    ).rejects.toThrow("--baseline-ref 'no-such-branch' does not name a commit");

    // Same checks, but pointed at another service: the gate would pass on something else.
    await writeFile(path.join(directory, 'checklist.yaml'), weakened.replace('attempts: 50', 'attempts: 5'));
    expect(
      (await runVerify({ checklist: 'checklist.yaml', baselineRef: 'main', registry: sampleRegistry }, io)).exitCode,
    ).toBe(0);
    await writeFile(
      path.join(directory, 'checklist.yaml'),
      weakened.replace('attempts: 50', 'attempts: 5').replace('https://127.0.0.1:1', 'https://127.0.0.9:1'),
    );
    const moved = await runVerify({ checklist: 'checklist.yaml', baselineRef: 'main', registry: sampleRegistry }, io);
    expect(moved.exitCode).toBe(1);
    const movedGuard = moved.statement?.predicate.checks.find((record) => record.id === 'secgate.baseline');
    expect(movedGuard?.status).toBe('fail');
    expect(movedGuard?.summary).toContain('target.url changed from "https://127.0.0.1:1" to "https://127.0.0.9:1"');
  });
});

describe('partial runs', () => {
  it('a run that leaves checks out cannot pass the gate unless --allow-partial says so', async () => {
    const { io } = await workspace('  - check: sample.passing\n  - check: sample.failing\n');
    const partial = await runVerify(
      { checklist: 'checklist.yaml', skip: ['sample.failing'], registry: sampleRegistry },
      io,
    );
    expect(partial.exitCode).toBe(3);
    expect(partial.statement?.predicate.partial).toEqual({ deselected: ['sample.failing'], allowed: false });
    const allowed = await runVerify(
      { checklist: 'checklist.yaml', only: ['sample.passing'], allowPartial: true, registry: sampleRegistry },
      io,
    );
    expect(allowed.exitCode).toBe(0);
    expect(allowed.statement?.predicate.partial?.allowed).toBe(true);
  });

  it('only one output may claim stdout', async () => {
    const { io } = await workspace('  - check: sample.passing\n');
    await expect(
      runVerify({ checklist: 'checklist.yaml', json: true, report: ['sarif:-'], registry: sampleRegistry }, io),
    ).rejects.toThrow('only one of --json and --report format:- may write to stdout');
  });
});
