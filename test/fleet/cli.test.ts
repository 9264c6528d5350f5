/**
 * A fleet end to end, as CI runs it: real HTTPS targets (light fixture
 * servers), a real git repository, real child processes — verify --all, plan,
 * aggregate, and the deploy-time check, with their exit codes.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpFixture } from '../../fixtures/http/servers.js';
import type { TargetHandle } from '../harness/check-tester.js';

const BIN = path.resolve('bin/secgate');
const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };

describe('a fleet from verify to deploy (child processes)', () => {
  let directory = '';
  let commit = '';
  const servers: TargetHandle[] = [];
  const secgate = (...args: string[]) =>
    execa('node', [BIN, ...args], { cwd: directory, reject: false, env: { CI: 'true' }, extendEnv: false });

  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'secgate-fleet-cli-'));
    servers.push(await startHttpFixture(), await startHttpFixture());
    const [eu, us] = servers.map((server) => server.context.target);
    await writeFile(path.join(directory, 'ca.crt'), eu?.caPem ?? '');
    await writeFile(
      path.join(directory, 'checklist.yaml'),
      'version: 1\ntarget:\n  ca_file: ca.crt\n  timeout_ms: 10000\nchecks:\n  - check: http.status\n    with: { path: /health, status: 200 }\n  - check: http.headers\ninventory: inventory.yaml\n',
    );
    await writeFile(
      path.join(directory, 'inventory.yaml'),
      `version: 1\ntargets:\n  eu:\n    target: { url: "${eu?.url}" }\n  us:\n    target: { url: "${us?.url}" }\n`,
    );
    // Evidence and keys go where git does not look, so the work tree stays the commit verified.
    await writeFile(path.join(directory, '.gitignore'), 'ev/\nkeys/\nfleet*.json\n');
    const git = (...args: string[]) => execa('git', args, { cwd: directory, env: GIT_ENV });
    await git('init', '-q', '-b', 'main');
    await git('add', '.');
    await git('commit', '-q', '-m', 'fleet');
    commit = (await git('rev-parse', 'HEAD')).stdout.trim();
    await mkdir(path.join(directory, 'keys'));
    expect((await secgate('keygen', '--out', 'keys/gate')).exitCode).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('verify --all, plan, aggregate and check', async () => {
    const verify = await secgate(
      'verify',
      '--all',
      '--parallel',
      '2',
      '--sign-key',
      'keys/gate.key.pem',
      '--out',
      'ev/{target}.json',
    );
    expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/== target eu ==[\s\S]*GATE PASSED/);
    expect(verify.stdout).toContain('FLEET PASSED: 2 of 2 targets passed');
    const eu = JSON.parse(
      Buffer.from(JSON.parse(await readFile(path.join(directory, 'ev/eu.json'), 'utf8')).payload, 'base64').toString(),
    );
    expect(eu.predicate.fleet).toEqual({
      target: 'eu',
      inventory: { path: 'inventory.yaml', sha256: expect.any(String) },
    });
    expect(eu.subject[0].digest.gitCommit).toBe(commit);

    const plan = await secgate('plan', '--shards', '2', '--format', 'github', '--evidence', 'ev/eu.json', 'ev/us.json');
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(
      JSON.parse(plan.stdout)
        .include.map((shard: { targets: string }) => shard.targets)
        .sort(),
    ).toEqual(['eu', 'us']);

    const KEYS = ['--key', 'keys/gate.pub.pem'];
    const check = (envelope: string, target: string, commitId = commit) =>
      secgate(
        'evidence',
        'check',
        envelope,
        ...KEYS,
        '--checklist',
        'checklist.yaml',
        '--commit',
        commitId,
        '--target',
        target,
      );
    const join = (out: string, ...envelopes: string[]) =>
      secgate('evidence', 'aggregate', ...envelopes, ...KEYS, '--sign-key', 'keys/gate.key.pem', '--out', out);

    const aggregate = await join('fleet.json', 'ev/eu.json', 'ev/us.json');
    expect(aggregate.exitCode, aggregate.stdout + aggregate.stderr).toBe(0);
    expect(aggregate.stdout).toContain('FLEET PASSED');

    const admitted = await check('fleet.json', 'eu');
    expect(admitted.exitCode, admitted.stdout + admitted.stderr).toBe(0);
    expect(admitted.stdout).toContain('ADMITTED target eu');
    const wrongCommit = await check('fleet.json', 'eu', 'f'.repeat(40));
    expect(wrongCommit.exitCode).toBe(3);
    expect(wrongCommit.stdout).toContain(`the evidence verified commit ${commit}, not ${'f'.repeat(40)}`);
    const targetEvidence = await check('ev/us.json', 'us');
    expect(targetEvidence.exitCode, targetEvidence.stdout).toBe(0);
    expect((await check('fleet.json', 'eu', 'nothex')).exitCode).toBe(2);

    // The join refuses a duplicate (nothing written), and a missing target fails the fleet.
    const duplicate = await join('fleet-dup.json', 'ev/eu.json', 'ev/eu.json');
    expect(duplicate.exitCode).toBe(2);
    expect(duplicate.stderr).toContain("a second envelope for target 'eu'");
    const missing = await join('fleet-missing.json', 'ev/eu.json');
    expect(missing.exitCode).toBe(3);
    expect(missing.stdout).toMatch(/MISSING us/);
    expect((await check('fleet-missing.json', 'us')).exitCode).toBe(3);
  }, 180_000);
});
