/**
 * Read access to the service's PostgreSQL, for checks that verify the rows the
 * service writes. One small pool per run; every query has a statement timeout.
 */
import pg from 'pg';
import type { DatabaseProbe } from '../engine/types.js';

export interface PostgresProbe extends DatabaseProbe {
  close(): Promise<void>;
}

export function createPostgresProbe(connectionString: string, timeoutMs: number): PostgresProbe {
  const pool = new pg.Pool({
    connectionString,
    max: 4,
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs,
    idleTimeoutMillis: 1_000,
    application_name: 'secgate',
  });
  // An idle client that errors (server restart) must not crash the process.
  pool.on('error', () => {});
  return {
    async query<Row extends Record<string, unknown>>(sql: string, params: unknown[] = []) {
      const result = await pool.query(sql, params);
      return result.rows as Row[];
    },
    async close() {
      await pool.end();
    },
  };
}
