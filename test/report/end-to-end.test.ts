/**
 * The reporters on evidence the real engine wrote: `secgate verify` (runVerify)
 * with the real repo.committed-secrets check over a throwaway git repository
 * that commits a secret. The SARIF must stay valid against the official
 * schema and point at the file and line the check found.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import committedSecrets from '../../checks/repo/committed-secrets.js';
import { runVerify, type VerifyOutcome } from '../../src/cli/verify.js';
import type { CheckDefinition } from '../../src/engine/types.js';
import { reporters } from '../../src/report/index.js';
import { loadSarifValidator } from './sarif-validator.js';

const SECRET_LINE = 'AUTH_SECRET = "tQ8vZ2pL6xR4nW9kB3mH7sJ1cF5gD0yE"';
let repo: string;
let outcome: VerifyOutcome;

beforeAll(async () => {
  repo = await mkdtemp(path.join(os.tmpdir(), 'secgate-report-e2e-'));
  const env = {
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@example.invalid',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@example.invalid',
  };
  const git = (...args: string[]) => execa('git', args, { cwd: repo, env });
  await git('init', '--quiet', '--initial-branch=main');
  await writeFile(path.join(repo, '.gitignore'), '.env\n');
  await writeFile(path.join(repo, 'settings.py'), `import os\n\n${SECRET_LINE}\n`);
  await writeFile(
    path.join(repo, 'checklist.yaml'),
    'version: 1\ntarget:\n  url: https://127.0.0.1:9\nrepo: .\nchecks:\n  - check: repo.committed-secrets\n',
  );
  await git('add', '.');
  await git('commit', '--quiet', '-m', 'settings');
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
