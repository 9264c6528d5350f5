/**
 * Applies pending migrations at start-up, in one transaction, under an
 * advisory lock so that replicas starting together never race.
 */
import { type Migration, migrations } from './migrations.js';
import { inTransaction, type Pool } from './pool.js';

/** Arbitrary but fixed: identifies "secgate schema migration" among advisory locks. */
const MIGRATION_LOCK_KEY = 7_336_912_004;

export async function applyMigrations(pool: Pool, pending: readonly Migration[] = migrations): Promise<string[]> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const applied = new Set(
      (await client.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((row) => row.id),
    );
    const appliedNow: string[] = [];
    for (const migration of pending) {
      if (applied.has(migration.id)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
      appliedNow.push(migration.id);
    }
    return appliedNow;
  });
}
