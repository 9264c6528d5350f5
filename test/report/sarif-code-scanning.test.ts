/**
 * The SARIF report as GitHub code scanning ingests it: valid against the
 * official SARIF 2.1.0 schema, and within the rules GitHub tracks alerts by —
 * every (ruleId, fingerprint) unique in a run, fingerprints that survive a
 * line inserted above and a new target URL, every result located (a control at
 * its own checklist entry), paths from the repository's top level, a settable
 * category, undetermined results as `open`, and a security severity per rule.
 */
import { describe, expect, it } from 'vitest';
import { couldNotVerifyPredicate, failingPredicate, hostilePredicate } from '../../fixtures/evidence/predicates.js';
import type { Observation } from '../../src/engine/types.js';
import type { CheckRecord, EvidencePredicate } from '../../src/evidence/types.js';
import { reporters } from '../../src/report/index.js';
import { loadSarifValidator } from './sarif-validator.js';

const validateSarif = loadSarifValidator();

interface Result {
  ruleId: string;
  ruleIndex: number;
  kind: string;
  level: string;
  message: { text: string };
  locations: {
    physicalLocation: {
      artifactLocation: { uri: string; uriBaseId: string };
      region: { startLine: number; startColumn?: number };
    };
  }[];
  partialFingerprints: Record<string, string>;
  properties: { status: string; severity?: string };
}
interface Rule {
  id: string;
  name: string;
  properties: { 'security-severity'?: string; tags: string[] };
}
interface Run {
  tool: { driver: { informationUri?: string; rules: Rule[] } };
  automationDetails: { id: string };
  originalUriBaseIds: Record<string, unknown>;
  results: Result[];
}

function runOf(predicate: EvidencePredicate, sarifCategory?: string): Run {
  const log = JSON.parse(reporters.sarif({ predicate, ...(sarifCategory ? { sarifCategory } : {}) })) as {
    runs: Run[];
  };
  const [run] = log.runs;
  if (!run) throw new Error('no run');
  return run;
}

const SECRET = (rule: string, sha256: string, line: number, path = 'src/config.ts'): Observation => ({
  probe: `${path}:${line}`,
  expected: 'no secret in tracked files',
  actual: { rule, length: 40, sha256 },
  ok: false,
  note: `${rule} in ${path}:${line}`,
  location: { path, line, column: 9 },
});

/** What repo.committed-secrets records for a file holding three secrets, two on one line, one of them twice. */
function secretsRecord(shift: number): CheckRecord {
  return {
    id: 'repo.committed-secrets',
    check: 'repo.committed-secrets',
    title: 'No secret is committed',
    source: 'seed 002, checklist item 9',
    status: 'fail',
    severity: 'critical',
    checklistLine: 40 + shift,
    summary: '4 findings',
    remediation: 'Remove and rotate the secrets.',
    durationMs: 5,
    observations: [
      SECRET('aws-access-key', 'aaaaaaaaaaaa', 3 + shift),
      SECRET('generic-api-key', 'aaaaaaaaaaaa', 3 + shift),
      SECRET('github-pat', 'bbbbbbbbbbbb', 7 + shift),
      SECRET('github-pat', 'bbbbbbbbbbbb', 12 + shift),
      {
        probe: 'git history secret cccccccccccc',
        expected: 'no secret in any committed blob',
        actual: { rule: 'private-key', fingerprint: 'cccccccccccc', length: 1700, path: 'deploy/key.pem' },
        ok: false,
        note: 'private-key in deploy/key.pem introduced by commit 1234',
        location: { path: 'deploy/key.pem', line: 1 + shift, commit: '1234567890abcdef1234567890abcdef12345678' },
      },
    ],
  };
}

/** The failing fixture plus those findings; `shift` lines inserted above everything, served at `url`. */
function gate(shift: number, url = 'https://pr-41.staging.example.internal'): EvidencePredicate {
  const moved = (observation: Observation): Observation =>
    observation.location?.line
      ? { ...observation, location: { ...observation.location, line: observation.location.line + shift } }
      : observation;
  const checks = failingPredicate.checks.map((record) => ({
    ...record,
    ...(record.checklistLine ? { checklistLine: record.checklistLine + shift } : {}),
    observations: record.observations.map(moved),
  }));
  return {
    ...failingPredicate,
    target: { ...failingPredicate.target, url },
    checks: [...checks, secretsRecord(shift)],
  };
}

const pairs = (run: Run) =>
  run.results.map((result) => `${result.ruleId} ${JSON.stringify(result.partialFingerprints)}`);

describe('SARIF as GitHub code scanning tracks it', () => {
  it('is valid against the official SARIF 2.1.0 schema', () => {
    for (const predicate of [gate(0), gate(3), couldNotVerifyPredicate, hostilePredicate]) {
      expect(validateSarif(JSON.parse(reporters.sarif({ predicate })))).toEqual([]);
    }
  });

  it('gives every result a unique (ruleId, fingerprint), even two rules on one line and one secret twice', () => {
    const run = runOf(gate(0));
    expect(run.results.filter((result) => result.ruleId === 'repo.committed-secrets')).toHaveLength(5);
    expect(new Set(pairs(run)).size).toBe(run.results.length);
  });

  it('keeps every fingerprint when lines are inserted above, while the locations move', () => {
    const before = runOf(gate(0));
    const after = runOf(gate(5));
    expect(pairs(after)).toEqual(pairs(before));
    const lines = (run: Run) => run.results.map((result) => result.locations[0]?.physicalLocation.region.startLine);
    expect(lines(after)).toEqual(lines(before).map((line) => (line ?? 0) + 5));
  });

  it('keeps every fingerprint when the target URL changes (a per-PR staging deployment)', () => {
    expect(pairs(runOf(gate(0, 'https://pr-42.staging.example.internal')))).toEqual(pairs(runOf(gate(0))));
  });

  it('fingerprints a finding by its content: the same secret on another line is the same alert', () => {
    const fingerprintOf = (record: CheckRecord) => runOf({ ...failingPredicate, checks: [record] }).results[0];
    const [first] = secretsRecord(0).observations;
    if (!first) throw new Error('fixture changed');
    const base = secretsRecord(0);
    const moved = fingerprintOf({
      ...base,
      observations: [{ ...first, location: { path: 'src/config.ts', line: 99 } }],
    });
    const other = fingerprintOf({
      ...base,
      observations: [{ ...first, actual: { rule: 'aws-access-key', length: 40, sha256: 'dddddddddddd' } }],
    });
    const same = fingerprintOf({ ...base, observations: [first] });
    expect(moved?.partialFingerprints).toEqual(same?.partialFingerprints);
    expect(other?.partialFingerprints).not.toEqual(same?.partialFingerprints);
  });

  it('locates every result; a live-target control at the line of its own checklist entry', () => {
    const run = runOf(gate(0));
    for (const result of run.results) {
      const where = result.locations[0]?.physicalLocation;
      expect(where?.artifactLocation.uri).toMatch(/\S/);
      expect(where?.artifactLocation.uriBaseId).toBe('%SRCROOT%');
      expect(where?.region.startLine).toBeGreaterThanOrEqual(1);
    }
    const lineOf = (ruleId: string) =>
      run.results.find((result) => result.ruleId === ruleId)?.locations[0]?.physicalLocation.region.startLine;
    expect(lineOf('tls.protocols')).toBe(14);
    expect(lineOf('auth.ip-block')).toBe(36);
    expect(lineOf('http.headers')).toBe(26);
  });

  it('names files from the repository top level when secgate runs in a subfolder (working-directory)', () => {
    // `working-directory: services/api`: the checklist is services/api/checklist.yaml in the repository.
    const predicate = gate(0);
    const run = runOf({
      ...predicate,
      checklist: { ...predicate.checklist, repositoryPath: 'services/api/checklist.yaml' },
    });
    const uris = new Set(run.results.map((result) => result.locations[0]?.physicalLocation.artifactLocation.uri));
    expect(uris).toContain('services/api/checklist.yaml');
    expect(uris).toContain('src/config.ts');
    expect(uris).not.toContain('checklist.yaml');
    expect(Object.keys(run.originalUriBaseIds)).toEqual(['%SRCROOT%']);
  });

  it('sets the category from --sarif-category, else from the checklist and the target host', () => {
    expect(runOf(gate(0)).automationDetails.id).toBe('secgate/checklist.yaml/pr-41.staging.example.internal/');
    expect(runOf(failingPredicate).automationDetails.id).toBe('secgate/checklist.yaml/node-1.example.internal:8443/');
    expect(runOf(gate(0), 'staging').automationDetails.id).toBe('staging/');
    expect(runOf(gate(0), 'api/eu/').automationDetails.id).toBe('api/eu/');
  });

  it('reports "could not verify" as kind open (level none), failures and waived failures as kind fail', () => {
    const run = runOf(gate(0));
    for (const result of run.results) {
      if (result.properties.status === 'error') expect([result.kind, result.level]).toEqual(['open', 'none']);
      else expect([result.kind, result.level]).toEqual(['fail', 'error']);
    }
    expect(run.results.some((result) => result.kind === 'open')).toBe(true);
  });

  it("maps each control's severity to security-severity, honouring a checklist override", () => {
    const predicate = gate(0);
    const lowered = predicate.checks.map((record) =>
      record.id === 'tls.protocols' ? { ...record, severity: 'low' as const } : record,
    );
    const rules = runOf({ ...predicate, checks: lowered }).tool.driver.rules;
    const score = (id: string) => rules.find((rule) => rule.id === id)?.properties['security-severity'];
    expect(score('repo.committed-secrets')).toBe('9.5');
    expect(score('auth.ip-block')).toBe('8.0');
    expect(score('http.headers')).toBe('5.5');
    expect(score('tls.protocols')).toBe('2.0');
    for (const rule of rules) expect(rule.properties.tags).toContain('security');
  });

  it('gives rules a friendly name distinct from the id, and the tool an informationUri', () => {
    const run = runOf(gate(0));
    for (const rule of run.tool.driver.rules) {
      expect(rule.name).not.toBe(rule.id);
      expect(rule.name).toMatch(/^[A-Z][A-Za-z0-9]*$/);
    }
    expect(run.tool.driver.rules.find((rule) => rule.id === 'repo.committed-secrets')?.name).toBe(
      'RepoCommittedSecrets',
    );
    expect(run.tool.driver.informationUri).toMatch(/^https:\/\//);
  });
});
