/**
 * What `secgate verify` writes, where, and what it never writes: verdicts that
 * cannot be mistaken for a pass, `-` as standard input and output, colour per
 * stream, credentials in URLs, and subjects that do not depend on the runner.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type CliIo, colorLevel } from '../../src/cli/io.js';
import { runVerify } from '../../src/cli/verify.js';
import { defineCheck } from '../../src/engine/types.js';
import { decodeStatement } from '../../src/evidence/dsse.js';
import { reporters } from '../../src/report/index.js';
import { checkPredicate } from '../../src/report/predicate-shape.js';
import { sampleRegistry } from '../engine/sample-checks.js';

function capture(isTTY = false): Writable & { text: () => string; isTTY: boolean } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return Object.assign(stream, { text: () => chunks.join(''), isTTY });
}

/** Echoes the target URL it was given, as a careless check might. */
const targetEcho = defineCheck({
  id: 'sample.target-echo',
  title: 'A check that quotes the target URL',
  source: 'secgate test',
  remediation: 'nothing to fix: this is a test check',
  effects: 'none',
  params: z.object({}).strict(),
  async run(ctx) {
    return {
      status: 'fail',
      summary: `GET ${ctx.target.url}health answered 500`,
      observations: [{ probe: `GET ${ctx.target.url}health`, expected: 200, actual: 500, ok: false }],
    };
  },
});
const registry = [...sampleRegistry, targetEcho];

const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };

async function workspace(checks: string, target = 'https://127.0.0.1:1') {
  const directory = await mkdtemp(path.join(tmpdir(), 'secgate-outputs-'));
  const text = `version: 1\ntarget:\n  url: ${target}\nrepo: .\nchecks:\n${checks}`;
  await writeFile(path.join(directory, 'checklist.yaml'), text);
  const stdout = capture();
  const stderr = capture();
  const io: CliIo = { stdout, stderr, env: {}, cwd: directory };
  return { directory, io, stdout, stderr, text };
}

describe('a partial run', () => {
  it('signs verdict "partial", never "pass", even when --allow-partial lets it exit 0', async () => {
    const { io, stdout } = await workspace('  - check: sample.passing\n  - check: sample.locking\n');
    const allowed = await runVerify(
      { checklist: 'checklist.yaml', only: ['sample.passing'], allowPartial: true, registry },
      io,
    );
    expect(allowed.exitCode).toBe(0);
    expect(allowed.statement?.predicate.verdict).toBe('partial');
    expect(allowed.statement?.predicate.partial).toEqual({ deselected: ['sample.locking'], allowed: true });
    expect(stdout.text()).toContain('PARTIAL RUN, NOT A GATE PASS');
    expect(stdout.text()).not.toContain('GATE PASSED');

    const refused = await runVerify({ checklist: 'checklist.yaml', skip: ['sample.locking'], registry }, io);
    expect(refused.exitCode).toBe(3);
    expect(refused.statement?.predicate.verdict).toBe('partial');

    // A failure among the checks that ran still makes the verdict "fail".
    const failing = await workspace('  - check: sample.failing\n  - check: sample.locking\n');
    const failed = await runVerify(
      { checklist: 'checklist.yaml', only: ['sample.failing'], allowPartial: true, registry },
      failing.io,
    );
    expect(failed.statement?.predicate.verdict).toBe('fail');
  });

  it('is named as partial by every reporter and accepted by the predicate schema', async () => {
    const { io } = await workspace('  - check: sample.passing\n  - check: sample.locking\n');
    const outcome = await runVerify(
      { checklist: 'checklist.yaml', only: ['sample.passing'], allowPartial: true, registry },
      io,
    );
    const predicate = outcome.statement?.predicate;
    if (!predicate) throw new Error('no predicate');
    const checked = checkPredicate(JSON.parse(JSON.stringify(predicate)));
    expect(checked.ok && checked.predicate.verdict).toBe('partial');
    expect(checked.ok && checked.predicate.partial).toEqual({ deselected: ['sample.locking'], allowed: true });
    const input = { predicate };
    expect(reporters.junit(input)).toContain('<property name="secgate.verdict" value="partial"/>');
    expect(JSON.parse(reporters.sarif(input)).runs[0].properties.verdict).toBe('partial');
    expect(reporters.markdown(input)).toContain(
      'Partial run, not a gate pass: the checks that ran passed, but 1 check was left out',
    );
    const html = reporters.html(input);
    expect(html).toContain('data-verdict="partial"');
    expect(html).toContain('<title>Security gate PARTIAL:');
  });
});

describe('- is standard input and output', () => {
  it('reads the checklist from standard input with -c -', async () => {
    const { io, directory, text } = await workspace('  - check: sample.passing\n');
    const outcome = await runVerify(
      { checklist: '-', out: 'evidence.json', registry },
      { ...io, stdin: Readable.from([Buffer.from(text)]) },
    );
    expect(outcome.exitCode).toBe(0);
    const envelope = JSON.parse(await readFile(path.join(directory, 'evidence.json'), 'utf8'));
    const statement = decodeStatement(envelope);
    expect(statement?.predicate.checklist.path).toBe('-');
    expect(statement?.subject.map((subject) => subject.name)).toContain('<stdin>');
  });

  it('keeps stdout for a report written to -, so it parses, and moves the human report to stderr', async () => {
    for (const [format, parse] of [
      ['sarif', (text: string) => JSON.parse(text).version],
      [
        'junit',
        (text: string) => (text.startsWith('<?xml') && text.trimEnd().endsWith('</testsuites>') ? 'xml' : text),
      ],
    ] as const) {
      const { io, stdout, stderr } = await workspace('  - check: sample.failing\n');
      const outcome = await runVerify({ checklist: 'checklist.yaml', report: [`${format}:-`], registry }, io);
      expect(outcome.exitCode).toBe(1);
      expect(parse(stdout.text())).toBe(format === 'sarif' ? '2.1.0' : 'xml');
      expect(stderr.text()).toContain('GATE FAILED');
      expect(stdout.text()).not.toContain('GATE FAILED');
    }
  });
});

describe('colour', () => {
  it('is decided per stream: a redirected stdout gets no escape sequences while stderr is a terminal', async () => {
    const { directory } = await workspace('  - check: sample.failing\n');
    const stdout = capture(false);
    const stderr = capture(true);
    await runVerify({ checklist: 'checklist.yaml', registry }, { stdout, stderr, env: {}, cwd: directory });
    expect(stdout.text()).toContain('GATE FAILED');
    expect(stdout.text()).not.toContain('\x1b[');
    // The unsigned-evidence warning goes to the terminal, in colour.
    expect(stderr.text()).toContain('\x1b[33m\x1b[1mWARNING: no --sign-key');
  });

  it.each([
    ['a terminal', true, {}, 1],
    ['a pipe', false, {}, 0],
    ['NO_COLOR on a terminal', true, { NO_COLOR: '1' }, 0],
    ['an empty NO_COLOR', true, { NO_COLOR: '' }, 1],
    ['TERM=dumb', true, { TERM: 'dumb' }, 0],
    ['FORCE_COLOR on a pipe', false, { FORCE_COLOR: '1' }, 1],
    ['FORCE_COLOR=3 over NO_COLOR', false, { FORCE_COLOR: '3', NO_COLOR: '1' }, 3],
    ['FORCE_COLOR=0 on a terminal', true, { FORCE_COLOR: '0' }, 0],
  ] as const)('%s', (_name, isTTY, env, level) => {
    expect(colorLevel({ write: () => true, isTTY }, env)).toBe(level);
  });
});

describe('credentials in URLs', () => {
  it('never reach the console, the evidence or any report', async () => {
    const credential = `Hunter2-${randomBytes(8).toString('hex')}`;
    const { io, directory, stdout, stderr } = await workspace(
      '  - check: sample.target-echo\n',
      `https://deploy:${credential}@127.0.0.1:1/`,
    );
    const outcome = await runVerify(
      {
        checklist: 'checklist.yaml',
        out: 'evidence.json',
        report: ['junit:r/junit.xml', 'sarif:r/out.sarif', 'markdown:r/summary.md', 'html:r/page.html'],
        registry,
      },
      { ...io, env: { GITHUB_ACTIONS: 'true' } },
    );
    expect(outcome.exitCode).toBe(1);
    const written = await Promise.all(
      ['evidence.json', 'r/junit.xml', 'r/out.sarif', 'r/summary.md', 'r/page.html'].map((file) =>
        readFile(path.join(directory, file), 'utf8'),
      ),
    );
    const envelope = JSON.parse(written[0] ?? '{}');
    const payload = Buffer.from(envelope.payload, 'base64').toString('utf8');
    for (const text of [payload, ...written, stdout.text(), stderr.text()]) {
      expect(text).not.toContain(credential);
      expect(text).not.toContain('deploy:');
    }
    expect(decodeStatement(envelope)?.predicate.target.url).toBe('https://***@127.0.0.1:1/');
    expect(stdout.text()).toContain('GET https://***@127.0.0.1:1/health answered 500');
  });
});

describe('subjects', () => {
  it('name the repository by its remote (without userinfo) and commit, and the checklist by its path in the repository', async () => {
    const { directory } = await workspace('  - check: sample.passing\n');
    const git = (...args: string[]) => execa('git', args, { cwd: directory, env: GIT_ENV });
    await git('init', '-q', '-b', 'main');
    await git('remote', 'add', 'origin', 'https://ci-bot:ghp-token-value-123456@git.example.com/team/service.git');
    await git('add', 'checklist.yaml');
    await git('commit', '-q', '-m', 'gate');
    const commit = (await git('rev-parse', 'HEAD')).stdout.trim();
    // Two runners: one in the repository's root, one in a subfolder naming the checklist by a relative path.
    const names: string[][] = [];
    for (const [cwd, checklist] of [
      [directory, 'checklist.yaml'],
      [path.join(directory, 'sub'), '../checklist.yaml'],
    ] as const) {
      await mkdir(cwd, { recursive: true });
      const outcome = await runVerify({ checklist, registry }, { stdout: capture(), stderr: capture(), env: {}, cwd });
      const subjects = outcome.statement?.subject ?? [];
      expect(subjects[0]?.digest).toEqual({ gitCommit: commit });
      expect(JSON.stringify(outcome.statement)).not.toContain('ghp-token-value');
      expect(JSON.stringify(subjects)).not.toContain(directory);
      names.push(subjects.map((subject) => subject.name));
    }
    expect(names[0]).toEqual(['https://git.example.com/team/service.git', 'checklist.yaml']);
    expect(names[1]).toEqual(names[0]);
  });
});

describe('the GitHub job summary', () => {
  it('gets the Markdown report appended when $GITHUB_STEP_SUMMARY is set, once even if --report names it', async () => {
    const { io, directory } = await workspace('  - check: sample.failing\n');
    const summary = path.join(directory, 'step-summary.md');
    await writeFile(summary, '## written earlier in the step\n');
    const env = { GITHUB_STEP_SUMMARY: summary };
    expect((await runVerify({ checklist: 'checklist.yaml', registry }, { ...io, env })).exitCode).toBe(1);
    const written = await readFile(summary, 'utf8');
    expect(written.startsWith('## written earlier in the step\n## ❌ secgate: Gate failed')).toBe(true);
    expect(written).toContain('| ❌ | sample.failing | High | Failed |');

    await writeFile(summary, '');
    await runVerify({ checklist: 'checklist.yaml', report: [`markdown:${summary}`], registry }, { ...io, env });
    expect((await readFile(summary, 'utf8')).match(/## ❌ secgate/g)).toHaveLength(1);
  });

  it('that cannot be written never changes the exit code', async () => {
    const { io, directory, stderr } = await workspace('  - check: sample.passing\n');
    const env = { GITHUB_STEP_SUMMARY: path.join(directory, 'checklist.yaml', 'not-a-dir.md') };
    expect((await runVerify({ checklist: 'checklist.yaml', registry }, { ...io, env })).exitCode).toBe(0);
    expect(stderr.text()).toContain('could not write the job summary to $GITHUB_STEP_SUMMARY');
  });
});
