import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import committedSecrets from '../../../checks/repo/committed-secrets.js';
import repoHistory from '../../../checks/repo/history.js';
import { GitFixture } from '../../../fixtures/repos/git-fixture.js';
import {
  archiveCommitted,
  cleanRepo,
  envDeletedOnSideBranch,
  historyCutOff,
  keyOnlyReachableFromTag,
  keyTrackedByLfs,
  knownDefaultPasswordInCompose,
  lfsMentionedInProse,
  monorepo,
  namedPasswordInHistory,
  namedPasswordTrackedByLfs,
  namedPlaceholdersInHistory,
  notAGitRepository,
  type RepoScenario,
  secretCopiedThroughBlobs,
  secretHiddenByReplaceRef,
  secretInCommitMessage,
  secretInOlderStashEntry,
  secretInRenamedFile,
  secretInTagMessage,
  secretOnlyInStash,
  secretOnlyOnRemoteTrackingRef,
  secretShapedDecoys,
  secretsInUnusualContent,
  secretsOnlyBehindTags,
  templateDefaultsCommitted,
  unusualContentFindings,
} from '../../../fixtures/repos/scenarios.js';
import { fingerprintSecret } from '../../../src/engine/secrets.js';
import type { CheckOutcome } from '../../../src/engine/types.js';
import { runCheckOn, type TargetHandle, testCheck } from '../../harness/check-tester.js';
import { expectEachFoundOnce, fixtureTarget, repoTarget } from './repo-target.js';

/** Commit ids are only known once a fixture is built; the expectations read them lazily. */
const built = new Map<string, RepoScenario>();
const remember = (key: string) => (scenario: RepoScenario) => built.set(key, scenario);
const commitOf = (key: string, role: string): string => built.get(key)?.commits[role] ?? 'not-built';

/** A RegExp whose source is resolved at match time, after the fixture exists. */
function lazy(build: () => RegExp): RegExp {
  const placeholder = /(?:)/;
  Object.defineProperty(placeholder, 'test', { value: (text: string) => build().test(text) });
  return placeholder;
}

testCheck(repoHistory, {
  valid: [
    { name: 'clean repository (ignored .env never committed)', target: repoTarget(cleanRepo) },
    {
      name: 'a clean service in a monorepo whose other service committed a key, scoped with paths',
      target: repoTarget(() => monorepo()),
      with: { paths: ['services/auth'] },
    },
    {
      name: 'prose quoting a Git LFS pointer is not one (its object is absent: a pointer would be an error)',
      target: repoTarget(lfsMentionedInProse),
    },
    {
      name: 'secret names given only a reference, changeme in .env.example, a URL without credentials',
      target: repoTarget(namedPlaceholdersInHistory),
    },
    {
      name: 'a short POSTGRES_PASSWORD when the checklist names other secrets only',
      target: repoTarget(() => namedPasswordInHistory(true)),
      with: { names: ['AUTH_SECRET'] },
    },
  ],
  invalid: [
    {
      name: "a key tracked by Git LFS: its content, from the LFS store, is scanned under the pointer's path",
      target: repoTarget(() => keyTrackedByLfs('present'), remember('lfs')),
      expect: lazy(
        () =>
          new RegExp(
            `private-key in deploy\\.pem:2 introduced by commit ${commitOf('lfs', 'keyAdded')}; still in HEAD \\(deploy\\.pem\\)`,
          ),
      ),
    },
    {
      name: 'a deleted key that was tracked by Git LFS',
      target: repoTarget(() => keyTrackedByLfs('present', { deleted: true }), remember('lfs-deleted')),
      expect: lazy(
        () =>
          new RegExp(
            `private-key in deploy\\.pem:2 introduced by commit ${commitOf('lfs-deleted', 'keyAdded')}; not in HEAD`,
          ),
      ),
    },
    {
      name: "a Git LFS pointer whose content is not in the clone's LFS store: not seen, so not judged",
      target: repoTarget(() => keyTrackedByLfs('absent', { deleted: true })),
      status: 'error',
      expect:
        /not judged: deploy\.pem @ [0-9a-f]{12} is a Git LFS pointer: the content \(\d+ bytes\) is stored outside git and is not in this clone's LFS store; run `git lfs fetch --all` or baseline it/,
    },
    {
      name: 'a Git LFS object that does not hash to its pointer is not the committed content',
      target: repoTarget(() => keyTrackedByLfs('corrupt')),
      status: 'error',
      expect: /not judged: deploy\.pem @ [0-9a-f]{12} is a Git LFS pointer whose object in this clone's LFS store/,
    },
    {
      name: 'a short POSTGRES_PASSWORD (too short for the generic rule), named by variable, commit, path and line',
      target: repoTarget(() => namedPasswordInHistory(), remember('named')),
      expect: lazy(
        () =>
          new RegExp(
            '^1 secret finding in git history, first: named-secret-value POSTGRES_PASSWORD in docker-compose\\.yml:5 ' +
              `introduced by commit ${commitOf('named', 'passwordAdded')}; still in HEAD \\(docker-compose\\.yml\\)$`,
          ),
      ),
    },
    {
      name: 'the same password replaced by an environment reference: HEAD is clean, history is not',
      target: repoTarget(() => namedPasswordInHistory(true), remember('named-replaced')),
      expect: lazy(
        () =>
          new RegExp(
            '^1 secret finding in git history, first: named-secret-value POSTGRES_PASSWORD in docker-compose\\.yml:5 ' +
              `introduced by commit ${commitOf('named-replaced', 'passwordAdded')}; not in HEAD$`,
          ),
      ),
    },
    {
      name: 'the short password in a file tracked by Git LFS: its content, from the LFS store, is judged too',
      target: repoTarget(namedPasswordTrackedByLfs, remember('named-lfs')),
      expect: lazy(
        () =>
          new RegExp(
            '^1 secret finding in git history, first: named-secret-value POSTGRES_PASSWORD in deploy/db\\.yml:5 ' +
              `introduced by commit ${commitOf('named-lfs', 'passwordAdded')}; not in HEAD$`,
          ),
      ),
    },
    {
      name: 'a known default (postgres) as the password in a compose file, as repo.committed-secrets judges it',
      target: repoTarget(knownDefaultPasswordInCompose, remember('named-default')),
      expect: lazy(
        () =>
          new RegExp(
            'named-secret-value POSTGRES_PASSWORD in docker-compose\\.yml:5 ' +
              `introduced by commit ${commitOf('named-default', 'initial')}; still in HEAD`,
          ),
      ),
    },
    {
      name: 'the same monorepo unscoped: the other service is in the history',
      target: repoTarget(() => monorepo()),
      expect: /stripe-key in services\/billing\/settings\.py:1 introduced by commit/,
    },
    {
      name: 'scoped to a service, a key copied in from elsewhere counts from the commit that put it there',
      target: repoTarget(() => monorepo(true), remember('mono')),
      with: { paths: ['./services/auth/'] },
      expect: lazy(
        () =>
          new RegExp(
            `generic-secret-assignment in services/auth/src/shared\\.py:1 introduced by commit ${commitOf('mono', 'authShared')}; ` +
              // HEAD holds the same blob in the other service too: not this scope's business.
              'still in HEAD \\(services/auth/src/shared\\.py\\)"',
          ),
      ),
    },
    {
      name: 'one finding per secret: where it was introduced, where else it appears, still in HEAD',
      target: repoTarget(() => secretCopiedThroughBlobs(), remember('copied')),
      expect: lazy(
        () =>
          new RegExp(
            `stripe-key in config/payments\\.py:1 introduced by commit ${commitOf('copied', 'introduced')}; ` +
              'also in 2 other places; still in HEAD \\(config/billing\\.py\\)',
          ),
      ),
    },
    {
      name: 'one finding per secret, no longer in HEAD',
      target: repoTarget(() => secretCopiedThroughBlobs(true), remember('copied-gone')),
      expect: lazy(
        () =>
          new RegExp(
            `stripe-key in config/payments\\.py:1 introduced by commit ${commitOf('copied-gone', 'introduced')}; ` +
              'also in 2 other places; not in HEAD',
          ),
      ),
    },
    {
      name: "the FastAPI template's changethis in a committed, since deleted .env (a known default from the rules)",
      target: repoTarget(templateDefaultsCommitted, remember('defaults')),
      expect: lazy(
        () =>
          new RegExp(
            `known-default-secret in \\.env:2 introduced by commit ${commitOf('defaults', 'envAdded')}; ` +
              'also in 2 other places; still in HEAD \\(docker-compose\\.override\\.yml\\)',
          ),
      ),
    },
    {
      name: 'a zip archive: no scan sees into it, so the history cannot be judged',
      target: repoTarget(archiveCommitted),
      status: 'error',
      expect:
        /not judged: a zip archive \(zip, jar, docx, xlsx, whl …\), 410 bytes, at vendor\/bundle\.zip @ [0-9a-f]{12}/,
    },
    {
      name: 'a configured baseline that cannot be read is an error, not an empty baseline',
      target: repoTarget(cleanRepo),
      with: { baseline: 'no-such-baseline.json' },
      status: 'error',
      expect: /could not read baseline .*no-such-baseline\.json: ENOENT/,
    },
    {
      name: '.env committed then deleted on a side branch',
      target: repoTarget(envDeletedOnSideBranch, remember('side')),
      expect: lazy(() => new RegExp(`\\.env file \\.env committed in ${commitOf('side', 'envAdded')}`)),
    },
    {
      name: 'secret inside the .env on the side branch, named by commit, path and line',
      target: repoTarget(envDeletedOnSideBranch, remember('side2')),
      expect: lazy(
        () => new RegExp(`generic-secret-assignment in \\.env:1 introduced by commit ${commitOf('side2', 'envAdded')}`),
      ),
    },
    {
      name: 'private key reachable only from a tag',
      target: repoTarget(keyOnlyReachableFromTag, remember('tag')),
      expect: lazy(
        () => new RegExp(`private-key in deploy/id_ecdsa\\.pem:2 introduced by commit ${commitOf('tag', 'keyAdded')}`),
      ),
    },
    {
      name: 'Stripe key in a file later renamed and cleaned (named at its original path and commit)',
      target: repoTarget(secretInRenamedFile, remember('renamed')),
      expect: lazy(
        () =>
          new RegExp(`stripe-key in config/settings\\.py:2 introduced by commit ${commitOf('renamed', 'secretAdded')}`),
      ),
    },
    {
      name: 'Stripe key in a commit that `git replace` hides from git log',
      target: repoTarget(secretHiddenByReplaceRef, remember('replaced')),
      expect: lazy(
        () =>
          new RegExp(
            `stripe-key in config/settings\\.py:1 introduced by commit ${commitOf('replaced', 'secretAdded')}`,
          ),
      ),
    },
    {
      // actions/checkout fetches one commit by default: a pass there would be a pass on one commit.
      name: 'a shallow clone: the secret lies before its boundary',
      target: repoTarget(() => historyCutOff('shallow')),
      status: 'error',
      expect: /it is a shallow clone: the commits before its boundary were never fetched.*fetch-depth: 0/,
    },
    {
      name: 'a grafts file that hides the commits before the last one',
      target: repoTarget(() => historyCutOff('grafts')),
      status: 'error',
      expect: /it is a grafts file \(\.git\/info\/grafts\): it rewrites parents/,
    },
    {
      name: 'a key that only a tag on a blob reaches, with no commit',
      target: repoTarget(secretsOnlyBehindTags),
      expect: /stripe-key in \(blob tagged by refs\/tags\/key-blob\):1, reachable from a ref without any commit/,
    },
    {
      name: 'a key that only a tag of a tag reaches',
      target: repoTarget(secretsOnlyBehindTags),
      expect: /stripe-key in \(blob tagged by refs\/tags\/outer\):1, reachable from a ref without any commit/,
    },
    {
      name: 'a key in a tree that only an annotated tag reaches, with no commit',
      target: repoTarget(secretsOnlyBehindTags),
      expect: /stripe-key in refs\/tags\/deploy-tree:deploy\/key\.txt:1, reachable from a ref without any commit/,
    },
    {
      name: 'GitLab token reachable only from a remote-tracking ref',
      target: repoTarget(secretOnlyOnRemoteTrackingRef, remember('remote')),
      expect: lazy(
        () => new RegExp(`gitlab-token in ci/clone\\.sh:1 introduced by commit ${commitOf('remote', 'tokenAdded')}`),
      ),
    },
    {
      name: 'secret only in the stash',
      target: repoTarget(secretOnlyInStash, remember('stash')),
      expect: lazy(
        () =>
          new RegExp(
            `generic-secret-assignment in src/config\\.ts:7 introduced by commit ${commitOf('stash', 'stash')}`,
          ),
      ),
    },
    {
      // `git log --all` reads refs, not reflogs: stash@{1} is in the refs/stash reflog only.
      name: 'a token only in an older stash entry (stash@{1})',
      target: repoTarget(secretInOlderStashEntry, remember('older-stash')),
      expect: lazy(
        () =>
          new RegExp(
            `^1 secret finding in git history, first: gitlab-token in f\\.txt:1 introduced by commit ${commitOf('older-stash', 'older')}; not in HEAD$`,
          ),
      ),
    },
    {
      name: 'a token in a commit message',
      target: repoTarget(secretInCommitMessage, remember('commit-message')),
      expect: lazy(
        () =>
          new RegExp(
            `^1 secret finding in git history, first: gitlab-token in commit message:3 of commit ${commitOf('commit-message', 'message')}$`,
          ),
      ),
    },
    {
      name: "a token in an annotated tag's message",
      target: repoTarget(secretInTagMessage, remember('tag-message')),
      expect: lazy(
        () =>
          new RegExp(
            `^1 secret finding in git history, first: gitlab-token in tag message:1 of refs/tags/v1 \\(tag object ${commitOf('tag-message', 'tag')}\\)$`,
          ),
      ),
    },
  ],
});

/**
 * Runs `use` on a scenario's repository with an empty directory for a baseline file (the
 * checklist's directory), and removes both afterwards.
 */
async function withBaselineDir(
  build: () => Promise<RepoScenario>,
  use: (target: TargetHandle, baselineDir: string) => Promise<void>,
): Promise<void> {
  const scenario = await build();
  const baselineDir = await mkdtemp(path.join(os.tmpdir(), 'secgate-baseline-'));
  try {
    const context = { target: { url: 'https://127.0.0.1:9' }, repoDir: scenario.fixture.dir, baseDir: baselineDir };
    await use({ context, close: async () => {} }, baselineDir);
  } finally {
    await scenario.fixture.cleanup();
    await rm(baselineDir, { recursive: true, force: true });
  }
}

/** Writes a baseline file of these entries and runs the check again with it. */
async function runWithBaseline(target: TargetHandle, baselineDir: string, findings: Record<string, unknown>[]) {
  await writeFile(path.join(baselineDir, 'baseline.json'), JSON.stringify({ findings }));
  return runCheckOn(repoHistory, target, { baseline: 'baseline.json' });
}

/** The first open finding of an outcome, with its fingerprint. */
function firstOpenFinding(outcome: CheckOutcome) {
  const finding = outcome.observations.find((observation) => observation.ok === false);
  return { finding, fingerprint: (finding?.actual as { fingerprint?: string } | undefined)?.fingerprint };
}

describe('repo.history and the named secrets of repo.committed-secrets', () => {
  it('judges a value under a secret name as repo.committed-secrets does, in the work tree and in history', async () => {
    for (const [build, status] of [
      [() => namedPasswordInHistory(), 'fail'],
      [namedPlaceholdersInHistory, 'pass'],
      [knownDefaultPasswordInCompose, 'fail'],
    ] as const) {
      const target = await repoTarget(build)();
      try {
        const [tracked, history] = [await runCheckOn(committedSecrets, target), await runCheckOn(repoHistory, target)];
        expect([tracked.status, history.status], `${tracked.summary}\n${history.summary}`).toEqual([status, status]);
      } finally {
        await target.close();
      }
    }
  });

  it('fingerprints the whole value, never quotes it, and a baseline entry accepts it', async () => {
    await withBaselineDir(
      () => namedPasswordInHistory(true),
      async (target, baselineDir) => {
        const repoDir = target.context.repoDir ?? '';
        const compose = await execa('git', ['show', 'HEAD~1:docker-compose.yml'], { cwd: repoDir });
        const password = /POSTGRES_PASSWORD: (\S+)/.exec(compose.stdout)?.[1] ?? 'not found';
        expect(password).toHaveLength(9);
        const first = await runCheckOn(repoHistory, target);
        expect(first.status).toBe('fail');
        expect(JSON.stringify(first)).not.toContain(password);
        const { finding, fingerprint } = firstOpenFinding(first);
        // The `#` is inside the value, not a comment: the fingerprint is of all nine characters.
        expect(fingerprint).toBe(fingerprintSecret(password).sha256);
        expect(finding?.actual).toMatchObject({
          rule: 'named-secret-value',
          length: 9,
          path: 'docker-compose.yml',
          introduced: { rule: 'named-secret-value', name: 'POSTGRES_PASSWORD', line: 5 },
          in_head: false,
        });
        expect(finding?.location).toMatchObject({ path: 'docker-compose.yml', line: 5 });
        const second = await runWithBaseline(target, baselineDir, [
          { fingerprint, rule: 'named-secret-value', path: 'docker-compose.yml', reason: 'rotated dev password' },
        ]);
        expect(second.status, JSON.stringify(second, null, 2)).toBe('pass');
        expect(second.summary).toMatch(/\(1 baselined\)$/);
      },
    );
  });
});

/**
 * A short value under JWT_SECRET (too short for the generic rule: only the named rule can find it) in a text
 * file larger than the limit, which is scanned as a stream, and in a binary file, scanned for its printable runs.
 */
async function namedValueInLargeAndBinaryFiles() {
  const scenario = await cleanRepo();
  const value = ['Tr0', 'ub4', 'd&3'].join('');
  const commit = await scenario.fixture.commit('vendor a settings dump and a build product', {
    'config/big.yml': `${'# filler line\n'.repeat(200)}JWT_SECRET: ${value}\n`,
    'assets/app.bin': Buffer.concat([
      Buffer.from([0, 1, 2, 0, 0xff]),
      Buffer.from(`JWT_SECRET=${value}`),
      Buffer.from([0]),
    ]),
  });
  return { scenario, value, commit };
}

describe('named secrets in content not held whole as text', () => {
  it('repo.history judges a name in a blob streamed past and in a binary blob, each once', async () => {
    const { scenario, value, commit } = await namedValueInLargeAndBinaryFiles();
    try {
      const outcome = await runCheckOn(repoHistory, fixtureTarget(scenario.fixture.dir), {
        names: ['JWT_SECRET'],
        max_blob_bytes: 1024,
      });
      expect(outcome.status, outcome.summary).toBe('fail');
      expect(JSON.stringify(outcome)).not.toContain(value);
      const { finding } = firstOpenFinding(outcome);
      const actual = finding?.actual as { fingerprint: string; introduced: object; also_in: object[] };
      expect(actual.fingerprint).toBe(fingerprintSecret(value).sha256);
      // One secret, in both places (whichever git read first is the introduction).
      const places = [actual.introduced, ...actual.also_in];
      expect(places).toHaveLength(2);
      expect(places).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            rule: 'named-secret-value',
            name: 'JWT_SECRET',
            path: 'config/big.yml',
            line: 201,
            commit,
          }),
          expect.objectContaining({
            rule: 'named-secret-value',
            name: 'JWT_SECRET',
            path: 'assets/app.bin',
            byte_offset: 16,
          }),
        ]),
      );
      expect(outcome.observations.find((o) => o.probe.startsWith('git log --all'))?.actual).toMatchObject({
        large_blobs_streamed: 1,
        binary_blobs_scanned_for_printable_runs: 1,
      });
    } finally {
      await scenario.fixture.cleanup();
    }
  });

  it('repo.committed-secrets judges a name in a file streamed past and in a binary file', async () => {
    const { scenario, value } = await namedValueInLargeAndBinaryFiles();
    try {
      const outcome = await runCheckOn(committedSecrets, fixtureTarget(scenario.fixture.dir), {
        names: ['JWT_SECRET'],
        max_file_bytes: 1024,
      });
      expect(outcome.status, outcome.summary).toBe('fail');
      expect(JSON.stringify(outcome)).not.toContain(value);
      expectEachFoundOnce(outcome, [
        'JWT_SECRET has a value in config/big.yml:201;',
        'JWT_SECRET has a value in assets/app.bin (byte 16);',
      ]);
    } finally {
      await scenario.fixture.cleanup();
    }
  });
});

describe('named secrets in commit and tag messages', () => {
  it('judges a name given a value in a message, and passes the sentence going on after a name', async () => {
    const fixture = await GitFixture.create('named-in-message');
    // Shorter than the generic rule's 12 characters: only the name makes it a finding.
    const value = `${randomBytes(4).toString('hex')}Q`;
    try {
      await fixture.commit('initial layout\n\nJWT_SECRET: now required at startup', { 'README.md': '# app\n' });
      const leaked = await fixture.commit(`staging\n\nredeployed with JWT_SECRET=${value} for the demo`, {
        'CHANGELOG.md': '- staging\n',
      });
      const outcome = await runCheckOn(repoHistory, fixtureTarget(fixture.dir), { names: ['JWT_SECRET'] });
      expect(outcome.status, outcome.summary).toBe('fail');
      expect(JSON.stringify(outcome)).not.toContain(value);
      expectEachFoundOnce(outcome, [`named-secret-value JWT_SECRET in commit message:3 of commit ${leaked}`]);
      const { finding } = firstOpenFinding(outcome);
      expect(finding?.actual).toMatchObject({ fingerprint: fingerprintSecret(value).sha256 });
    } finally {
      await fixture.cleanup();
    }
  });
});

describe('repo.history and what only looks like a secret', () => {
  it('passes SSH public keys and integrity digests in block scalars, and prose after a name in commit messages', async () => {
    const scenario = await secretShapedDecoys();
    try {
      const outcome = await runCheckOn(repoHistory, fixtureTarget(scenario.fixture.dir));
      expect(outcome.status, outcome.summary).toBe('pass');
    } finally {
      await scenario.fixture.cleanup();
    }
  });

  it('still finds a real value and a private key in the same shapes', async () => {
    const scenario = await secretShapedDecoys(true);
    const commit = scenario.commits.secrets ?? 'not built';
    try {
      const outcome = await runCheckOn(repoHistory, fixtureTarget(scenario.fixture.dir));
      expect(outcome.status, outcome.summary).toBe('fail');
      expectEachFoundOnce(outcome, [
        `generic-secret-assignment in commit message:1 of commit ${commit}`,
        `generic-secret-assignment in deploy/secrets.yml:2 introduced by commit ${commit}`,
        `private-key in deploy/secrets.yml:`,
      ]);
    } finally {
      await scenario.fixture.cleanup();
    }
  });
});

describe('repo.history baseline and limits', () => {
  it('reports a baselined finding as accepted, never hidden, and passes when every finding is baselined', async () => {
    await withBaselineDir(keyOnlyReachableFromTag, async (target, baselineDir) => {
      const first = await runCheckOn(repoHistory, target);
      expect(first.status).toBe('fail');
      const finding = first.observations.find((observation) => observation.ok === false);
      const fingerprint = (finding?.actual as { fingerprint?: string } | undefined)?.fingerprint;
      expect(fingerprint).toMatch(/^[0-9a-f]{12}$/);

      await writeFile(
        path.join(baselineDir, 'baseline.json'),
        JSON.stringify({
          findings: [{ fingerprint, rule: 'private-key', reason: 'throwaway key from the test CA, revoked' }],
        }),
      );
      const second = await runCheckOn(repoHistory, target, { baseline: 'baseline.json' });
      expect(second.status, JSON.stringify(second, null, 2)).toBe('pass');
      const accepted = second.observations.find((observation) => observation.note?.startsWith('baselined:'));
      expect(accepted?.ok).toBe(true);
      expect(accepted?.note).toMatch(
        /baselined: throwaway key from the test CA, revoked \(private-key in deploy\/id_ecdsa\.pem:2/,
      );
      expect(second.summary).toMatch(/1 baselined/);
    });
  });

  it('names an open finding, not an accepted one, as the first in its summary', async () => {
    await withBaselineDir(envDeletedOnSideBranch, async (target, baselineDir) => {
      const first = await runCheckOn(repoHistory, target);
      const findings = first.observations.filter((observation) => observation.ok === false);
      expect(findings.length, JSON.stringify(first, null, 2)).toBeGreaterThanOrEqual(2);
      const [acceptedFinding, openFinding] = findings;
      const actual = acceptedFinding?.actual as { fingerprint?: string; rule?: string } | undefined;
      await writeFile(
        path.join(baselineDir, 'baseline.json'),
        JSON.stringify({
          findings: [{ fingerprint: actual?.fingerprint, rule: actual?.rule, reason: 'accepted in test' }],
        }),
      );
      const second = await runCheckOn(repoHistory, target, { baseline: 'baseline.json' });
      expect(second.status).toBe('fail');
      expect(second.summary).toContain(`first: ${openFinding?.note}`);
      expect(second.summary).not.toContain('baselined: accepted in test');
    });
  });

  it('walks every stash entry and says so; a baselined one passes with the entries counted', async () => {
    await withBaselineDir(secretInOlderStashEntry, async (target, baselineDir) => {
      const first = await runCheckOn(repoHistory, target);
      expect(first.status).toBe('fail');
      const { fingerprint } = firstOpenFinding(first);
      const second = await runWithBaseline(target, baselineDir, [
        { fingerprint, rule: 'gitlab-token', reason: 'revoked test token' },
      ]);
      expect(second.status, JSON.stringify(second, null, 2)).toBe('pass');
      // main and refs/stash; stash@{0} and stash@{1}, the second in the reflog only.
      expect(second.summary).toMatch(/ of 4 commits across 2 refs and 2 stash entries \(1 baselined\)$/);
    });
  });

  it('judges a commit message like a file: fingerprinted, never quoted, accepted by a baseline entry', async () => {
    await withBaselineDir(secretInCommitMessage, async (target, baselineDir) => {
      const repoDir = target.context.repoDir ?? '';
      const message = (await execa('git', ['log', '-1', '--format=%B'], { cwd: repoDir })).stdout.trim();
      const token = message.split(' ').at(-1) ?? message;
      const first = await runCheckOn(repoHistory, target);
      expect(first.status).toBe('fail');
      expect(JSON.stringify(first)).not.toContain(token);
      const { finding, fingerprint } = firstOpenFinding(first);
      expect(finding?.location).toBeUndefined();
      expect(finding?.actual).toMatchObject({ rule: 'gitlab-token', path: 'commit message', in_head: false });
      const second = await runWithBaseline(target, baselineDir, [
        { fingerprint, rule: 'gitlab-token', path: 'commit message', reason: 'revoked test token' },
      ]);
      expect(second.status, JSON.stringify(second, null, 2)).toBe('pass');
      expect(second.summary).toMatch(
        /^no open findings in 2 blobs and 2 commit messages of 2 commits across 1 refs \(1 baselined\)$/,
      );
    });
  });

  it('scans blobs over max_blob_bytes as a stream, finding what they hold', async () => {
    const scenario = await cleanRepo();
    try {
      const key = `${['sk', 'live'].join('_')}_${'0123456789abcdefghijklmnopqrstuv'}`;
      await scenario.fixture.commit('vendor a bundle', {
        'vendor/bundle.js': `${'x'.repeat(4096)}\nconst k = '${key}';\n`,
      });
      const outcome = await runCheckOn(
        repoHistory,
        { context: { target: { url: 'https://127.0.0.1:9' }, repoDir: scenario.fixture.dir }, close: async () => {} },
        { max_blob_bytes: 1024 },
      );
      expect(outcome.status).toBe('fail');
      expect(outcome.summary).toMatch(/stripe-key in vendor\/bundle\.js:2 introduced by commit/);
      const totals = outcome.observations.find((observation) => observation.probe.startsWith('git log --all'));
      expect(totals?.actual).toMatchObject({ large_blobs_streamed: 1 });
      expect(JSON.stringify(outcome)).not.toContain(key);
    } finally {
      await scenario.fixture.cleanup();
    }
  });

  it('reads what a text-only scan cannot: large, binary, NUL-led and UTF-16 blobs', async () => {
    const scenario = await secretsInUnusualContent();
    const { commits, layout } = scenario;
    try {
      const outcome = await runCheckOn(repoHistory, {
        context: { target: { url: 'https://127.0.0.1:9' }, repoDir: scenario.fixture.dir },
        close: async () => {},
      });
      expect(outcome.status).toBe('fail');
      // Each secret once: the windows of the streamed dump overlap, their findings do not.
      expectEachFoundOnce(outcome, unusualContentFindings(layout, ` introduced by commit ${commits.initial}`));
      expect(outcome.observations.find((o) => o.probe.startsWith('git log --all'))?.actual).toMatchObject({
        decoded_text_blobs: 3,
        binary_blobs_scanned_for_printable_runs: 2,
        large_blobs_streamed: 1,
      });
    } finally {
      await scenario.fixture.cleanup();
    }
  });

  it('refuses a path scope that is absolute or leaves the repository (exit 2 at load)', () => {
    expect(() => repoHistory.params.parse({ paths: ['../other-repo'] })).toThrow(/inside the repository/);
    expect(() => repoHistory.params.parse({ paths: ['/srv/app'] })).toThrow(/not an absolute path/);
    expect(repoHistory.params.parse({ paths: ['./services/auth/', '.'] })).toMatchObject({
      paths: ['services/auth', ''],
    });
  });

  it('finds secrets in unreachable blobs when asked (a dropped stash)', async () => {
    const scenario = await secretOnlyInStash();
    try {
      await scenario.fixture.git('stash', 'drop', '--quiet');
      const target = {
        context: { target: { url: 'https://127.0.0.1:9' }, repoDir: scenario.fixture.dir },
        close: async () => {},
      };
      expect((await runCheckOn(repoHistory, target)).status).toBe('pass');
      const outcome = await runCheckOn(repoHistory, target, { include_unreachable: true });
      expect(outcome.status).toBe('fail');
      expect(outcome.summary).toMatch(/generic-secret-assignment in \(unreachable blob [0-9a-f]{12}\):7/);
    } finally {
      await scenario.fixture.cleanup();
    }
  });

  it('errors (fails closed) when a committed blob is gone from the object store, naming it, its path and a ref', async () => {
    const fixture = await GitFixture.create('history-missing-blob');
    try {
      const commit = await fixture.commit('config', { 'config.txt': 'setting = 1\n', 'other.txt': 'x\n' });
      await fixture.commit('later', { 'later.txt': 'y\n' });
      const blob = await fixture.git('rev-parse', `${commit}:config.txt`);
      // Loose objects live at .git/objects/<2 hex>/<38 hex>: deleting one leaves the trees naming it.
      await rm(path.join(fixture.dir, '.git', 'objects', blob.slice(0, 2), blob.slice(2)));
      const outcome = await runCheckOn(repoHistory, {
        context: { target: { url: 'https://127.0.0.1:9' }, repoDir: fixture.dir, baseDir: fixture.dir },
        close: async () => {},
      });
      expect(outcome.status).toBe('error');
      expect(outcome.summary).toContain(
        `1 absent blob not read. Absent from the object store: ${blob} (config.txt, reached by main~1)`,
      );
    } finally {
      await fixture.cleanup();
    }
  });

  it('on a partial clone, names every absent blob with its path and a ref, and reports what it could read', async () => {
    const source = await secretInRenamedFile();
    // A side branch whose file is never checked out: its blob stays on the server too.
    await source.fixture.git('checkout', '--quiet', '-b', 'feature/import');
    const sideCommit = await source.fixture.commit('import tool', { 'tools/import.py': 'BATCH = 500\n' });
    await source.fixture.git('checkout', '--quiet', 'main');
    const clone = await GitFixture.partialClone(source.fixture, 'partial');
    const target = { context: { target: { url: 'https://127.0.0.1:9' }, repoDir: clone.dir }, close: async () => {} };
    try {
      const settingsBlob = await source.fixture.git('rev-parse', `${source.commits.secretAdded}:config/settings.py`);
      const importBlob = await source.fixture.git('rev-parse', `${sideCommit}:tools/import.py`);
      const localObjects = () => clone.git('cat-file', '--batch-all-objects', '--batch-check=%(objectname)');
      const before = await localObjects();
      const outcome = await runCheckOn(repoHistory, target);
      expect(outcome.status, JSON.stringify(outcome, null, 2)).toBe('error');
      expect(outcome.summary).toMatch(/cannot judge the whole history .*: 2 absent blobs not read/);
      // Read as it is: the promisor remote (a file:// URL any git could fetch from) was never asked.
      expect(await localObjects()).toBe(before);
      const absent = outcome.observations.find((observation) => observation.probe.includes('absent objects'));
      expect(absent?.actual).toMatchObject({ absent: 2, blobs: expect.any(Array) });
      const listed =
        absent?.actual && typeof absent.actual === 'object' && 'blobs' in absent.actual ? absent.actual.blobs : [];
      expect(listed).toHaveLength(2);
      expect(listed).toContainEqual({
        blob: settingsBlob,
        path: 'config/settings.py',
        commit: source.commits.secretAdded,
        ref: expect.stringMatching(/^(?:remotes\/)?origin\/(?:main|HEAD)~2$|^main~2$/),
      });
      expect(listed).toContainEqual({
        blob: importBlob,
        path: 'tools/import.py',
        commit: sideCommit,
        ref: expect.stringMatching(/^(?:remotes\/)?origin\/feature\/import$/),
      });

      // A secret the clone does hold is still found: the verdict is then fail, with the absent blobs named.
      await clone.commit('ci token', {
        'ci/clone.sh': `git clone https://oauth2:${['glpat', 'Zq8Xw2Lm9Pv4Rt7Yb1Kc'].join('-')}@gitlab.example/app.git\n`,
      });
      const withFinding = await runCheckOn(repoHistory, target);
      expect(withFinding.status).toBe('fail');
      expect(withFinding.summary).toMatch(
        /1 secret finding in git history, and 2 absent blobs not read, first: gitlab-token in ci\/clone\.sh:1/,
      );
    } finally {
      await clone.cleanup();
      await source.fixture.cleanup();
    }
  });

  it('errors (fails closed) on a directory that is not a git repository', async () => {
    const target = await notAGitRepository();
    try {
      const outcome = await runCheckOn(repoHistory, target);
      expect(outcome.status).toBe('error');
      expect(outcome.summary).toMatch(/could not walk the git history/);
    } finally {
      await target.close();
    }
  });
});
