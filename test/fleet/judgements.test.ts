/**
 * The join (aggregate) and the deploy-time admission (check) as pure
 * judgements over really signed envelopes: what they accept, and every way
 * they refuse.
 */
import { describe, expect, it } from 'vitest';
import { judgeAdmission } from '../../src/evidence/admission.js';
import { aggregateFleet } from '../../src/evidence/fleet.js';
import type { EvidencePredicate } from '../../src/evidence/types.js';
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
  stranger,
} from './signed-evidence.js';

describe('evidence aggregate', () => {
  it('joins passing evidence: one subject per target, verdict pass', () => {
    const fleet = fleetOf(aggregate([evidence('eu'), evidence('us')]));
    expect(fleet.predicate.verdict).toBe('pass');
    expect(fleet.predicate.exitCode).toBe(0);
    expect(fleet.predicate.commit).toBe(COMMIT);
    expect(fleet.subject.map((subject) => subject.name)).toEqual(['secgate-target:eu', 'secgate-target:us']);
    expect(fleet.subject[0]?.digest.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(fleet.predicate.targets.map((row) => [row.name, row.status, row.durationMs])).toEqual([
      ['eu', 'pass', 4000],
      ['us', 'pass', 4000],
    ]);
  });

  it.each([
    [
      'a tampered envelope',
      () => [{ ...evidence('eu'), payload: evidence('us').payload }, evidence('us')],
      /e0\.json: the signature does not match the payload/,
    ],
    [
      'an unknown key',
      () => [evidence('eu', {}, { key: stranger.privateKey }), evidence('us')],
      /e0\.json: no signature by this key/,
    ],
    [
      'a duplicate target',
      () => [evidence('eu'), evidence('us'), evidence('eu')],
      /e2\.json: a second envelope for target 'eu' \(the first is e0\.json\)/,
    ],
    [
      'a target not in the inventory',
      () => [evidence('eu'), evidence('ap')],
      /e1\.json: target 'ap' is not in the inventory/,
    ],
    ['evidence of no fleet target', () => [evidence(undefined)], /e0\.json: its evidence names no fleet target/],
    ['not an envelope', () => [{ hello: 'world' }], /e0\.json: not a DSSE envelope/],
  ])('refuses %s: nothing is written', (_name, envelopes, reason) => {
    const result = aggregate(envelopes());
    expect('refused' in result).toBe(true);
    expect('refused' in result ? result.refused.join('\n') : '').toMatch(reason);
  });

  it('a missing target fails the fleet verdict, and is named', () => {
    const fleet = fleetOf(aggregate([evidence('eu')]));
    expect(fleet.predicate.verdict).toBe('error');
    expect(fleet.predicate.exitCode).toBe(3);
    expect(fleet.predicate.missing).toEqual(['us']);
    expect(fleet.subject).toHaveLength(1);
  });

  it.each([
    ['failed', FAILED, {}, 'fail', 'fail', []],
    ['partial', PARTIAL, {}, 'error', 'error', ['partial run']],
    [
      'stale',
      { finishedAt: '2026-12-01T11:00:00.000Z' },
      {},
      'error',
      'error',
      ['stale: finished 2d ago, more than the 24h allowed'],
    ],
    [
      'for another checklist',
      { checklist: { path: 'c.yaml', sha256: 'f'.repeat(64) } },
      {},
      'error',
      'error',
      ['verified checklist sha256 ffffffffffff…'],
    ],
    ['of a dirty work tree', {}, { uncommitted: true }, 'error', 'error', ['it names no clean commit']],
  ])('a %s target fails the fleet verdict', (_name, overrides, options, status, verdict, problems) => {
    const fleet = fleetOf(
      aggregate([evidence('eu', overrides as Partial<EvidencePredicate>, options), evidence('us')]),
    );
    expect(fleet.predicate.targets[0]?.status).toBe(status);
    expect(fleet.predicate.verdict).toBe(verdict);
    for (const problem of problems) expect(fleet.predicate.targets[0]?.problems.join('; ')).toContain(problem);
  });

  it('targets that verified different commits: none passes unless --commit names the one', () => {
    const split = fleetOf(aggregate([evidence('eu'), evidence('us', {}, { commit: OTHER_COMMIT })]));
    expect(split.predicate.commit).toBeNull();
    expect(split.predicate.verdict).toBe('error');
    const named = fleetOf(
      aggregateFleet({
        envelopes: [
          { source: 'a', envelope: evidence('eu') },
          { source: 'b', envelope: evidence('us', {}, { commit: OTHER_COMMIT }) },
        ],
        keys: [gate.publicKey],
        targets: ['eu', 'us'],
        checklistSha256: CHECKLIST_SHA,
        commit: COMMIT,
        maxAgeMs: 24 * HOUR,
        now: NOW,
        toolVersion: '0.1.0',
      }),
    );
    expect(named.predicate.targets.map((row) => row.status)).toEqual(['pass', 'error']);
  });
});

describe('evidence check (deploy-time admission)', () => {
  const policy = { commit: COMMIT, checklistSha256: CHECKLIST_SHA, maxAgeMs: 24 * HOUR, now: NOW, target: 'eu' };
  const admit = (envelope: unknown, overrides: Partial<typeof policy> = {}, keys = [gate.publicKey]) =>
    judgeAdmission(envelope, keys, { ...policy, ...overrides });

  it('admits a fresh passing run of this commit, checklist and target', () => {
    expect(admit(evidence('eu'))).toEqual({ exitCode: 0, reasons: [], keyid: expect.any(String) });
  });

  it.each([
    ['the wrong commit', evidence('eu'), { commit: OTHER_COMMIT }, 3, `verified commit ${COMMIT}, not ${OTHER_COMMIT}`],
    [
      'stale evidence',
      evidence('eu'),
      { maxAgeMs: 30 * 60_000 },
      3,
      'stale: finished 60m ago, more than the 30m allowed',
    ],
    ['a partial run', evidence('eu', PARTIAL), {}, 3, "verdict is 'partial', not 'pass'"],
    ['a failed run', evidence('eu', FAILED), {}, 1, "verdict is 'fail', not 'pass'"],
    ['evidence from the future', evidence('eu', { finishedAt: '2026-12-03T13:00:00.000Z' }), {}, 3, 'in the future'],
    ['another checklist', evidence('eu'), { checklistSha256: '0'.repeat(64) }, 3, 'not the reviewed 0000'],
    ['another target', evidence('us'), {}, 3, "the evidence covers target 'us', not 'eu'"],
    ['a dirty work tree', evidence('eu', {}, { uncommitted: true }), {}, 3, 'names no clean commit'],
    ['an unknown key', evidence('eu', {}, { key: stranger.privateKey }), {}, 3, 'not signed by an allowed key'],
    [
      'a tampered envelope',
      { ...evidence('eu'), payload: evidence('us').payload },
      {},
      3,
      'the signature does not match',
    ],
  ])('refuses %s', (_name, envelope, overrides, exitCode, reason) => {
    const decision = admit(envelope, overrides);
    expect(decision.exitCode).toBe(exitCode);
    expect(decision.reasons.join('\n')).toContain(reason);
  });

  it('reads a fleet statement: the named target must be covered and have passed the join', () => {
    const statement = fleetOf(aggregate([evidence('eu'), evidence('us', PARTIAL)]));
    const signed = signFleet(statement);
    expect(admit(signed).exitCode).toBe(0);
    expect(admit(signed, { target: 'us' }).reasons).toEqual(["verdict is 'partial', not 'pass'"]);
    const missing = signFleet(fleetOf(aggregate([evidence('eu')])));
    expect(admit(missing, { target: 'us' }).reasons).toEqual([
      "target 'us' is missing from the fleet (no evidence was joined for it)",
    ]);
    expect(admit(signed, { target: 'ap' }).exitCode).toBe(3);
    expect(admit(signed, { commit: OTHER_COMMIT }).exitCode).toBe(3);
  });
});
