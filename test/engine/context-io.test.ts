import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openCheckContext } from '../../src/engine/context.js';
import { createCheckIo } from '../../src/engine/context-io.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'secgate-context-io-'));
  await writeFile(path.join(directory, 'log.txt'), 'first line\nsecond line\n');
  await symlink('log.txt', path.join(directory, 'link'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('ctx.files', () => {
  it('resolves relative paths against the checklist directory and tells a symlink from its target', async () => {
    const { files } = createCheckIo(directory);
    expect(await files.lstat('link')).toEqual({ kind: 'symlink', size: expect.any(Number) });
    expect(await files.stat('link')).toEqual({ kind: 'file', size: 23 });
    expect(await files.readText(path.join(directory, 'log.txt'))).toBe('first line\nsecond line\n');
    await expect(files.lstat('missing')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reads the range chosen from the size of the open file, and a file in chunks', async () => {
    const { files } = createCheckIo(directory);
    const sizes: number[] = [];
    const tail = await files.readRange('log.txt', (size) => {
      sizes.push(size);
      return { start: 11, length: size - 11 };
    });
    expect(sizes).toEqual([23]);
    expect(tail.toString('utf8')).toBe('second line\n');
    const chunks: number[] = [];
    for await (const chunk of files.readChunks('log.txt', { chunkBytes: 10 })) chunks.push(chunk.length);
    expect(chunks).toEqual([10, 10, 3]);
  });
});

describe('ctx.exec', () => {
  const printEnv = ['-e', 'process.stdout.write(JSON.stringify(Object.keys(process.env).sort()))'];
  const options = { cwd: '.', signal: new AbortController().signal, timeoutMs: 10_000, maxBufferBytes: 1 << 20 };

  it('gives a child exactly the variables the check passes, nothing of the gate', async () => {
    vi.stubEnv('SECGATE_TEST_GATE_ONLY', 'gate-value');
    try {
      const { exec } = createCheckIo(directory);
      const { stdout } = await exec.output(process.execPath, printEnv, { ...options, env: { ONLY: 'one' } });
      expect(JSON.parse(stdout)).toEqual(['ONLY']);
      // `inherit`: the gate's environment, for a command the checklist names to reach its own infrastructure.
      const inherited = await exec.output(process.execPath, printEnv, { ...options, env: 'inherit' });
      expect(JSON.parse(inherited.stdout)).toContain('SECGATE_TEST_GATE_ONLY');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('runs in the checklist directory and rejects a failing command', async () => {
    const { exec } = createCheckIo(directory);
    const cwd = await exec.output(process.execPath, ['-e', 'process.stdout.write(process.cwd())'], {
      ...options,
      env: {},
    });
    expect(cwd.stdout).toBe(directory);
    await expect(exec.output(process.execPath, ['-e', 'process.exit(3)'], { ...options, env: {} })).rejects.toThrow(
      /exit code 3/,
    );
  });
});

describe('the HTTP and database clients of a context', () => {
  it('are refused after the context closes, so a check still running opens nothing that stays open', async () => {
    const opened = await openCheckContext({
      target: { url: 'https://127.0.0.1:1', timeout_ms: 1_000 },
      databaseUrl: 'postgres://nobody@127.0.0.1:1/none',
    });
    await opened.close();
    await expect(opened.context.http.request('https://127.0.0.1:1/')).rejects.toThrow(/the check context is closed/);
    await expect(opened.context.db?.query('SELECT 1')).rejects.toThrow(/the check context is closed/);
  });
});
