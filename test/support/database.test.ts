/**
 * The scratch databases every auth and service test stands on: a database a
 * case hands back is given to the next case as good as new — nothing of the
 * tables, schemas, sessions or settings the first case left, and `public` as
 * a database just made has it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  createScratchDatabase,
  databaseServerUrl,
  holdRunLock,
  sweepAbandonedRuns,
  TEST_RUN_VARIABLE,
} from './database.js';

async function query<Row extends Record<string, unknown>>(url: string, text: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(text)).rows;
  } finally {
    await client.end();
  }
}

/** What a case could leave behind, as the database's own role sees it. */
async function shape(url: string) {
  const [schemas, relations, settings, publicSchema] = await Promise.all([
    query<{ nspname: string }>(
      url,
      "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' ORDER BY nspname",
    ),
    query<{ relname: string }>(
      url,
      "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'",
    ),
    query<{ setconfig: string[] }>(
      url,
      'SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) OR setrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)',
    ),
    query<{ owner: string; acl: string }>(
      url,
      "SELECT pg_get_userbyid(nspowner) AS owner, regexp_replace(nspacl::text, 'secgate_[a-z_0-9]+', '<owner>', 'g') AS acl FROM pg_namespace WHERE nspname = 'public'",
    ),
  ]);
  return { schemas, relations, settings, publicSchema };
}

describe('scratch databases', () => {
  it('hands a returned database to the next case emptied: as a new one is, whatever the first case left', async () => {
    const pristine = await createScratchDatabase({ prefix: 'secgate_dbfresh', ownRole: true });
    const first = await createScratchDatabase({ prefix: 'secgate_dbreuse', ownRole: true });
    let second: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
    try {
      const untouched = await shape(pristine.url);
      expect(untouched.relations).toEqual([]);
      // What a case may leave: tables, a schema of its own, settings on its role and database, an open session.
      const lingering = new pg.Client({ connectionString: first.url });
      await lingering.connect();
      lingering.on('error', () => {});
      await query(
        first.url,
        `CREATE TABLE leftover (id int); CREATE SCHEMA extra; CREATE TABLE extra.more (id int);
         ALTER ROLE CURRENT_USER SET statement_timeout = '1s'; ALTER DATABASE ${new URL(first.url).pathname.slice(1)} SET work_mem = '8MB'`,
      );
      expect((await shape(first.url)).relations.length).toBeGreaterThan(0);
      await first.drop();

      second = await createScratchDatabase({ prefix: 'secgate_dbreuse', ownRole: true });
      // The same database, given again (this worker's spare), not a new one.
      expect(second.url).toBe(first.url);
      expect(await shape(second.url)).toEqual(untouched);
      await lingering.end().catch(() => {});
    } finally {
      await second?.drop();
      await pristine.drop();
    }
  });
});

describe('runs killed before their teardown', () => {
  /** A database (and role) named as a run with `token` names them. */
  async function leftover(serverUrl: string, token: string): Promise<string> {
    const name = `secgate_sweep_${token}_${randomBytes(6).toString('hex')}`;
    await query(serverUrl, `CREATE ROLE ${name}`);
    await query(serverUrl, `CREATE DATABASE ${name} OWNER ${name}`);
    return name;
  }

  async function exists(serverUrl: string, name: string): Promise<{ database: boolean; role: boolean }> {
    const [databases, roles] = await Promise.all([
      query<{ n: string }>(serverUrl, `SELECT count(*) AS n FROM pg_database WHERE datname = '${name}'`),
      query<{ n: string }>(serverUrl, `SELECT count(*) AS n FROM pg_roles WHERE rolname = '${name}'`),
    ]);
    return { database: databases[0]?.n === '1', role: roles[0]?.n === '1' };
  }

  it("are swept by a later run; a live run's databases (its lock held), this run's among them, are not", async () => {
    const serverUrl = databaseServerUrl();
    const deadToken = randomBytes(4).toString('hex');
    const liveToken = randomBytes(4).toString('hex');
    const releaseLive = await holdRunLock(serverUrl, liveToken);
    const ours = await createScratchDatabase({ prefix: 'secgate_dbreuse' });
    try {
      const dead = await leftover(serverUrl, deadToken);
      const live = await leftover(serverUrl, liveToken);
      const swept = await sweepAbandonedRuns(serverUrl);
      expect(swept).toContain(deadToken);
      expect(swept).not.toContain(liveToken);
      expect(swept).not.toContain(process.env[TEST_RUN_VARIABLE]);
      expect(await exists(serverUrl, dead)).toEqual({ database: false, role: false });
      expect(await exists(serverUrl, live)).toEqual({ database: true, role: true });
      expect(await exists(serverUrl, new URL(ours.url).pathname.slice(1))).toMatchObject({ database: true });
      // Once the live run is gone (its lock's connection closed), the next sweep takes its databases too.
      await releaseLive();
      expect(await sweepAbandonedRuns(serverUrl)).toContain(liveToken);
      expect(await exists(serverUrl, live)).toEqual({ database: false, role: false });
    } finally {
      await releaseLive();
      await ours.drop();
    }
  });
});
