import { describe, expect, it } from 'vitest';
import { GitFixture } from '../../../fixtures/repos/git-fixture.js';
import { secretInRenamedFile } from '../../../fixtures/repos/scenarios.js';
import { listRefs } from '../../../src/probes/git.js';
import { type BlobRead, readBlobs, walkHistory } from '../../../src/probes/git-history.js';

describe('walkHistory', () => {
  it('names the first commit and path that introduced each blob, through renames', async () => {
    const { fixture, commits } = await secretInRenamedFile();
    try {
      const walk = await walkHistory(fixture.dir);
      expect(walk.commits).toBe(4);
      const settingsBlob = await fixture.git('rev-parse', `${commits.secretAdded}:config/settings.py`);
      expect(walk.blobs.get(settingsBlob)).toEqual({ commit: commits.secretAdded, path: 'config/settings.py' });
      // The rename re-adds the same blob under a new path; the path map records it, the blob keeps its origin.
      expect(walk.paths.get('config/payments.py')).toEqual({
        commit: commits.renamed,
        path: 'config/payments.py',
        blob: settingsBlob,
      });
    } finally {
      await fixture.cleanup();
    }
  });

  it('attributes content that only a merge commit introduced (an evil merge) to the merge', async () => {
    const fixture = await GitFixture.create('evil-merge');
    try {
      await fixture.commit('base', { 'a.txt': 'a\n' });
      await fixture.git('checkout', '--quiet', '-b', 'side');
      await fixture.commit('side change', { 'b.txt': 'b\n' });
      await fixture.git('checkout', '--quiet', 'main');
      await fixture.commit('main change', { 'c.txt': 'c\n' });
      await fixture.git('merge', '--quiet', '--no-commit', 'side');
      await fixture.write({ 'evil.txt': 'only in the merge\n' });
      const merge = await fixture.commit('merge side');
      const walk = await walkHistory(fixture.dir);
      const evilBlob = await fixture.git('rev-parse', `${merge}:evil.txt`);
      expect(walk.blobs.get(evilBlob)?.commit).toBe(merge);
      const sideBlob = await fixture.git('rev-parse', 'side:b.txt');
      expect(walk.blobs.get(sideBlob)?.commit).toBe(await fixture.git('rev-parse', 'side'));
      expect((await listRefs(fixture.dir)).map((ref) => ref.name).sort()).toEqual([
        'refs/heads/main',
        'refs/heads/side',
      ]);
    } finally {
      await fixture.cleanup();
    }
  });
});

describe('readBlobs', () => {
  it('streams blobs in order, drains large ones unread and reports missing ids', async () => {
    const fixture = await GitFixture.create('blobs');
    try {
      const commit = await fixture.commit('files', {
        'small.txt': 'hello\n',
        'empty.txt': '',
        'large.bin': Buffer.alloc(300_000, 7),
      });
      const ids = await Promise.all(
        ['small.txt', 'large.bin', 'empty.txt'].map((file) => fixture.git('rev-parse', `${commit}:${file}`)),
      );
      const missing = 'f'.repeat(40);
      const seen: BlobRead[] = [];
      const totals = await readBlobs(fixture.dir, [...ids, missing], { maxBlobBytes: 1024 }, (blob) => seen.push(blob));
      expect(seen.map((blob) => blob.kind)).toEqual(['text-or-binary', 'too-large', 'text-or-binary', 'missing']);
      expect(seen[0]?.kind === 'text-or-binary' && seen[0].content.toString()).toBe('hello\n');
      expect(seen[1]?.size).toBe(300_000);
      expect(seen[2]?.size).toBe(0);
      expect(totals).toEqual({ blobs: 3, bytes: 300_006 });
    } finally {
      await fixture.cleanup();
    }
  });

  it('reads ids from a stream that is still growing, and stops git when that stream fails', async () => {
    const fixture = await GitFixture.create('blobs-stream');
    try {
      const commit = await fixture.commit('files', { 'a.txt': 'a\n', 'b.txt': 'b\n' });
      const ids = await Promise.all(['a.txt', 'b.txt'].map((file) => fixture.git('rev-parse', `${commit}:${file}`)));
      async function* slowly(failAfter?: number) {
        for (const [index, id] of ids.entries()) {
          if (index === failAfter) throw new Error('walk failed');
          await new Promise((resolve) => setTimeout(resolve, 20));
          yield id;
        }
      }
      const seen: string[] = [];
      const collect = (blob: BlobRead) => {
        if (blob.kind === 'text-or-binary') seen.push(blob.content.toString());
      };
      await expect(readBlobs(fixture.dir, slowly(), { maxBlobBytes: 1024 }, collect)).resolves.toEqual({
        blobs: 2,
        bytes: 4,
      });
      expect(seen).toEqual(['a\n', 'b\n']);
      await expect(readBlobs(fixture.dir, slowly(1), { maxBlobBytes: 1024 }, collect)).rejects.toThrow('walk failed');
    } finally {
      await fixture.cleanup();
    }
  });

  it('stops git when the consumer throws', async () => {
    const fixture = await GitFixture.create('blobs-throw');
    try {
      const commit = await fixture.commit('files', { 'a.txt': 'a\n', 'b.txt': 'b\n' });
      const ids = await Promise.all(['a.txt', 'b.txt'].map((file) => fixture.git('rev-parse', `${commit}:${file}`)));
      await expect(
        readBlobs(fixture.dir, ids, { maxBlobBytes: 1024 }, () => {
          throw new Error('consumer failed');
        }),
      ).rejects.toThrow('consumer failed');
    } finally {
      await fixture.cleanup();
    }
  });
});
