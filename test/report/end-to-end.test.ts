/**
 * The reporters on evidence the real engine wrote: `secgate verify` (runVerify)
 * with the real repo.committed-secrets check over a throwaway git repository
 * that commits a secret. The SARIF must stay valid against the official
 * schema and point at the file and line the check found.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import committedSecrets from '../../checks/repo/committed-secrets.js';
import { runVerify, type VerifyOutcome } from '../../src/cli/verify.js';
import { type CheckDefinition, defineCheck } from '../../src/engine/types.js';
import { reporters } from '../../src/report/index.js';
import { loadSarifValidator } from './sarif-validator.js';

const SECRET_LINE = 'AUTH_SECRET = "tQ8vZ2pL6xR4nW9kB3mH7sJ1cF5gD0yE"';
/** A git repository in `dir` with these files committed. */
async function commitRepository(dir: string, files: Record<string, string>): Promise<void> {
  const env = {
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@example.invalid',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@example.invalid',
  };
  const git = (...args: string[]) => execa('git', args, { cwd: dir, env });
  await git('init', '--quiet', '--initial-branch=main');
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  await git('add', '.');
  await git('commit', '--quiet', '-m', 'files');
}

let repo: string;
let outcome: VerifyOutcome;

beforeAll(async () => {
  repo = await mkdtemp(path.join(os.tmpdir(), 'secgate-report-e2e-'));
  await commitRepository(repo, {
    '.gitignore': '.env\n',
    'settings.py': `import os\n\n${SECRET_LINE}\n`,
    'checklist.yaml':
      'version: 1\ntarget:\n  url: https://127.0.0.1:9\nrepo: .\nchecks:\n  - check: repo.committed-secrets\n',
  });
  const discard = () => new Writable({ write: (_chunk, _encoding, done) => done() });
  outcome = await runVerify(
    { checklist: 'checklist.yaml', registry: [committedSecrets as CheckDefinition] },
    { stdout: discard(), stderr: discard(), env: {}, cwd: repo },
  );
});

afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

describe('reporters on evidence from the real engine', () => {
  it('the engine found the committed secret', () => {
    expect(outcome.exitCode).toBe(1);
    expect(outcome.statement?.predicate.checks[0]?.status).toBe('fail');
  });

  it('SARIF is schema-valid and locates the finding at settings.py line 3', () => {
    const predicate = outcome.statement?.predicate;
    if (!predicate) throw new Error('no predicate');
    const log = JSON.parse(reporters.sarif({ predicate })) as {
      runs: {
        results: {
          locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
        }[];
      }[];
    };
    expect(loadSarifValidator()(log)).toEqual([]);
    const places = log.runs[0]?.results.map((result) => result.locations[0]?.physicalLocation);
    expect(places).toContainEqual(
      expect.objectContaining({
        artifactLocation: { uri: 'settings.py', uriBaseId: '%SRCROOT%' },
        region: expect.objectContaining({ startLine: 3 }),
      }),
    );
  });

  it('no report repeats the secret itself', () => {
    const predicate = outcome.statement?.predicate;
    if (!predicate) throw new Error('no predicate');
    for (const [name, render] of Object.entries(reporters)) {
      const text = render({ predicate, ...(outcome.envelope ? { envelope: outcome.envelope } : {}) });
      expect(text, name).not.toContain('tQ8vZ2pL6xR4nW9kB3mH7sJ1cF5gD0yE');
    }
    expect(reporters.github({ predicate })).toMatch(/^::error file=settings\.py,line=3,/m);
  });
});

/** A control seen broken on the live target, without a network: where SARIF and annotations place it. */
const brokenControl = defineCheck({
  id: 'http.example',
  title: 'The example control holds',
  source: 'test',
  remediation: 'Fix the example.',
  effects: 'none',
  severity: 'medium',
  params: z.object({}).strict(),
  run: async () => ({
    status: 'fail',
    summary: 'the example control is broken',
    observations: [{ probe: 'GET /example', expected: 200, actual: 500, ok: false }],
  }),
});

describe('reports of a run in a subfolder of a monorepo (working-directory: services/api)', () => {
  let monorepo: string;
  let sarif: {
    runs: {
      automationDetails: { id: string };
      tool: { driver: { rules: { id: string; properties: Record<string, string> }[] } };
      results: {
        ruleId: string;
        locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
      }[];
    }[];
  };
  let annotations = '';

  beforeAll(async () => {
    monorepo = await mkdtemp(path.join(os.tmpdir(), 'secgate-report-monorepo-'));
    const service = path.join(monorepo, 'services', 'api');
    await commitRepository(monorepo, {
      '.gitignore': '.env\n',
      'services/api/settings.py': `import os\n\n${SECRET_LINE}\n`,
      'services/api/checklist.yaml': [
        'version: 1',
        'target:',
        '  url: https://api.staging.example.internal:8443',
        'repo: .',
        'checks:',
        '  - check: repo.committed-secrets',
        '',
        '  - check: http.example',
        '    severity: critical',
        '',
      ].join('\n'),
    });
    const collected: string[] = [];
    const collect = () =>
      new Writable({
        write: (chunk, _encoding, done) => {
          collected.push(String(chunk));
          done();
        },
      });
    await runVerify(
      {
        checklist: 'checklist.yaml',
        report: ['sarif:out.sarif'],
        registry: [committedSecrets as CheckDefinition, brokenControl],
      },
      { stdout: collect(), stderr: collect(), env: { GITHUB_ACTIONS: 'true' }, cwd: service },
    );
    annotations = collected.join('');
    sarif = JSON.parse(await readFile(path.join(service, 'out.sarif'), 'utf8')) as typeof sarif;
  });

  afterAll(async () => {
    await rm(monorepo, { recursive: true, force: true });
  });

  it('points a live-target failure at its own entry, named from the repository top level', () => {
    const control = sarif.runs[0]?.results.find((result) => result.ruleId === 'http.example');
    expect(control?.locations[0]?.physicalLocation).toEqual({
      artifactLocation: { uri: 'services/api/checklist.yaml', uriBaseId: '%SRCROOT%' },
      region: { startLine: 8 },
    });
    expect(annotations).toMatch(
      /^::error file=services\/api\/checklist\.yaml,line=8,title=secgate http\.example failed \(severity critical\)::/m,
    );
  });

  it('names the finding from the repository top level too', () => {
    const uris = sarif.runs[0]?.results.map((result) => result.locations[0]?.physicalLocation.artifactLocation.uri);
    expect(uris).toContain('services/api/settings.py');
    expect(annotations).toMatch(/^::error file=services\/api\/settings\.py,line=3,/m);
  });

  it("applies the checklist's severity override and the default category", () => {
    const rule = sarif.runs[0]?.tool.driver.rules.find((candidate) => candidate.id === 'http.example');
    expect(rule?.properties['security-severity']).toBe('9.5');
    expect(sarif.runs[0]?.automationDetails.id).toBe(
      'secgate/services/api/checklist.yaml/api.staging.example.internal:8443/',
    );
  });
});
