/**
 * Signed evidence whose predicate contradicts itself, or is not secgate's, is
 * refused by every reader: the pure judgement (predicateContradictions), the
 * shared verification (verifyEvidence), and `evidence verify`, `evidence render`
 * and `evidence check` as child processes. Envelopes are signed here, by a key
 * made for the test: the signature is always valid, only the content lies.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import * as recorded from '../../fixtures/evidence/predicates.js';
import { signPayload } from '../../src/evidence/dsse.js';
import { FLEET_PREDICATE_TYPE } from '../../src/evidence/fleet.js';
import { type EvidencePredicate, PREDICATE_TYPE, STATEMENT_TYPE } from '../../src/evidence/types.js';
import { predicateContradictions, verifyEvidence } from '../../src/evidence/verify.js';

const { couldNotVerifyPredicate, failingPredicate, hostilePredicate, passingPredicate, waivedPredicate } = recorded;
const BIN = path.resolve('bin/secgate');
const COMMIT = 'c'.repeat(40);
const CHECKLIST_TEXT = 'version: 1\n';
const CHECKLIST_SHA = createHash('sha256').update(CHECKLIST_TEXT).digest('hex');
const gate = generateKeyPairSync('ed25519');

/** The review's forgery: a failing run re-signed as a pass. */
const forgedPass: EvidencePredicate = { ...failingPredicate, verdict: 'pass', exitCode: 0 };
const FORGED_PASS_REASON =
  "the signed predicate contradicts itself (the signature verifies): verdict 'pass' with exit code 0, but its checks make it 'fail' with exit code 1";

function envelopeOf(predicate: EvidencePredicate, predicateType: string = PREDICATE_TYPE) {
  const statement = {
    _type: STATEMENT_TYPE,
    subject: [
      { name: 'https://git.example/org/service.git', digest: { gitCommit: COMMIT } },
      { name: 'checklist.yaml', digest: { sha256: predicate.checklist.sha256 } },
    ],
    predicateType,
    predicate,
  };
  return signPayload(Buffer.from(JSON.stringify(statement)), gate.privateKey);
}

const [firstCheck] = passingPredicate.checks;
if (!firstCheck) throw new Error('the passing fixture has no check');

describe('predicateContradictions', () => {
  it.each([
    ['passing', passingPredicate],
    ['failing (waivers applied and expired, an error, a skip)', failingPredicate],
    ['could not verify', couldNotVerifyPredicate],
    ['waived', waivedPredicate],
    ['hostile', hostilePredicate],
    [
      'partial, allowed',
      { ...passingPredicate, verdict: 'partial', exitCode: 0, partial: { deselected: ['x'], allowed: true } },
    ],
    ['interrupted', { ...passingPredicate, verdict: 'error', exitCode: 3, interrupted: true }],
  ] as [string, EvidencePredicate][])('finds none in what a run records: %s', (_name, predicate) => {
    expect(predicateContradictions(predicate)).toEqual([]);
  });

  it.each([
    ['a pass over a failed check', forgedPass, FORGED_PASS_REASON.replace(/^.*: verdict/, 'verdict')],
    [
      'exit 0 under verdict fail',
      { ...failingPredicate, exitCode: 0 },
      "verdict 'fail' with exit code 0, but its checks make it 'fail' with exit code 1",
    ],
    [
      'a pass that left checks out',
      { ...passingPredicate, partial: { deselected: ['tls.protocols'], allowed: false } },
      "verdict 'pass' with exit code 0, but its checks make it 'partial' with exit code 3",
    ],
    [
      'a pass of an interrupted run',
      { ...passingPredicate, interrupted: true },
      "verdict 'pass' with exit code 0, but its checks make it 'error' with exit code 3",
    ],
    [
      'counts that hide a failure',
      { ...failingPredicate, counts: { ...failingPredicate.counts, fail: 0, pass: 5 } },
      'counts 5 pass, 0 fail, 1 error, 1 skip, 1 waived, but its checks are 2 pass, 3 fail, 1 error, 1 skip, 1 waived',
    ],
    [
      'a pass with no observation',
      {
        ...passingPredicate,
        checks: [{ ...firstCheck, observations: [] }],
        counts: { ...passingPredicate.counts, pass: 1 },
      },
      "check 'tls.protocols' is 'pass' without an observation proving it, or with one that breaks the control",
    ],
    [
      'a pass with a broken observation',
      {
        ...passingPredicate,
        checks: [{ ...firstCheck, observations: [{ probe: 'ClientHello TLSv1', ok: false }] }],
        counts: { ...passingPredicate.counts, pass: 1 },
      },
      "check 'tls.protocols' is 'pass' without an observation proving it, or with one that breaks the control",
    ],
    [
      'a waived check with no waiver',
      {
        ...passingPredicate,
        checks: [{ ...firstCheck, status: 'waived' }],
        counts: { pass: 0, fail: 0, error: 0, skip: 0, waived: 1 },
      },
      "check 'tls.protocols' is 'waived' without an applied waiver",
    ],
    [
      'a waiver that had expired before the run',
      { ...waivedPredicate, startedAt: '2027-01-01T00:00:00.000Z' },
      "check 'http.docs-disabled' is waived by a waiver that expired on 2026-12-31, before the run started",
    ],
  ] as [string, EvidencePredicate, string][])('names %s', (_name, predicate, problem) => {
    expect(predicateContradictions(predicate)).toContain(problem);
  });
});

describe('verifyEvidence', () => {
  it('accepts consistent evidence of every verdict', () => {
    for (const predicate of [passingPredicate, failingPredicate, couldNotVerifyPredicate]) {
      expect(verifyEvidence(envelopeOf(predicate), gate.publicKey)).toMatchObject({ valid: true });
    }
  });

  it('refuses a validly signed predicate that contradicts itself, naming the contradiction', () => {
    expect(verifyEvidence(envelopeOf(forgedPass), gate.publicKey)).toEqual({
      valid: false,
      keyid: expect.any(String),
      reason: FORGED_PASS_REASON,
    });
  });

  it("refuses a validly signed statement of another predicate type, even with secgate's predicate", () => {
    expect(verifyEvidence(envelopeOf(passingPredicate, 'https://slsa.dev/provenance/v1'), gate.publicKey)).toEqual({
      valid: false,
      keyid: expect.any(String),
      reason: 'not secgate evidence (predicateType https://slsa.dev/provenance/v1)',
    });
  });

  it("names a fleet statement handed to a reader of one target's evidence, and where it is read", () => {
    expect(verifyEvidence(envelopeOf(passingPredicate, FLEET_PREDICATE_TYPE), gate.publicKey)).toMatchObject({
      valid: false,
      reason: expect.stringMatching(
        /^a fleet statement, not one target's evidence: `secgate evidence verify` reads it/,
      ),
    });
  });
});

describe('evidence verify, render and check (child processes)', () => {
  let directory = '';
  const secgate = (...args: string[]) =>
    execa('node', [BIN, ...args], { cwd: directory, reject: false, env: { CI: 'true' }, extendEnv: false });
  const fresh = (predicate: EvidencePredicate): EvidencePredicate => ({
    ...predicate,
    checklist: { ...predicate.checklist, sha256: CHECKLIST_SHA },
    startedAt: new Date(Date.now() - 60_000).toISOString(),
    finishedAt: new Date(Date.now() - 30_000).toISOString(),
  });

  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'secgate-contradictions-'));
    await writeFile(path.join(directory, 'gate.pub.pem'), gate.publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(path.join(directory, 'checklist.yaml'), CHECKLIST_TEXT);
    const write = (name: string, envelope: unknown) => writeFile(path.join(directory, name), JSON.stringify(envelope));
    await write('forged.json', envelopeOf(fresh(forgedPass)));
    await write('slsa.json', envelopeOf(fresh(passingPredicate), 'https://slsa.dev/provenance/v1'));
    await write('honest.json', envelopeOf(fresh(passingPredicate)));
  });

  const check = (file: string) =>
    secgate(
      'evidence',
      'check',
      file,
      '--key',
      'gate.pub.pem',
      '--commit',
      COMMIT,
      '--checklist',
      'checklist.yaml',
      '--max-age',
      '1h',
    );

  it('evidence verify: INVALID, exit 1', async () => {
    const forged = await secgate('evidence', 'verify', 'forged.json', '--key', 'gate.pub.pem');
    expect(forged.exitCode).toBe(1);
    expect(forged.stdout).toBe(`INVALID forged.json: ${FORGED_PASS_REASON}`);
    const slsa = await secgate('evidence', 'verify', 'slsa.json', '--key', 'gate.pub.pem');
    expect(slsa.exitCode).toBe(1);
    expect(slsa.stdout).toBe('INVALID slsa.json: not secgate evidence (predicateType https://slsa.dev/provenance/v1)');
    const honest = await secgate('evidence', 'verify', 'honest.json', '--key', 'gate.pub.pem');
    expect(honest.exitCode, honest.stdout + honest.stderr).toBe(0);
    expect(honest.stdout).toMatch(/^VALID signature by key [0-9a-f]{64}\n/);
    expect(honest.stdout).toContain('GATE PASSED');
  });

  it('evidence render: the page says the evidence is not to be relied on, exit 1', async () => {
    const forged = await secgate('evidence', 'render', 'forged.json', '--key', 'gate.pub.pem');
    expect(forged.exitCode).toBe(1);
    expect(forged.stderr).toBe(`secgate: forged.json does not verify: ${FORGED_PASS_REASON}`);
    const page = await readFile(path.join(directory, 'forged.html'), 'utf8');
    expect(page).toContain('data-status="invalid"');
    expect(page).toContain('the signed predicate contradicts itself');
    const honest = await secgate('evidence', 'render', 'honest.json', '--key', 'gate.pub.pem');
    expect(honest.exitCode, honest.stderr).toBe(0);
  });

  it('evidence check: REFUSED, exit 3, naming the contradiction', async () => {
    const forged = await check('forged.json');
    expect(forged.exitCode).toBe(3);
    expect(forged.stdout).toBe(`REFUSED forged.json:\n  - ${FORGED_PASS_REASON}`);
    const honest = await check('honest.json');
    expect(honest.exitCode, honest.stdout + honest.stderr).toBe(0);
    expect(honest.stdout).toMatch(/^ADMITTED commit cccccccccccc: signed by key [0-9a-f]{64}, verdict pass/);
  });
});
