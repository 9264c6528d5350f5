import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import committedSecrets from '../../../checks/repo/committed-secrets.js';
import repoHistory from '../../../checks/repo/history.js';
import { GitFixture } from '../../../fixtures/repos/git-fixture.js';
import {
  archiveCommitted,
  cleanRepo,
  credentialFreeUrls,
  envDeletedOnSideBranch,
  envIgnoredOnlyLocally,
  envNotIgnored,
  keyOnlyReachableFromTag,
  keyTrackedByLfs,
  knownDefaultInCode,
  lfsMentionedInProse,
  monorepo,
  notAGitRepository,
  passwordInNamedUrl,
  realValueInEnvExample,
  secretNotInWorkTree,
  secretsInUnusualContent,
  secretValueInComposeFile,
  serviceAccountKeyCommitted,
  templateDefaultsCommitted,
  unusualContentFindings,
} from '../../../fixtures/repos/scenarios.js';
import { runCheckOn, testCheck } from '../../harness/check-tester.js';
import { expectEachFoundOnce, fixtureTarget, repoTarget } from './repo-target.js';

testCheck(committedSecrets, {
  valid: [
    { name: 'clean repository with .env.example placeholders and an ignored .env', target: repoTarget(cleanRepo) },
    // History is not this check's concern: the working tree of these repositories is clean.
    { name: '.env only in an unmerged branch (history is repo.history)', target: repoTarget(envDeletedOnSideBranch) },
    { name: 'key only reachable from a tag', target: repoTarget(keyOnlyReachableFromTag) },
    {
      name: 'DATABASE_URL without a password, and a comment that names DATABASE_URL in prose',
      target: repoTarget(credentialFreeUrls),
    },
    {
      name: 'a clean service in a monorepo whose other service committed a key, scoped with paths',
      target: repoTarget(() => monorepo()),
      with: { paths: ['services/auth'], must_ignore: ['services/auth/.env'] },
    },
    {
      name: 'a sparse checkout of a clean repository: what it hides is read from the index, and is clean',
      target: repoTarget(() => secretNotInWorkTree('sparse-checkout', false)),
    },
    {
      name: 'prose quoting a Git LFS pointer is not one (its object is absent: a pointer would be an error)',
      target: repoTarget(lfsMentionedInProse),
    },
    {
      name: 'a key tracked by Git LFS and deleted since (history is repo.history)',
      target: repoTarget(() => keyTrackedByLfs('present', { deleted: true })),
    },
  ],
  invalid: [
    {
      name: 'a key tracked by Git LFS: the pointer is committed, its content is in the LFS store',
      target: repoTarget(() => keyTrackedByLfs('present')),
      expect: /private-key in deploy\.pem:2/,
    },
    {
      name: "a key tracked by Git LFS, in a linked worktree: the LFS store is in the repository's common git directory",
      target: async () => {
        const scenario = await keyTrackedByLfs('present');
        const worktree = `${scenario.fixture.dir}-worktree`;
        await scenario.fixture.git('worktree', 'add', '--quiet', '--detach', worktree);
        return {
          context: { target: { url: 'https://127.0.0.1:9' }, repoDir: worktree, baseDir: worktree },
          close: async () => {
            await scenario.fixture.cleanup();
            await rm(worktree, { recursive: true, force: true });
          },
        };
      },
      expect: /private-key in deploy\.pem:2/,
    },
    ...(['deleted', 'skip-worktree'] as const).map((how) => ({
      // Read from the index, the pointer still leads to its content in the LFS store.
      name: `a key tracked by Git LFS, the pointer file hidden from the work tree (${how}): read from the index`,
      target: repoTarget(async () => {
        const scenario = await keyTrackedByLfs('present');
        if (how === 'deleted') await rm(path.join(scenario.fixture.dir, 'deploy.pem'));
        else await scenario.fixture.git('update-index', '--skip-worktree', '--', 'deploy.pem');
        return scenario;
      }),
      expect: /private-key in deploy\.pem:2/,
    })),
    {
      name: 'a key tracked by Git LFS, smudged into the work tree: the file is the key itself',
      target: repoTarget(() => keyTrackedByLfs('absent', { smudged: true })),
      expect: /private-key in deploy\.pem:2/,
    },
    {
      name: "a Git LFS pointer whose content is not in the clone's LFS store: not seen, so not judged",
      target: repoTarget(() => keyTrackedByLfs('absent')),
      status: 'error',
      expect:
        /not judged: deploy\.pem is a Git LFS pointer: the content \(\d+ bytes\) is stored outside git and is not in this clone's LFS store; run `git lfs fetch --all` or baseline it/,
    },
    {
      name: 'a Git LFS object that does not hash to its pointer is not the committed content',
      target: repoTarget(() => keyTrackedByLfs('corrupt')),
      status: 'error',
      expect: /not judged: deploy\.pem is a Git LFS pointer whose object in this clone's LFS store does not match/,
    },
    {
      name: 'DATABASE_URL with a password is still a committed secret',
      target: repoTarget(passwordInNamedUrl),
      expect: /DATABASE_URL has a value in docker-compose\.yml:4; only \.env\.example/,
    },
    {
      name: 'the same monorepo unscoped: the other service is in the work tree',
      target: repoTarget(() => monorepo()),
      expect: /stripe-key in services\/billing\/settings\.py:1/,
    },
    {
      name: '`repo:` naming a service folder still means the whole repository unless paths narrows it',
      target: async () => {
        const scenario = await monorepo();
        return {
          context: {
            target: { url: 'https://127.0.0.1:9' },
            repoDir: path.join(scenario.fixture.dir, 'services', 'auth'),
            baseDir: scenario.fixture.dir,
          },
          close: () => scenario.fixture.cleanup(),
        };
      },
      expect: /stripe-key in services\/billing\/settings\.py:1/,
    },
    {
      name: "a template default under a name no checklist lists (the FastAPI template's changethis)",
      target: repoTarget(templateDefaultsCommitted),
      expect: /known-default-secret in docker-compose\.override\.yml:4/,
    },
    {
      name: 'a zip archive: no scan sees into it',
      target: repoTarget(archiveCommitted),
      status: 'error',
      expect: /not judged: vendor\/bundle\.zip is a zip archive \(zip, jar, docx, xlsx, whl …\) \(410 bytes\)/,
    },
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
    {
      name: "a service-account key file: the key's line breaks are JSON escapes",
      target: repoTarget(serviceAccountKeyCommitted),
      expect: /private-key in deploy\/gcp-service-account\.json:5/,
    },
    ...(['sparse-checkout', 'deleted', 'assume-unchanged', 'skip-worktree'] as const).map((how) => ({
      name: `a key committed in a file the work tree does not show (${how}): read from the index`,
      target: repoTarget(() => secretNotInWorkTree(how)),
      expect: /^1 problem in tracked files, first: stripe-key in deploy\/prod\.conf:2$/,
    })),
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

  it('says which files it read from the index, and streams a large one from there as from disk', async () => {
    const clean = await secretNotInWorkTree('sparse-checkout', false);
    try {
      const outcome = await runCheckOn(committedSecrets, fixtureTarget(clean.fixture.dir));
      expect(outcome.status).toBe('pass');
      expect(outcome.observations).toContainEqual(
        expect.objectContaining({
          probe: 'git ls-files --stage -v + git cat-file --batch',
          actual: { not_in_work_tree: 0, assume_unchanged: 0, skip_worktree: 1, first: ['deploy/prod.conf'] },
        }),
      );
    } finally {
      await clean.fixture.cleanup();
    }
    const hidden = await secretNotInWorkTree('deleted');
    try {
      const streamed = await runCheckOn(committedSecrets, fixtureTarget(hidden.fixture.dir), { max_file_bytes: 16 });
      expect(streamed.status).toBe('fail');
      expect(streamed.summary).toBe('1 problem in tracked files, first: stripe-key in deploy/prod.conf:2');
      expect(streamed.observations).toContainEqual(
        expect.objectContaining({
          probe: 'git ls-files --stage -v + git cat-file --batch',
          actual: expect.objectContaining({ not_in_work_tree: 1, first: ['deploy/prod.conf'] }),
        }),
      );
    } finally {
      await hidden.fixture.cleanup();
    }
  });

  it('on a partial sparse clone, names the tracked files whose blobs are absent, fetches nothing, scans the rest', async () => {
    const source = await cleanRepo();
    await source.fixture.commit('deploy settings', {
      'deploy/prod.yml': `api_token: ${['glpat', 'Zq8Xw2Lm9Pv4Rt7Yb1Kc'].join('-')}\n`,
    });
    const clone = await GitFixture.partialClone(source.fixture, 'partial-sparse', { sparse: true });
    const localObjects = () => clone.git('cat-file', '--batch-all-objects', '--batch-check=%(objectname)');
    try {
      const blob = await source.fixture.git('rev-parse', 'HEAD:deploy/prod.yml');
      const before = await localObjects();
      const outcome = await runCheckOn(committedSecrets, fixtureTarget(clone.dir));
      expect(outcome.status, outcome.summary).toBe('error');
      expect(outcome.summary).toMatch(
        /^cannot judge every tracked file: 2 tracked files not read, absent from this partial clone's object store: deploy\/prod\.yml \([0-9a-f]{40}\), src\/config\.ts \([0-9a-f]{40}\); fetch them/,
      );
      // Read as it is: the promisor remote (a file:// URL any git could fetch from) was never asked.
      expect(await localObjects()).toBe(before);
      expect(outcome.observations).toContainEqual(
        expect.objectContaining({
          probe: 'git cat-file --batch (absent objects)',
          actual: expect.objectContaining({
            absent: 2,
            files: expect.arrayContaining([{ path: 'deploy/prod.yml', blob }]),
          }),
          ok: false,
        }),
      );
      // What the clone does hold is still scanned: a secret there fails the check, with the absent files named.
      await clone.write({
        'ci.sh': `git clone https://oauth2:${['glpat', 'Yq8Xw2Lm9Pv4Rt7Yb1Kd'].join('-')}@gitlab.example/a.git\n`,
      });
      await clone.git('add', 'ci.sh');
      const failed = await runCheckOn(committedSecrets, fixtureTarget(clone.dir));
      expect(failed.status).toBe('fail');
      expect(failed.summary).toMatch(
        /^1 problem in tracked files, and 2 tracked files not read, first: gitlab-token in ci\.sh:1$/,
      );
    } finally {
      await clone.cleanup();
      await source.fixture.cleanup();
    }
  });

  it('accepts baselined findings with their reason and skips ignore_paths visibly', async () => {
    const scenario = await secretValueInComposeFile();
    try {
      const target = fixtureTarget(scenario.fixture.dir);
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

  it('reads what a text-only scan cannot: large, binary, NUL-led and UTF-16 files', async () => {
    const scenario = await secretsInUnusualContent();
    const { layout } = scenario;
    try {
      const outcome = await runCheckOn(committedSecrets, {
        context: { target: { url: 'https://127.0.0.1:9' }, repoDir: scenario.fixture.dir },
        close: async () => {},
      });
      expect(outcome.status).toBe('fail');
      expectEachFoundOnce(outcome, unusualContentFindings(layout));
      expect(outcome.observations.find((o) => o.probe === 'scan tracked files')?.actual).toMatchObject({
        streamed_large_files: 1,
        decoded_text_files: 3,
        binary_files_scanned_for_printable_runs: 2,
      });
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

describe('content no scan can judge', () => {
  it.each([
    { what: 'a zip archive', build: archiveCommitted, file: 'vendor/bundle.zip' },
    {
      what: "a Git LFS pointer whose content is not in the clone's store",
      build: () => keyTrackedByLfs('absent'),
      file: 'deploy.pem',
    },
  ])(
    '$what is accepted in both checks by one baseline entry naming its blob id, and only then',
    async ({ build, file }) => {
      const scenario = await build();
      try {
        const target = fixtureTarget(scenario.fixture.dir);
        const blob = await scenario.fixture.git('rev-parse', `HEAD:${file}`);
        for (const check of [committedSecrets, repoHistory]) {
          const outcome = await runCheckOn(check, target);
          expect(outcome.status, check.id).toBe('error');
          expect(JSON.stringify(outcome.observations), check.id).toContain(`"blob":"${blob}"`);
        }
        await writeFile(
          path.join(scenario.fixture.dir, 'baseline.json'),
          JSON.stringify([{ fingerprint: blob, rule: 'unjudged-content', reason: 'reviewed where it is kept' }]),
        );
        for (const check of [committedSecrets, repoHistory]) {
          const outcome = await runCheckOn(check, target, { baseline: 'baseline.json' });
          expect(outcome.status, check.id).toBe('pass');
          expect(outcome.summary, check.id).toMatch(/1 baselined/);
          expect(
            outcome.observations.some((observation) =>
              new RegExp(`^baselined: reviewed where it is kept \\(.*${file.replaceAll('.', '\\.')}`).test(
                observation.note ?? '',
              ),
            ),
            check.id,
          ).toBe(true);
        }
      } finally {
        await scenario.fixture.cleanup();
      }
    },
  );
});
