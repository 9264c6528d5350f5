/**
 * A fresh PostgreSQL database per test case, on the one server of the run.
 *
 * The server is the one DATABASE_URL names. In CI that is the machine's own
 * server; on a laptop without it, vitest's globalSetup
 * (test/support/global-setup.ts) starts one embedded PostgreSQL for the whole
 * run and puts its URL into DATABASE_URL before any worker starts. Either way
 * every case gets a database of its own: new, or one an earlier case of the
 * same worker handed back with `drop()` and that was emptied then (no
 * schema, no session, no setting left), so no case sees rows or tables
 * another one made.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface ScratchDatabase {
  /** Connection URL of the new database (as its owning role, when one was asked for). */
  url: string;
  /** Ends the case's use: the database is emptied and kept for this worker's next case (see `spares`). */
  drop(): Promise<void>;
}

export interface ScratchDatabaseOptions {
  /** Name prefix, so a leftover database says which kind of test made it. */
  prefix: string;
  /**
   * Create a login role with a strong random password that owns the database,
   * so the code under test does not run as the server's superuser.
   */
  ownRole?: boolean;
}

/** The admin URL of the run's PostgreSQL server. */
export function databaseServerUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new Error(
      'DATABASE_URL is not set: run the tests with `npm test` (vitest starts an embedded PostgreSQL when no server is given)',
    );
  }
  return url;
}

async function asAdmin(serverUrl: string, statements: readonly string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    for (const statement of statements) await admin.query(statement);
  } finally {
    await admin.end();
  }
}

/** The variable global-setup.ts sets: every scratch database of this run carries it in its name. */
export const TEST_RUN_VARIABLE = 'SECGATE_TEST_RUN';

/** Names of this run's databases (and roles) start with a prefix, then this run's token, then their own. */
function runToken(): string {
  const token = process.env[TEST_RUN_VARIABLE];
  if (!token || !/^[0-9a-f]{8}$/.test(token))
    throw new Error(`${TEST_RUN_VARIABLE} is not set: run the tests with \`npm test\` (global-setup.ts sets it)`);
  return token;
}

/** LIKE pattern of every database and role this run made, for the teardown in global-setup.ts. */
export function runNamePattern(token: string): string {
  return `secgate\\_%\\_${token}\\_%`;
}

interface SpareDatabase {
  name: string;
  url: string;
}

/**
 * Databases a finished case handed back, emptied, by prefix and ownership:
 * this worker's own (each vitest worker is a process). Creating a database
 * copies template1 and cost the server about 0.1 s of CPU each time, a
 * hundred times a run; emptying one costs a few milliseconds, and the
 * teardown drops them all.
 */
const spares = new Map<string, SpareDatabase[]>();

/**
 * Makes a used database as good as new for the next case: no session left,
 * no schema but an empty `public` as CREATE DATABASE makes it (owned by
 * pg_database_owner, usable by everyone), no setting a case left on the
 * database or its role.
 */
async function emptyDatabase(serverUrl: string, spare: SpareDatabase, ownRole: boolean): Promise<void> {
  const url = new URL(serverUrl);
  url.pathname = `/${spare.name}`;
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [spare.name],
    );
    const { rows } = await admin.query<{ name: string }>(
      `SELECT quote_ident(nspname) AS name FROM pg_namespace
        WHERE nspname NOT IN ('information_schema', 'pg_catalog', 'pg_toast') AND nspname NOT LIKE 'pg\\_temp\\_%'
          AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'`,
    );
    for (const { name } of rows) await admin.query(`DROP SCHEMA ${name} CASCADE`);
    // As template1 holds it: from PostgreSQL 15 owned by pg_database_owner and only usable by others; before,
    // owned by the bootstrap superuser and open to everyone.
    const { rows: version } = await admin.query<{ server_version_num: string }>('SHOW server_version_num');
    if (Number(version[0]?.server_version_num) >= 150000) {
      await admin.query('CREATE SCHEMA public AUTHORIZATION pg_database_owner');
      await admin.query('GRANT USAGE ON SCHEMA public TO PUBLIC');
    } else {
      await admin.query('CREATE SCHEMA public');
      await admin.query('GRANT ALL ON SCHEMA public TO PUBLIC');
    }
    await admin.query(`ALTER DATABASE ${spare.name} RESET ALL`);
    if (ownRole) await admin.query(`ALTER ROLE ${spare.name} RESET ALL`);
  } finally {
    await admin.end();
  }
}

export async function createScratchDatabase(options: ScratchDatabaseOptions): Promise<ScratchDatabase> {
  const serverUrl = databaseServerUrl();
  const kind = `${options.prefix}/${options.ownRole ? 'own-role' : 'admin'}`;
  const ownRole = options.ownRole === true;
  let database = spares.get(kind)?.pop();
  if (!database) {
    // Identifiers are generated here (a fixed prefix and hex), never taken from input, so they are safe to inline.
    const name = `${options.prefix}_${runToken()}_${randomBytes(6).toString('hex')}`;
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    if (ownRole) {
      const password = randomBytes(36).toString('base64url');
      await asAdmin(serverUrl, [
        `CREATE ROLE ${name} LOGIN PASSWORD '${password}'`,
        `CREATE DATABASE ${name} OWNER ${name}`,
      ]);
      url.username = name;
      url.password = password;
    } else {
      await asAdmin(serverUrl, [`CREATE DATABASE ${name}`]);
    }
    database = { name, url: url.toString() };
  }
  const handedOut = database;
  let returned = false;
  return {
    url: handedOut.url,
    drop: async () => {
      if (returned) return;
      returned = true;
      await emptyDatabase(serverUrl, handedOut, ownRole);
      spares.set(kind, [...(spares.get(kind) ?? []), handedOut]);
    },
  };
}

/**
 * Runs hold a session-level advisory lock on their token for as long as they live (global-setup.ts), on one
 * connection of their own: the server releases it when that connection ends, however the run ended. A killed
 * run leaves its databases (its teardown never ran), and a later run can tell them from a live run's by
 * trying the lock. Two keys: a fixed one for secgate's test runs, then the token.
 */
const RUN_LOCK_CLASS = 0x5ec9a7e;

function runLockKey(token: string): number {
  // The token's 32 bits as PostgreSQL's signed int4.
  return Number.parseInt(token, 16) | 0;
}

/** Holds `token`'s run lock until the returned function releases it (it closes the lock's connection). */
export async function holdRunLock(serverUrl: string, token: string): Promise<() => Promise<void>> {
  const holder = new pg.Client({ connectionString: serverUrl });
  await holder.connect();
  // A server restart or a dropped connection mid-run ends the lock, not the run: nothing to report here.
  holder.on('error', () => {});
  try {
    await holder.query('SELECT pg_advisory_lock($1, $2)', [RUN_LOCK_CLASS, runLockKey(token)]);
  } catch (error) {
    await holder.end();
    throw error;
  }
  let released: Promise<void> | undefined;
  return () => {
    released ??= holder.end();
    return released;
  };
}

/**
 * Drops the databases and roles of every earlier run that is gone (killed before its teardown): a token whose
 * run lock can be taken has no live run. A live run's (its lock is held) are left alone. Returns the tokens swept.
 */
export async function sweepAbandonedRuns(serverUrl: string): Promise<string[]> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const swept: string[] = [];
  try {
    const { rows } = await admin.query<{ token: string }>(
      `SELECT DISTINCT substring(name FROM '_([0-9a-f]{8})_[0-9a-f]{12}$') AS token
         FROM (SELECT datname AS name FROM pg_database UNION ALL SELECT rolname FROM pg_roles) AS names
        WHERE name LIKE 'secgate\\_%' AND name ~ '_[0-9a-f]{8}_[0-9a-f]{12}$'`,
    );
    for (const { token } of rows) {
      const { rows: taken } = await admin.query<{ free: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS free', [
        RUN_LOCK_CLASS,
        runLockKey(token),
      ]);
      if (!taken[0]?.free) continue;
      try {
        await dropRunDatabases(serverUrl, token);
        swept.push(token);
      } finally {
        await admin.query('SELECT pg_advisory_unlock($1, $2)', [RUN_LOCK_CLASS, runLockKey(token)]);
      }
    }
  } finally {
    await admin.end();
  }
  return swept;
}

/** Drops every database and role this run made (global-setup.ts, after the last worker). */
export async function dropRunDatabases(serverUrl: string, token: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const pattern = runNamePattern(token);
    const databases = await admin.query<{ name: string }>(
      'SELECT quote_ident(datname) AS name FROM pg_database WHERE datname LIKE $1',
      [pattern],
    );
    for (const { name } of databases.rows) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    const roles = await admin.query<{ name: string }>(
      'SELECT quote_ident(rolname) AS name FROM pg_roles WHERE rolname LIKE $1',
      [pattern],
    );
    for (const { name } of roles.rows) await admin.query(`DROP ROLE IF EXISTS ${name}`);
  } finally {
    await admin.end();
  }
}
