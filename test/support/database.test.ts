/**
 * The scratch databases every auth and service test stands on: a database a
 * case hands back is given to the next case as good as new — nothing of the
 * tables, schemas, sessions or settings the first case left, and `public` as
 * a database just made has it.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createScratchDatabase } from './database.js';

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
