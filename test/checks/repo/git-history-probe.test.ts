import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitFixture } from '../../../fixtures/repos/git-fixture.js';
import { secretInRenamedFile } from '../../../fixtures/repos/scenarios.js';
import { listRefs } from '../../../src/probes/git.js';
import {
  BlobIdQueue,
  type BlobRead,
  type BlobTransport,
  CatFileParser,
  NulSplitter,
  readBlobs,
  walkHistory,
} from '../../../src/probes/git-history.js';

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

  it("hands on each message whole, even one shaped like the walk's own tokens, and walks from extra starts", async () => {
    const fixture = await GitFixture.create('message-tokens');
    try {
      const first = await fixture.commit('first', { 'a.txt': 'a\n' });
      // A message that reads like a change line and a commit line must not be taken for either.
      const odd = `:100644 100644 ${'0'.repeat(40)} ${'1'.repeat(40)} M\ncommit ${'2'.repeat(40)}`;
      const second = await fixture.commit(odd, { 'b.txt': 'b\n' });
      // A commit no ref reaches, walked only because it is given as a start (as an older stash entry is).
      await fixture.git('checkout', '--quiet', '--detach');
      const loose = await fixture.commit('loose', { 'c.txt': 'c\n' });
      await fixture.git('checkout', '--quiet', 'main');
      const messages = new Map<string, string>();
      const walk = await walkHistory(fixture.dir, {
        starts: [loose],
        onMessage: (commit, message) => messages.set(commit, message),
      });
      expect(walk.commits).toBe(3);
      expect(messages).toEqual(
        new Map([
          [first, 'first\n'],
          [second, `${odd}\n`],
          [loose, 'loose\n'],
        ]),
      );
      expect([...walk.paths.keys()].sort()).toEqual(['a.txt', 'b.txt', 'c.txt']);
      expect((await walkHistory(fixture.dir)).commits).toBe(2);
    } finally {
      await fixture.cleanup();
    }
  });

  it("sees a root commit's files whatever the user's git config says", async () => {
    const fixture = await GitFixture.create('root-commit-config');
    const config = path.join(fixture.dir, '..', `${path.basename(fixture.dir)}.gitconfig`);
    const saved = process.env.GIT_CONFIG_GLOBAL;
    try {
      const root = await fixture.commit('root', { 'first.txt': 'only in the root commit\n' });
      await fixture.commit('second', { 'second.txt': 'later\n' });
      // Both settings change `git log --raw` output: no diff for root commits, GPG lines among the tokens.
      await writeFile(config, '[log]\n\tshowRoot = false\n\tshowSignature = true\n');
      process.env.GIT_CONFIG_GLOBAL = config;
      const walk = await walkHistory(fixture.dir);
      const rootBlob = await fixture.git('rev-parse', `${root}:first.txt`);
      expect(walk.blobs.get(rootBlob)).toEqual({ commit: root, path: 'first.txt' });
      expect(walk.blobs.size).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.GIT_CONFIG_GLOBAL;
      else process.env.GIT_CONFIG_GLOBAL = saved;
      await rm(config, { force: true });
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

/** A blob as the test keeps it: content is only valid during onBlob, so it is copied there. */
function kept(blob: BlobRead): BlobRead {
  return blob.kind === 'text-or-binary' ? { ...blob, content: Buffer.from(blob.content) } : blob;
}

describe('CatFileParser', () => {
  const blobs = [
    { sha: 'a'.repeat(40), content: Buffer.from('first\n') },
    { sha: 'b'.repeat(40), content: Buffer.alloc(0) },
    { sha: 'c'.repeat(40), content: Buffer.from('x'.repeat(5000)) },
    { sha: 'd'.repeat(40), content: Buffer.from('large '.repeat(100)) },
    { sha: 'e'.repeat(40), content: Buffer.from('last, after a missing id') },
  ];
  const output = Buffer.concat([
    ...blobs
      .slice(0, 4)
      .flatMap(({ sha, content }) => [Buffer.from(`${sha} blob ${content.length}\n`), content, Buffer.from('\n')]),
    Buffer.from(`${'f'.repeat(40)} missing\n`),
    Buffer.from(`${blobs[4]?.sha} blob ${blobs[4]?.content.length}\n`),
    blobs[4]?.content ?? Buffer.alloc(0),
    Buffer.from('\n'),
  ]);

  it('reads the same blobs whatever the chunks are cut at', () => {
    const expected: BlobRead[] = [];
    const whole = new CatFileParser(1000, (blob) => expected.push(kept(blob)));
    whole.push(output);
    expect(whole.complete).toBe(true);
    expect(expected.map((blob) => blob.kind)).toEqual([
      'text-or-binary',
      'text-or-binary',
      'too-large',
      'text-or-binary',
      'missing',
      'text-or-binary',
    ]);
    expect(expected[0]?.kind === 'text-or-binary' && expected[0].content.toString()).toBe('first\n');
    expect(whole.blobs).toBe(5);
    expect(whole.bytes).toBe(blobs.reduce((total, blob) => total + blob.content.length, 0));
    for (const chunkSize of [1, 2, 3, 7, 41, 42, 43, 100, 4999, 5001, 5050]) {
      const seen: BlobRead[] = [];
      const parser = new CatFileParser(1000, (blob) => seen.push(kept(blob)));
      for (let at = 0; at < output.length; at += chunkSize) parser.push(output.subarray(at, at + chunkSize));
      expect(seen, `chunks of ${chunkSize}`).toEqual(expected);
      expect(parser.complete).toBe(true);
    }
  });

  it('refuses output it does not understand instead of reading past it', () => {
    const sha = 'a'.repeat(40);
    const cases: [string, Buffer, RegExp][] = [
      ['a tree where a blob was asked for', Buffer.from(`${sha} tree 5\nxxxxx\n`), /unexpected header/],
      ['a size that is not a number', Buffer.from(`${sha} blob 5x\nxxxxx\n`), /unexpected header/],
      ['content longer than its size', Buffer.from(`${sha} blob 3\nxxxxx\n`), /does not end where its size says/],
      ['a garbage line', Buffer.from('fatal: something went wrong\n'), /unexpected header/],
    ];
    for (const [what, bytes, error] of cases) {
      for (const chunkSize of [1, 7, bytes.length]) {
        const parser = new CatFileParser(1000, () => {});
        expect(() => {
          for (let at = 0; at < bytes.length; at += chunkSize) parser.push(bytes.subarray(at, at + chunkSize));
        }, `${what}, chunks of ${chunkSize}`).toThrow(error);
      }
    }
  });

  it('never quotes a line that is not shaped like a header (out of step, it may be content)', () => {
    const parser = new CatFileParser(1000, () => {});
    expect(() => parser.push(Buffer.from('API_TOKEN = "q8Zt2LmW9xVb4RnK7pYc3HdF6jSg1TeA"\n'))).toThrow(
      /unexpected header: a 46-byte line$/,
    );
    const endless = new CatFileParser(1000, () => {});
    expect(() => endless.push(Buffer.alloc(300, 'a'))).toThrow(/header line longer than 256 bytes/);
  });

  it('knows output cut short inside a header or a blob', () => {
    for (const cut of [10, 50, 60, output.length - 1]) {
      const parser = new CatFileParser(1000, () => {});
      parser.push(output.subarray(0, cut));
      expect(parser.complete, `cut at ${cut}`).toBe(false);
    }
  });
});

describe('NulSplitter', () => {
  it('yields the same tokens whatever the chunks are cut at, multi-byte characters included', () => {
    const tokens = ['commit abc', ':100644 100644 0 1 M', 'päth/ünïcode.txt', '', 'last'];
    const bytes = Buffer.from(tokens.join('\0'));
    for (const chunkSize of [1, 2, 3, 5, 8, bytes.length]) {
      const seen: string[] = [];
      const splitter = new NulSplitter((token) => seen.push(token));
      for (let at = 0; at < bytes.length; at += chunkSize) splitter.push(bytes.subarray(at, at + chunkSize));
      splitter.end();
      expect(seen, `chunks of ${chunkSize}`).toEqual(tokens);
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
      for (const transport of ['socket', 'fifo', 'pipe'] satisfies BlobTransport[]) {
        const seen: BlobRead[] = [];
        const totals = await readBlobs(fixture.dir, [...ids, missing], { maxBlobBytes: 1024, transport }, (blob) =>
          seen.push(kept(blob)),
        );
        expect(seen.map((blob) => blob.kind)).toEqual(['text-or-binary', 'too-large', 'text-or-binary', 'missing']);
        expect(seen[0]?.kind === 'text-or-binary' && seen[0].content.toString()).toBe('hello\n');
        expect(seen[1]?.size).toBe(300_000);
        expect(seen[2]?.size).toBe(0);
        expect(totals).toEqual({ blobs: 3, bytes: 300_006, transport });
      }
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
        transport: 'socket',
      });
      expect(seen).toEqual(['a\n', 'b\n']);
      await expect(readBlobs(fixture.dir, slowly(1), { maxBlobBytes: 1024 }, collect)).rejects.toThrow('walk failed');
    } finally {
      await fixture.cleanup();
    }
  });

  it('takes ids from a queue filled before and while it reads, and stops git when the queue fails', async () => {
    const fixture = await GitFixture.create('blobs-queue');
    try {
      const files = { 'a.txt': 'a\n', 'b.txt': 'bb\n', 'c.txt': 'ccc\n' };
      const commit = await fixture.commit('files', files);
      const ids = await Promise.all(Object.keys(files).map((file) => fixture.git('rev-parse', `${commit}:${file}`)));
      const queue = new BlobIdQueue();
      queue.push(ids[0] ?? '');
      const seen: string[] = [];
      const reading = readBlobs(fixture.dir, queue, { maxBlobBytes: 1024 }, (blob) => {
        if (blob.kind === 'text-or-binary') seen.push(blob.content.toString());
      });
      setTimeout(() => {
        queue.push(ids[1] ?? '');
        queue.push(ids[2] ?? '');
        queue.end();
      }, 20);
      await expect(reading).resolves.toMatchObject({ blobs: 3, bytes: 9 });
      expect(seen).toEqual(['a\n', 'bb\n', 'ccc\n']);

      const failing = new BlobIdQueue();
      const stopped = readBlobs(fixture.dir, failing, { maxBlobBytes: 1024 }, () => {});
      failing.push(ids[0] ?? '');
      setTimeout(() => failing.fail(new Error('walk failed')), 20);
      await expect(stopped).rejects.toThrow('walk failed');
    } finally {
      await fixture.cleanup();
    }
  });

  it('leaves no socket or FIFO behind and reads large blobs that span many reads', async () => {
    const fixture = await GitFixture.create('blobs-fifo');
    try {
      // 2.4 MB of text: more than the 1 MiB read buffer and far more than a pipe holds.
      const big = Array.from({ length: 60_000 }, (_unused, line) => `line ${line} of a large file, some text\n`).join(
        '',
      );
      const commit = await fixture.commit('big', { 'big.txt': big });
      const id = await fixture.git('rev-parse', `${commit}:big.txt`);
      // A private TMPDIR for this call (os.tmpdir() reads it each time), so other tests' FIFOs cannot interfere.
      const privateTmp = await mkdtemp(path.join(os.tmpdir(), 'secgate-test-tmp-'));
      const savedTmp = process.env.TMPDIR;
      process.env.TMPDIR = privateTmp;
      // A temporary directory whose name is too long for a Unix socket's address (108 bytes on Linux): the
      // socket cannot be made there, and the FIFO is the fallback.
      const longTmp = path.join(privateTmp, 'x'.repeat(120));
      await mkdir(longTmp);
      const contents: string[] = [];
      const transports: string[] = [];
      try {
        for (const [tmp, transport] of [
          [privateTmp, 'socket'],
          [privateTmp, 'fifo'],
          [longTmp, 'socket'],
        ] satisfies [string, BlobTransport][]) {
          process.env.TMPDIR = tmp;
          const totals = await readBlobs(fixture.dir, [id], { maxBlobBytes: 8 * 1024 * 1024, transport }, (blob) => {
            if (blob.kind === 'text-or-binary') contents.push(blob.content.toString());
          });
          expect(totals).toMatchObject({ blobs: 1, bytes: Buffer.byteLength(big) });
          transports.push(totals.transport);
        }
      } finally {
        if (savedTmp === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = savedTmp;
      }
      expect(transports).toEqual(['socket', 'fifo', 'fifo']);
      expect(contents).toEqual([big, big, big]);
      expect(await readdir(privateTmp)).toEqual(['x'.repeat(120)]);
      expect(await readdir(longTmp)).toEqual([]);
      await rm(privateTmp, { recursive: true, force: true });
    } finally {
      await fixture.cleanup();
    }
  });

  it('fails, without an unhandled rejection, when git is stopped or cannot start while ids are still coming', async () => {
    // vitest fails the run on an unhandled rejection, so each of these also proves there is none.
    const fixture = await GitFixture.create('blobs-abort');
    try {
      const commit = await fixture.commit('files', { 'a.txt': 'a\n' });
      const id = await fixture.git('rev-parse', `${commit}:a.txt`);
      for (const transport of ['socket', 'fifo', 'pipe'] satisfies BlobTransport[]) {
        const aborted = new AbortController();
        const open = new BlobIdQueue();
        open.push(id);
        const reading = readBlobs(
          fixture.dir,
          open,
          { maxBlobBytes: 1024, signal: aborted.signal, transport },
          () => {},
        );
        setTimeout(() => aborted.abort(), 50);
        // The queue never ends: only the abort can finish this read.
        await expect(reading, transport).rejects.toThrow(/canceled/);
        const nowhere = new BlobIdQueue();
        const missingRepository = readBlobs(
          path.join(fixture.dir, 'no-such-directory'),
          nowhere,
          { maxBlobBytes: 1024, transport },
          () => {},
        );
        await expect(missingRepository, transport).rejects.toThrow(/ENOENT/);
        nowhere.end();
        open.end();
      }
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
