/**
 * The evidence schema (src/evidence/types.ts) is the one definition of the statement:
 * what the writer emits for a real run must come back from the schema unchanged. A field
 * the writer adds without the schema would be dropped by every reader (`evidence render`
 * once lost `partial` this way), and this suite fails instead.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CliIo } from '../../src/cli/io.js';
import { runVerify, type VerifyOptions } from '../../src/cli/verify.js';
import { defineCheck } from '../../src/engine/types.js';
import { decodeStatement } from '../../src/evidence/dsse.js';
import { evidenceStatementSchema } from '../../src/evidence/types.js';
import { sampleRegistry } from '../engine/sample-checks.js';

/** Uses every field an observation may carry. */
const everyField = defineCheck({
  id: 'sample.every-field',
  title: 'A check whose observation uses every field',
  source: 'secgate test',
  remediation: 'nothing to fix: this is a test check',
  effects: 'none',
  params: z.object({}).strict(),
  async run() {
    return {
      status: 'fail',
      summary: 'a finding in a file',
      observations: [
        {
          probe: 'scan config.yaml',
          expected: { nested: [1, 'two', null, true] },
          actual: 'found',
          ok: false,
          note: 'why it matters',
          location: { path: 'config.yaml', line: 3, column: 7, commit: 'a'.repeat(40) },
        },
      ],
    };
  },
});
const registry = [...sampleRegistry, everyField];

const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };

function sink(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

/** A committed git repository holding the checklist, so the statement has its commit subject and repository path. */
async function repository(checklist: string): Promise<CliIo> {
  const directory = await mkdtemp(path.join(tmpdir(), 'secgate-shape-'));
  await writeFile(path.join(directory, 'checklist.yaml'), checklist);
  const git = (...args: string[]) => execa('git', args, { cwd: directory, env: GIT_ENV });
  await git('init', '-q');
  await git('add', 'checklist.yaml');
  await git('commit', '-q', '-m', 'checklist');
  return { stdout: sink(), stderr: sink(), env: {}, cwd: directory };
}

/** Runs the gate and reads back the statement from the envelope it wrote, as any reader would. */
async function writtenStatement(options: VerifyOptions, io: CliIo): Promise<unknown> {
  const outcome = await runVerify(options, io);
  if (!outcome.envelope) throw new Error(`no envelope (exit ${outcome.exitCode})`);
  return JSON.parse(JSON.stringify(decodeStatement(outcome.envelope)));
}

describe('the evidence schema', () => {
  it('returns a partial run with waivers, severities and located observations unchanged', async () => {
    const io = await repository(
      [
        'version: 1',
        'target:',
        '  url: https://127.0.0.1:1',
        '  http_url: http://127.0.0.1:2',
        'repo: .',
        'checks:',
        '  - check: sample.passing',
        '  - check: sample.failing',
        '  - check: sample.failing',
        '    id: sample.failing.again',
        '    severity: low',
        '  - check: sample.every-field',
        '  - check: sample.locking',
        'waivers:',
        '  - check: sample.failing',
        '    reason: accepted for the test',
        '    expires: 2999-12-31',
        '  - check: sample.failing.again',
        '    reason: expired long ago',
        '    expires: 2000-01-01',
        '  - check: sample.passing',
        '    reason: nothing to waive',
        '    expires: 2999-12-31',
        '',
      ].join('\n'),
    );
    const written = await writtenStatement(
      { checklist: 'checklist.yaml', skip: ['sample.locking'], baselineRef: 'HEAD', registry },
      io,
    );
    const predicate = (written as { predicate: Record<string, unknown> }).predicate;
    // The run really exercises the optional parts of the predicate.
    expect(Object.keys(predicate)).toEqual(expect.arrayContaining(['partial', 'waivers', 'checks']));
    expect(predicate.checklist).toHaveProperty('repositoryPath', 'checklist.yaml');
    expect(predicate.checklist).toHaveProperty('baselineSha256');
    expect(predicate.target).toHaveProperty('http_url');
    expect(JSON.stringify(predicate.waivers)).toContain('"state":"expired"');
    expect(JSON.stringify(predicate.checks)).toContain('"state":"applied"');

    expect(evidenceStatementSchema.parse(written)).toStrictEqual(written);
  });

  it('returns an interrupted fleet target unchanged', async () => {
    const io = await repository(
      [
        'version: 1',
        'repo: .',
        'checks:',
        '  - check: sample.passing',
        '  - check: sample.hanging',
        'targets:',
        '  eu-prod:',
        '    target: { url: "https://127.0.0.1:1" }',
        '',
      ].join('\n'),
    );
    const controller = new AbortController();
    const running = writtenStatement(
      { checklist: 'checklist.yaml', target: 'eu-prod', registry, signal: controller.signal },
      io,
    );
    setImmediate(() => controller.abort());
    const written = await running;
    const predicate = (written as { predicate: Record<string, unknown> }).predicate;
    expect(predicate).toHaveProperty('interrupted', true);
    expect(predicate).toHaveProperty('fleet', { target: 'eu-prod' });

    expect(evidenceStatementSchema.parse(written)).toStrictEqual(written);
  });

  it('drops what it does not define, which is how drift shows', () => {
    // The guard the two tests above rely on: an unknown key does not survive a parse.
    const parsed = evidenceStatementSchema.safeParse({ ...sampleStatement(), unknown: true });
    expect(parsed.success && 'unknown' in parsed.data).toBe(false);
  });
});

function sampleStatement() {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'checklist.yaml', digest: { sha256: '0'.repeat(64) } }],
    predicateType: 'https://secgate.dev/evidence/v1',
    predicate: {
      tool: { name: 'secgate', version: '0.0.0' },
      target: { url: 'https://127.0.0.1:1', repo: '.', commit: null },
      checklist: { path: 'checklist.yaml', sha256: '0'.repeat(64) },
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
      verdict: 'pass',
      exitCode: 0,
      counts: { pass: 0, fail: 0, error: 0, skip: 0, waived: 0 },
      checks: [],
      waivers: [],
    },
  };
}
