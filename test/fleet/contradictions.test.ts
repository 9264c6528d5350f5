/**
 * A fleet statement signed with an allowed key whose content lies: an overall
 * verdict its rows do not make, a row whose status its own record does not
 * make, a target both joined and missing, a row its subject does not bind.
 * Every reader re-judges the statement with the join's own rules and refuses
 * it, naming the contradiction; what the join writes is never refused.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { judgeAdmission } from '../../src/evidence/admission.js';
import type { FleetPredicate, FleetStatement, FleetTargetRecord } from '../../src/evidence/fleet.js';
import { checkFleetStatement, fleetContradictions } from '../../src/evidence/fleet-check.js';
import {
  aggregate,
  CHECKLIST_SHA,
  COMMIT,
  evidence,
  FAILED,
  fleetOf,
  gate,
  HOUR,
  NOW,
  OTHER_COMMIT,
  PARTIAL,
  signFleet,
} from './signed-evidence.js';

const BIN = path.resolve('bin/secgate');

/** eu passed, us failed a control: the fleet fails. */
const mixed = fleetOf(aggregate([evidence('eu'), evidence('us', FAILED)]));
/** eu passed, us has no evidence: the fleet is not proven. */
const halfMissing = fleetOf(aggregate([evidence('eu')]));
const bothPass = fleetOf(aggregate([evidence('eu'), evidence('us')]));

const PREFIX = 'the signed fleet statement contradicts itself (the signature verifies): ';
const ALL_PASS = { targets: 2, pass: 2, fail: 0, error: 0, missing: 0 };

function forge(statement: FleetStatement, change: Partial<FleetPredicate>): FleetStatement {
  return { ...statement, predicate: { ...statement.predicate, ...change } };
}

/** The statement with one target's row changed, and the fleet's summary made to agree with the lie. */
function forgeRow(statement: FleetStatement, name: string, change: Partial<FleetTargetRecord>): FleetStatement {
  const targets = statement.predicate.targets.map((row) => (row.name === name ? { ...row, ...change } : row));
  return forge(statement, { targets, verdict: 'pass', exitCode: 0, counts: ALL_PASS });
}

const usRow = mixed.predicate.targets[1];
if (!usRow) throw new Error('the mixed fleet has no us row');
const euRow = bothPass.predicate.targets[0];
if (!euRow) throw new Error('the passing fleet has no eu row');

describe('evidence check on a signed fleet statement that contradicts itself', () => {
  const policy = { commit: COMMIT, checklistSha256: CHECKLIST_SHA, maxAgeMs: 24 * HOUR, now: NOW };

  it.each([
    [
      'a fleet pass over a failed target',
      forge(mixed, { verdict: 'pass', exitCode: 0 }),
      'eu',
      "verdict 'pass' with exit code 0, but its targets make it 'fail' with exit code 1",
    ],
    [
      'counts and a verdict that hide a failed target',
      forge(mixed, { verdict: 'pass', exitCode: 0, counts: ALL_PASS }),
      'eu',
      'counts 2 targets: 2 pass, 0 fail, 0 error, 0 missing, but its targets are 2 targets: 1 pass, 1 fail, 0 error, 0 missing',
    ],
    [
      'a fleet pass over a missing target',
      forge(halfMissing, { verdict: 'pass', exitCode: 0 }),
      'eu',
      "verdict 'pass' with exit code 0, but its targets make it 'error' with exit code 3",
    ],
    [
      "a target 'pass' whose own verdict is 'fail'",
      forgeRow(mixed, 'us', { status: 'pass' }),
      'us',
      "target 'us' is 'pass', but its verdict 'fail' and its problems (none) make it 'fail'",
    ],
    [
      "a target 'pass' that lists a problem",
      forgeRow(mixed, 'us', {
        status: 'pass',
        verdict: 'pass',
        counts: euRow.counts,
        problems: ['stale: finished 2d ago'],
      }),
      'us',
      "target 'us' is 'pass', but its verdict 'pass' and its problems (stale: finished 2d ago) make it 'error'",
    ],
    [
      "a target 'pass' whose counts show failed checks",
      forgeRow(mixed, 'us', { status: 'pass', verdict: 'pass' }),
      'us',
      "target 'us' has verdict 'pass', but its checks' counts (2 pass, 3 fail, 1 error, 1 skip, 1 waived) make it 'fail'",
    ],
    [
      "a target 'pass' that verified another commit",
      forge(bothPass, {
        targets: bothPass.predicate.targets.map((row) => (row.name === 'us' ? { ...row, commit: OTHER_COMMIT } : row)),
      }),
      'us',
      `target 'us' does not list the problem its own record makes: verified commit ${OTHER_COMMIT.slice(0, 12)}, not ${COMMIT.slice(0, 12)}`,
    ],
    [
      "a target 'pass' older than the join's max age",
      forge(bothPass, { maxAgeSeconds: 600 }),
      'us',
      "target 'us' does not list the problem its own record makes: stale: finished 60m ago, more than the 10m allowed",
    ],
    [
      'a target both joined and missing',
      forge(bothPass, {
        missing: ['us'],
        counts: { ...ALL_PASS, targets: 3, missing: 1 },
        verdict: 'error',
        exitCode: 3,
      }),
      'us',
      "target 'us' is listed 2 times (1 joined, 1 missing)",
    ],
    [
      'two rows for one target, the first passing',
      forge(mixed, {
        targets: [{ ...usRow, status: 'pass', verdict: 'pass', counts: euRow.counts }, ...mixed.predicate.targets],
        verdict: 'pass',
        exitCode: 0,
        counts: ALL_PASS,
      }),
      'us',
      "target 'us' is listed 2 times (2 joined, 0 missing)",
    ],
    [
      "a target's row that its subject does not bind",
      { ...bothPass, subject: bothPass.subject.map((item) => ({ ...item, digest: { sha256: '0'.repeat(64) } })) },
      'eu',
      `the subject of target 'eu' is sha256 000000000000…, not its evidence's ${euRow.evidenceSha256.slice(0, 12)}…`,
    ],
  ] as [string, FleetStatement, string, string][])('refuses %s, naming it', (_name, forged, target, contradiction) => {
    const decision = judgeAdmission(signFleet(forged), [gate.publicKey], { ...policy, target });
    expect(decision.exitCode).toBe(3);
    expect(decision.reasons).toHaveLength(1);
    expect(decision.reasons[0]).toContain(PREFIX);
    expect(decision.reasons[0]).toContain(contradiction);
  });

  it('still admits what the join wrote', () => {
    for (const [statement, target] of [
      [bothPass, 'us'],
      [mixed, 'eu'],
      [halfMissing, 'eu'],
    ] as const) {
      expect(judgeAdmission(signFleet(statement), [gate.publicKey], { ...policy, target })).toMatchObject({
        exitCode: 0,
      });
    }
  });
});

describe('fleetContradictions', () => {
  it.each([
    ['every target passed', () => bothPass],
    ['a target failed', () => mixed],
    ['a target is missing', () => halfMissing],
    ['a partial target', () => fleetOf(aggregate([evidence('eu'), evidence('us', PARTIAL)]))],
    [
      'a stale target',
      () => fleetOf(aggregate([evidence('eu'), evidence('us', { finishedAt: '2026-12-01T11:00:00.000Z' })])),
    ],
    ['a dirty work tree', () => fleetOf(aggregate([evidence('eu'), evidence('us', {}, { uncommitted: true })]))],
    [
      'targets of different commits',
      () => fleetOf(aggregate([evidence('eu'), evidence('us', {}, { commit: OTHER_COMMIT })])),
    ],
    [
      'another checklist',
      () => fleetOf(aggregate([evidence('eu', { checklist: { path: 'c.yaml', sha256: 'f'.repeat(64) } })])),
    ],
    ['nothing joined', () => fleetOf(aggregate([]))],
  ])('finds none in what the join writes: %s', (_name, statement) => {
    expect(fleetContradictions(statement())).toEqual([]);
  });

  it("refuses a statement that is not the join's shape, naming where", () => {
    const { status: _dropped, ...rowWithoutStatus } = euRow;
    expect(checkFleetStatement(forge(bothPass, { targets: [rowWithoutStatus as FleetTargetRecord] }))).toEqual({
      ok: false,
      problem: expect.stringMatching(/^not a secgate fleet statement at predicate\.targets\.0\.status: /),
    });
  });
});

describe('evidence verify and check on fleet statements (child processes)', () => {
  let directory = '';
  const secgate = (...args: string[]) =>
    execa('node', [BIN, ...args], { cwd: directory, reject: false, env: { CI: 'true' }, extendEnv: false });
  const verify = (file: string) => secgate('evidence', 'verify', file, '--key', 'gate.pub.pem');
  const check = (file: string, target: string) =>
    secgate(
      'evidence',
      'check',
      file,
      '--key',
      'gate.pub.pem',
      '--commit',
      COMMIT,
      '--checklist-sha256',
      CHECKLIST_SHA,
      '--target',
      target,
    );
  const FORGED_REASON = `${PREFIX}verdict 'pass' with exit code 0, but its targets make it 'fail' with exit code 1`;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'secgate-fleet-contradictions-'));
    // Fresh evidence, joined now: only the contradiction can refuse it.
    const recent = {
      startedAt: new Date(Date.now() - 60_000).toISOString(),
      finishedAt: new Date(Date.now() - 30_000).toISOString(),
    };
    const honest = fleetOf(
      aggregate(
        [evidence('eu', recent), evidence('us', { ...FAILED, ...recent })],
        ['eu', 'us'],
        [gate.publicKey],
        new Date(),
      ),
    );
    await writeFile(path.join(directory, 'gate.pub.pem'), gate.publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(path.join(directory, 'honest.json'), JSON.stringify(signFleet(honest)));
    await writeFile(
      path.join(directory, 'forged.json'),
      JSON.stringify(signFleet(forge(honest, { verdict: 'pass', exitCode: 0 }))),
    );
  });

  it("evidence verify: a forged fleet pass is INVALID (exit 1); the join's statement is VALID and shows its targets", async () => {
    const forged = await verify('forged.json');
    expect(forged.exitCode).toBe(1);
    expect(forged.stdout).toBe(`INVALID forged.json: ${FORGED_REASON}`);
    const honest = await verify('honest.json');
    expect(honest.exitCode, honest.stdout + honest.stderr).toBe(0);
    expect(honest.stdout).toMatch(
      /^VALID signature by key [0-9a-f]{64}\nsubject: secgate-target:eu sha256:[0-9a-f]{64}\n/,
    );
    expect(honest.stdout).toMatch(
      /\nPASS {2}eu +pass\nFAIL {2}us +fail\n\nFLEET FAIL — 1 of 2 targets pass, 1 fail, 0 not proven, 0 missing$/,
    );
  });

  it('evidence check: a forged fleet pass is REFUSED (exit 3), naming the contradiction', async () => {
    const forged = await check('forged.json', 'eu');
    expect(forged.exitCode).toBe(3);
    expect(forged.stdout).toBe(`REFUSED forged.json:\n  - ${FORGED_REASON}`);
    const honest = await check('honest.json', 'eu');
    expect(honest.exitCode, honest.stdout + honest.stderr).toBe(0);
    expect(honest.stdout).toMatch(/^ADMITTED target eu, commit aaaaaaaaaaaa/);
  });
});
