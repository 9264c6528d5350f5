import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import repoHistory from '../../../checks/repo/history.js';
import { GitFixture } from '../../../fixtures/repos/git-fixture.js';
import {
  cleanRepo,
  envDeletedOnSideBranch,
  historyCutOff,
  keyOnlyReachableFromTag,
  notAGitRepository,
  type RepoScenario,
  secretHiddenByReplaceRef,
  secretInRenamedFile,
  secretOnlyInStash,
  secretOnlyOnRemoteTrackingRef,
  secretsOnlyBehindTags,
} from '../../../fixtures/repos/scenarios.js';
import { runCheckOn, type TargetHandle, testCheck } from '../../harness/check-tester.js';
import { repoTarget } from './repo-target.js';

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
  valid: [{ name: 'clean repository (ignored .env never committed)', target: repoTarget(cleanRepo) }],
  invalid: [
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

  it('skips blobs over max_blob_bytes with an observation naming them', async () => {
    const scenario = await cleanRepo();
    try {
      await scenario.fixture.commit('vendor a bundle', { 'vendor/bundle.js': 'x'.repeat(4096) });
      const outcome = await runCheckOn(
        repoHistory,
        { context: { target: { url: 'https://127.0.0.1:9' }, repoDir: scenario.fixture.dir }, close: async () => {} },
        { max_blob_bytes: 1024 },
      );
      expect(outcome.status).toBe('pass');
      expect(
        outcome.observations.some((observation) =>
          /not scanned: 4096 bytes exceeds max_blob_bytes \(vendor\/bundle\.js/.test(observation.note ?? ''),
        ),
      ).toBe(true);
    } finally {
      await scenario.fixture.cleanup();
    }
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

  it('errors (fails closed) when a committed blob is gone from the object store, naming the blob', async () => {
    const fixture = await GitFixture.create('history-missing-blob');
    try {
      const commit = await fixture.commit('config', { 'config.txt': 'setting = 1\n', 'other.txt': 'x\n' });
      const blob = await fixture.git('rev-parse', `${commit}:config.txt`);
      // Loose objects live at .git/objects/<2 hex>/<38 hex>: deleting one leaves the trees naming it.
      await rm(path.join(fixture.dir, '.git', 'objects', blob.slice(0, 2), blob.slice(2)));
      const outcome = await runCheckOn(repoHistory, {
        context: { target: { url: 'https://127.0.0.1:9' }, repoDir: fixture.dir, baseDir: fixture.dir },
        close: async () => {},
      });
      expect(outcome.status).toBe('error');
      expect(outcome.summary).toMatch(new RegExp(`could not read blobs: .*${blob}.* missing from the object store`));
    } finally {
      await fixture.cleanup();
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
