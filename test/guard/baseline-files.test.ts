/**
 * The weakening guard reads the baseline files of repo.history and
 * repo.committed-secrets at the base ref too: an entry the base branch's file
 * does not have accepts a finding the base would fail on, and blocks like a
 * new waiver. Pure judgement first, then verify --baseline-ref on real git
 * repositories with a secret generated at run time.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { GitFixture } from '../../fixtures/repos/git-fixture.js';
import { randomSecret } from '../../fixtures/repos/scenarios.js';
import type { CliIo } from '../../src/cli/io.js';
import { runVerify } from '../../src/cli/verify.js';
import type { EvidencePredicate } from '../../src/evidence/types.js';
import { addedBaselineEntries } from '../../src/guard/index.js';
import type { BaselineEntry } from '../../src/secrets/baseline.js';

const ENTRY: BaselineEntry = {
  fingerprint: 'a1b2c3d4e5f6',
  rule: 'generic-secret-assignment',
  reason: 'revoked test value, CHG-7',
};

describe('addedBaselineEntries', () => {
  const versions = (head: BaselineEntry[], base: BaselineEntry[] | { none: string }) => ({
    entry: 'repo.history',
    file: 'secgate-baseline.json',
    head,
    base,
  });

  it.each([
    ['the same entries', [ENTRY], [ENTRY]],
    ['an entry removed', [], [ENTRY]],
    ['a reason reworded', [{ ...ENTRY, reason: 'revoked in March, CHG-7' }], [ENTRY]],
    ['no entries, and no file at the base', [], { none: 'the file does not exist there' }],
  ] as [string, BaselineEntry[], BaselineEntry[] | { none: string }][])('lets %s through', (_name, head, base) => {
    expect(addedBaselineEntries(versions(head, base), 'main')).toEqual([]);
  });

  it.each([
    [
      'an entry added',
      [ENTRY],
      [],
      'repo.history: secgate-baseline.json accepts finding a1b2c3d4e5f6 (generic-secret-assignment), which it does not accept at main (revoked test value, CHG-7)',
    ],
    [
      'an entry widened to every rule',
      [{ fingerprint: ENTRY.fingerprint, reason: ENTRY.reason }],
      [ENTRY],
      'repo.history: secgate-baseline.json accepts finding a1b2c3d4e5f6, which it does not accept at main (revoked test value, CHG-7)',
    ],
    [
      'an entry in a file the base does not have',
      [{ ...ENTRY, path: 'deploy/app.env' }],
      { none: 'the file does not exist there' },
      'repo.history: secgate-baseline.json accepts finding a1b2c3d4e5f6 (generic-secret-assignment in deploy/app.env), which it does not accept at main (the file does not exist there) (revoked test value, CHG-7)',
    ],
  ] as [string, BaselineEntry[], BaselineEntry[] | { none: string }, string][])(
    'blocks %s',
    (_name, head, base, message) => {
      expect(addedBaselineEntries(versions(head, base), 'main')).toEqual([
        expect.objectContaining({ kind: 'baseline-entry-added', blocking: true, message }),
      ]);
    },
  );
});

function quietIo(cwd: string): CliIo {
  const sink = () =>
    new Writable({
      write(_chunk, _encoding, done) {
        done();
      },
    });
  return { stdout: sink(), stderr: sink(), env: {}, cwd };
}

const checklist = (file: string, extra = '') =>
  `version: 1\ntarget:\n  url: https://127.0.0.1:1\nrepo: .\nchecks:\n  - check: repo.history\n    with: { baseline: ${file} }\n${extra}`;
const EMPTY_BASELINE = '{ "findings": [] }\n';
const WAIVER =
  'waivers:\n  - check: secgate.baseline\n    reason: the committed value is revoked, CHG-42\n    expires: 2999-12-31\n';

function record(predicate: EvidencePredicate | undefined, id: string) {
  return predicate?.checks.find((check) => check.id === id);
}

describe('verify --baseline-ref with a baseline file (real repositories)', () => {
  let fixture: GitFixture | undefined;
  afterEach(async () => {
    await fixture?.cleanup();
    fixture = undefined;
  });

  const verify = async (repo: GitFixture) =>
    (await runVerify({ checklist: 'checklist.yaml', baselineRef: 'main' }, quietIo(repo.dir))).statement?.predicate;

  it('a finding accepted on the branch by a new baseline entry blocks unless secgate.baseline is waived', async () => {
    fixture = await GitFixture.create('baseline-entry');
    await fixture.commit('gate', {
      'checklist.yaml': checklist('secgate-baseline.json'),
      'secgate-baseline.json': EMPTY_BASELINE,
    });
    await fixture.git('checkout', '--quiet', '-b', 'feature');
    await fixture.commit('settings', { 'config/settings.py': `JWT_SECRET_KEY = "${randomSecret()}"\n` });

    const leaked = await verify(fixture);
    const finding = record(leaked, 'repo.history');
    expect(finding?.status).toBe('fail');
    expect(record(leaked, 'secgate.baseline')?.status).toBe('pass');
    const broken = finding?.observations.filter((observation) => observation.ok === false) ?? [];
    expect(broken).toHaveLength(1);
    const { fingerprint } = (broken[0]?.actual ?? {}) as { fingerprint?: string };
    expect(fingerprint).toMatch(/^[0-9a-f]{12}$/);

    if (fingerprint === undefined) throw new Error('the finding names no fingerprint');
    const accepted = { findings: [{ fingerprint, reason: 'test value, never deployed' }] };
    await fixture.commit('accept it', { 'secgate-baseline.json': `${JSON.stringify(accepted)}\n` });
    const baselined = await verify(fixture);
    expect(record(baselined, 'repo.history')?.status).toBe('pass');
    const guard = record(baselined, 'secgate.baseline');
    expect(guard?.status).toBe('fail');
    expect(guard?.summary).toBe(
      `1 weakening against main: repo.history: secgate-baseline.json accepts finding ${fingerprint}, which it does not accept at main (test value, never deployed)`,
    );
    expect(baselined?.verdict).toBe('fail');

    await fixture.commit('waive the guard', { 'checklist.yaml': checklist('secgate-baseline.json', WAIVER) });
    const waived = await verify(fixture);
    expect(record(waived, 'secgate.baseline')?.status).toBe('waived');
    expect(waived?.verdict).toBe('pass');
  }, 60_000);

  it('a baseline file the base ref does not have: every entry in it is new; removing entries passes', async () => {
    fixture = await GitFixture.create('baseline-file-new');
    const entry = { fingerprint: 'a1b2c3d4e5f6', reason: 'revoked test value, CHG-7' };
    await fixture.commit('gate', {
      'checklist.yaml': checklist('secgate-baseline.json'),
      'secgate-baseline.json': `${JSON.stringify({ findings: [entry] })}\n`,
    });
    await fixture.git('checkout', '--quiet', '-b', 'feature');
    await fixture.commit('fewer accepted', { 'secgate-baseline.json': EMPTY_BASELINE });
    expect(record(await verify(fixture), 'secgate.baseline')?.status).toBe('pass');

    await fixture.commit('another file', {
      'checklist.yaml': checklist('ci/accepted.json'),
      'ci/accepted.json': `${JSON.stringify([entry])}\n`,
    });
    const guard = record(await verify(fixture), 'secgate.baseline');
    expect(guard?.status).toBe('fail');
    expect(guard?.summary).toContain(
      'repo.history: ci/accepted.json accepts finding a1b2c3d4e5f6, which it does not accept at main (the file does not exist there) (revoked test value, CHG-7)',
    );
  }, 60_000);
});
