import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import committedSecrets from '../../../checks/repo/committed-secrets.js';
import { GitFixture } from '../../../fixtures/repos/git-fixture.js';
import {
  cleanRepo,
  envDeletedOnSideBranch,
  envIgnoredOnlyLocally,
  envNotIgnored,
  keyOnlyReachableFromTag,
  knownDefaultInCode,
  notAGitRepository,
  realValueInEnvExample,
  secretValueInComposeFile,
} from '../../../fixtures/repos/scenarios.js';
import { runCheckOn, testCheck } from '../../harness/check-tester.js';
import { repoTarget } from './repo-target.js';

testCheck(committedSecrets, {
  valid: [
    { name: 'clean repository with .env.example placeholders and an ignored .env', target: repoTarget(cleanRepo) },
    // History is not this check's concern: the working tree of these repositories is clean.
    { name: '.env only in an unmerged branch (history is repo.history)', target: repoTarget(envDeletedOnSideBranch) },
    { name: 'key only reachable from a tag', target: repoTarget(keyOnlyReachableFromTag) },
  ],
  invalid: [
    {
      name: 'a configured baseline that cannot be read is an error, not an empty baseline',
      target: repoTarget(cleanRepo),
      with: { baseline: 'no-such-baseline.json' },
      status: 'error',
      expect: /could not read baseline .*no-such-baseline\.json: ENOENT/,
    },
    { name: '.env not ignored', target: repoTarget(envNotIgnored), expect: /\.env is not ignored by \.gitignore/ },
    {
      name: '.env ignored only by .git/info/exclude (this machine, not the repository)',
      target: repoTarget(envIgnoredOnlyLocally),
      expect: /\.env is not ignored by \.gitignore/,
    },
    {
      name: 'POSTGRES_PASSWORD value in docker-compose.yml',
      target: repoTarget(secretValueInComposeFile),
      expect: /POSTGRES_PASSWORD has a value in docker-compose\.yml:5/,
    },
    {
      name: 'seed default os.getenv("AUTH_SECRET", "default_secret")',
      target: repoTarget(knownDefaultInCode),
      expect: /AUTH_SECRET is given a known default secret in server\/auth_service\.py:5/,
    },
    {
      name: 'a 31-character real value in .env.example',
      target: repoTarget(realValueInEnvExample),
      expect: /JWT_SECRET_KEY has a real value, not a placeholder, in example file \.env\.example:1/,
    },
    {
      name: 'a tracked .env',
      target: repoTarget(async () => {
        const fixture = await GitFixture.create('tracked-env');
        await fixture.commit('settings', { '.gitignore': 'dist/\n', 'config/.env.production': 'LOG_LEVEL=info\n' });
        return { fixture, commits: {} };
      }),
      expect: /config\/\.env\.production is tracked by git/,
    },
    {
      name: 'a private key in a tracked file',
      target: repoTarget(async () => {
        const scenario = await keyOnlyReachableFromTag();
        await scenario.fixture.git('merge', '--quiet', '--no-edit', 'v0.9.0-rc1');
        return scenario;
      }),
      expect: /private-key in deploy\/id_ecdsa\.pem:2/,
    },
  ],
});

describe('repo.committed-secrets evidence', () => {
  it('never puts the committed value in the outcome, only its fingerprint', async () => {
    const scenario = await secretValueInComposeFile();
    try {
      const compose = await readFile(path.join(scenario.fixture.dir, 'docker-compose.yml'), 'utf8');
      const value = /POSTGRES_PASSWORD: (\S+)/.exec(compose)?.[1] ?? '';
      expect(value.length).toBe(20);
      const outcome = await runCheckOn(committedSecrets, {
        context: { target: { url: 'https://127.0.0.1:9' }, repoDir: scenario.fixture.dir },
        close: async () => {},
      });
      expect(outcome.status).toBe('fail');
      expect(JSON.stringify(outcome)).not.toContain(value);
      const finding = outcome.observations.find((observation) => observation.ok === false);
      expect(finding?.location).toEqual({ path: 'docker-compose.yml', line: 5, column: 26 });
    } finally {
      await scenario.fixture.cleanup();
    }
  });

  it('accepts baselined findings with their reason and skips ignore_paths visibly', async () => {
    const scenario = await secretValueInComposeFile();
    try {
      const target = {
        context: {
          target: { url: 'https://127.0.0.1:9' },
          repoDir: scenario.fixture.dir,
          baseDir: scenario.fixture.dir,
        },
        close: async () => {},
      };
      const first = await runCheckOn(committedSecrets, target);
      const fingerprint = (
        first.observations.find((observation) => observation.ok === false)?.actual as { sha256?: string }
      )?.sha256;
      expect(fingerprint).toMatch(/^[0-9a-f]{12}$/);
      await writeFile(
        path.join(scenario.fixture.dir, 'secgate-baseline.json'),
        JSON.stringify([{ fingerprint, reason: 'local-only compose database, never deployed' }]),
      );
      const baselined = await runCheckOn(committedSecrets, target, { baseline: 'secgate-baseline.json' });
      expect(baselined.status, JSON.stringify(baselined, null, 2)).toBe('pass');
      expect(
        baselined.observations.some(
          (observation) =>
            observation.ok === true && /^baselined: local-only compose database/.test(observation.note ?? ''),
        ),
      ).toBe(true);

      const ignored = await runCheckOn(committedSecrets, target, { ignore_paths: ['docker-compose.yml'] });
      expect(ignored.status).toBe('pass');
      expect(
        ignored.observations.some((observation) =>
          /1 tracked files not scanned because ignore_paths/.test(observation.note ?? ''),
        ),
      ).toBe(true);
    } finally {
      await scenario.fixture.cleanup();
    }
  });

  it('errors (fails closed) outside a git repository', async () => {
    const target = await notAGitRepository();
    try {
      const outcome = await runCheckOn(committedSecrets, target);
      expect(outcome.status).toBe('error');
      expect(outcome.summary).toMatch(/could not list tracked files/);
    } finally {
      await target.close();
    }
  });
});
