/**
 * The embedded PostgreSQL starts and stops cleanly everywhere: a throwaway
 * cluster leaves nothing behind, a server whose owner dies stops by itself,
 * root gets one clear sentence where PostgreSQL's user cannot go, and the
 * runbook's stop procedure (SIGTERM to the `npx` that started the service)
 * leaves no process running.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { startEmbeddedDatabase } from '../../src/service/db/embedded.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const BUILT_MODULE = path.resolve('dist/src/service/db/embedded.js');

async function accepts(databaseUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Processes whose command line contains `text` (the service and its PostgreSQL both carry their data directory). */
async function processesMentioning(text: string): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid=,args='], { reject: false });
  return stdout
    .split('\n')
    .filter((line) => line.includes(text) && !line.includes(' ps -eo'))
    .map((line) => line.trim());
}

describe('embedded PostgreSQL', () => {
  it('a throwaway cluster serves, then stops for good (stop is idempotent)', async () => {
    const database = await startEmbeddedDatabase({ throwaway: true });
    expect(await accepts(database.databaseUrl)).toBe(true);
    await Promise.all([database.stop(), database.stop()]);
    expect(await accepts(database.databaseUrl)).toBe(false);
  });

  it('stops by itself when the process that started it is killed (no orphan)', async () => {
    const owner = execa(
      'node',
      [
        '--input-type=module',
        '-e',
        `const { startEmbeddedDatabase } = await import(${JSON.stringify(BUILT_MODULE)});
         const database = await startEmbeddedDatabase({ throwaway: true });
         process.stdout.write(database.databaseUrl + '\\n');
         setInterval(() => {}, 1000);`,
      ],
      { reject: false, buffer: false },
    );
    const databaseUrl = await new Promise<string>((resolve, reject) => {
      let output = '';
      owner.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const line = output.split('\n').find((candidate) => candidate.startsWith('postgres://'));
        if (line) resolve(line.trim());
      });
      void owner.then((result) => reject(new Error(`the owner ended first (exit ${result.exitCode})`)));
    });
    expect(await accepts(databaseUrl)).toBe(true);
    owner.kill('SIGKILL');
    await owner;
    await vi.waitFor(async () => expect(await accepts(databaseUrl)).toBe(false), { timeout: 30_000, interval: 200 });
  });

  it.runIf(isRoot)(
    'as root, refuses a persistent data directory its postgres user cannot reach, saying what to do',
    async () => {
      const privateDir = await mkdtemp(path.join(os.tmpdir(), 'secgate-private-'));
      try {
        await expect(startEmbeddedDatabase({ dataDir: path.join(privateDir, 'state') })).rejects.toThrow(
          /the "postgres" user PostgreSQL runs as \(it refuses root\) cannot reach .*secgate-private-.*state: a directory above it is private\. Choose a --data-dir it can traverse, or set DATABASE_URL/,
        );
      } finally {
        await rm(privateDir, { recursive: true, force: true });
      }
    },
  );

  it('the runbook stop: SIGTERM to the npx that started the service leaves no process behind', async () => {
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'secgate-npx-stop-'));
    // As root the embedded server runs as the postgres user, which must reach the data directory.
    await chmod(workDir, 0o755);
    const dataDir = path.join(workDir, 'state');
    const { DATABASE_URL: _server, ...environment } = process.env;
    const service = execa(
      'npx',
      ['secgate', 'service', 'start', '--data-dir', dataDir, '--https-port', '0', '--http-port', '0'],
      {
        cwd: path.resolve('.'),
        env: {
          ...environment,
          SECGATE_JWT_SECRET: 'runbook-stop-test-secret-of-enough-length-0123456789',
          // npx links this checkout into its cache (~/.npm/_npx) before it runs it; two suites at once would race
          // on that shared entry (ENOENT on its package.json), so this run gets a cache of its own.
          npm_config_cache: path.join(workDir, 'npm-cache'),
          // …and it would run this package's `prepare` (the build) there: the suite has built it already.
          npm_config_ignore_scripts: 'true',
        },
        extendEnv: false,
        reject: false,
        buffer: false,
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        let output = '';
        service.stderr?.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8');
          if (output.includes('secgate service: listening on')) resolve();
        });
        void service.then(() => reject(new Error(`the service ended before listening: ${output}`)));
      });
      expect((await processesMentioning(dataDir)).length, 'the service and its PostgreSQL run').toBeGreaterThan(1);
      service.kill('SIGTERM');
      await service;
      await vi.waitFor(async () => expect(await processesMentioning(dataDir)).toEqual([]), {
        timeout: 30_000,
        interval: 200,
      });
    } finally {
      service.kill('SIGKILL');
      await rm(workDir, { recursive: true, force: true });
    }
  });
});
