/**
 * A fresh PostgreSQL database per test case, on the one server of the run.
 *
 * The server is the one DATABASE_URL names. In CI that is the machine's own
 * server; on a laptop without it, vitest's globalSetup
 * (test/support/global-setup.ts) starts one embedded PostgreSQL for the whole
 * run and puts its URL into DATABASE_URL before any worker starts. Either way
 * every case gets its own database, created here and dropped by `drop()`, so
 * no case sees rows another one wrote.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface ScratchDatabase {
  /** Connection URL of the new database (as its owning role, when one was asked for). */
  url: string;
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

export async function createScratchDatabase(options: ScratchDatabaseOptions): Promise<ScratchDatabase> {
  const serverUrl = databaseServerUrl();
  // Identifiers are generated here (a fixed prefix and hex), never taken from input, so they are safe to inline.
  const name = `${options.prefix}_${randomBytes(6).toString('hex')}`;
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  if (options.ownRole) {
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
  return {
    url: url.toString(),
    drop: () =>
      asAdmin(serverUrl, [
        `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`,
        ...(options.ownRole ? [`DROP ROLE IF EXISTS ${name}`] : []),
      ]),
  };
}
