import { describe, expect, it } from 'vitest';
import { cleanRepo, keyOnlyReachableFromTag } from '../../fixtures/repos/scenarios.js';
import { scanHistory } from '../../src/probes/history-scan.js';

const options = { includeUnreachable: false, maxBlobBytes: 8 * 1024 * 1024, signal: new AbortController().signal };

describe('scanHistory (the observation repo.history judges)', () => {
  it('returns every ref, the totals and one finding per secret, by fingerprint, never by value', async () => {
    const scenario = await keyOnlyReachableFromTag();
    try {
      const key = await scenario.fixture.git('show', `${scenario.commits.keyAdded}:deploy/id_ecdsa.pem`);
      const seen = await scanHistory(scenario.fixture.dir, options);
      expect(seen.failure).toBeUndefined();
      expect(seen.cutoffs).toEqual([]);
      expect(seen.refs).toContain('refs/tags/v0.9.0-rc1');
      expect(seen.totals).toMatchObject({ commits: 2, missingFromStore: 0 });
      expect(seen.totals?.scannedBlobs).toBe(seen.totals?.requested);
      expect(seen.findings).toHaveLength(1);
      expect(seen.findings[0]).toMatchObject({
        fingerprint: expect.stringMatching(/^[0-9a-f]{12}$/),
        occurrences: [{ rule: 'private-key', path: 'deploy/id_ecdsa.pem', commit: scenario.commits.keyAdded }],
      });
      // The key is no longer in HEAD (its branch was deleted): HEAD's files are listed, the key is not among them.
      expect([...seen.headPaths.values()].flat()).toContain('README.md');
      expect([...seen.headPaths.values()].flat()).not.toContain('deploy/id_ecdsa.pem');
      const body = key.split('\n').find((line) => line.length > 40) ?? key;
      expect(JSON.stringify({ ...seen, headPaths: [...seen.headPaths] })).not.toContain(body);
    } finally {
      await scenario.fixture.cleanup();
    }
  });

  it('reports the walk it could not make as a failed step, not as an empty history', async () => {
    const scenario = await cleanRepo();
    try {
      const seen = await scanHistory(`${scenario.fixture.dir}/no-such-dir`, options);
      expect(seen.failure?.step).toBe('cutoffs');
      expect(seen.totals).toBeUndefined();
    } finally {
      await scenario.fixture.cleanup();
    }
  });
});
