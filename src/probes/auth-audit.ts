/**
 * Reads what an auth service wrote in its own database: failure events and IP
 * blocks, with table and column names from the checklist's `auth:` mapping.
 * Time windows use the database's clock (`now()`), never the local one, and
 * addresses are compared in one normal form whatever the column type.
 */
import type { AuthConfig } from '../engine/checklist/schema.js';
import { errorMessage } from '../engine/errors.js';
import type { DatabaseProbe, Json, Observation } from '../engine/types.js';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** A safely quoted identifier; `schema.table` is allowed. Throws on anything else. */
export function sqlIdentifier(name: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new Error(`"${name}" is not a plain SQL identifier (expected ${IDENTIFIER} or schema.name)`);
  }
  return parts.map((part) => `"${part}"`).join('.');
}

/** `127.0.0.9/32`, `::ffff:127.0.0.9` and `127.0.0.9` are the same client. */
export function normaliseAddress(value: string | null): string | null {
  if (value === null) return null;
  let address = value.trim();
  if (address.endsWith('/32') || address.endsWith('/128')) address = address.slice(0, address.lastIndexOf('/'));
  if (address.toLowerCase().startsWith('::ffff:') && address.includes('.')) address = address.slice('::ffff:'.length);
  return address;
}

/** The database's current time as text, exact to the microsecond, to start a window. */
export async function databaseNow(db: DatabaseProbe): Promise<string> {
  const rows = await db.query<{ now: string }>('SELECT now()::text AS now');
  const now = rows[0]?.now;
  if (!now) throw new Error('SELECT now() returned no row');
  return now;
}

/** The column names of each audit table: the table's own mapping, else the shared one. */
export interface AuditColumns {
  failure_events: { created_at: string; event_type: string; username: string; ip_address: string };
  ip_blocks: { ip_address: string; blocked_at: string; expires_at: string };
}

export function auditColumns(auth: AuthConfig): AuditColumns {
  const c = auth.columns;
  const f = c.failure_events ?? {};
  const b = c.ip_blocks ?? {};
  return {
    failure_events: {
      created_at: f.created_at ?? c.created_at,
      event_type: f.event_type ?? c.event_type,
      username: f.username ?? c.username,
      ip_address: f.ip_address ?? c.ip_address,
    },
    ip_blocks: {
      ip_address: b.ip_address ?? c.ip_address,
      blocked_at: b.blocked_at ?? c.blocked_at,
      expires_at: b.expires_at ?? c.expires_at,
    },
  };
}

/** One mapped column the database does not have, named by the checklist key that maps it. */
export interface MissingAuditColumn {
  /** `auth.columns.ip_blocks.ip_address` when the table's own key maps it, else the shared key. */
  key: string;
  table: string;
  column: string;
  /** The table itself does not exist (then every column of it is missing). */
  tableMissing: boolean;
}

/** Each audit table as the mapping names it → its columns, or null when the database has no such table. */
export type AuditCatalogue = ReadonlyMap<string, ReadonlySet<string> | null>;

/**
 * Which mapped audit columns (and tables) the database's catalogue lacks, so a
 * wrong mapping is found before any probe runs, not as a query error mid-run.
 * Pure over the catalogue it is given.
 */
export function missingAuditColumns(auth: AuthConfig, catalogue: AuditCatalogue): MissingAuditColumn[] {
  const columns = auditColumns(auth);
  const missing: MissingAuditColumn[] = [];
  for (const table of ['failure_events', 'ip_blocks'] as const) {
    const tableName = auth.tables[table];
    const present = catalogue.get(tableName);
    const own: Record<string, string | undefined> = auth.columns[table] ?? {};
    for (const [key, column] of Object.entries(columns[table])) {
      if (present?.has(column)) continue;
      const mappedBy = own[key] !== undefined ? `auth.columns.${table}.${key}` : `auth.columns.${key}`;
      missing.push({ key: mappedBy, table: tableName, column, tableMissing: !present });
    }
  }
  return missing;
}

/** The columns of the audit tables, resolved as the service's queries would (search_path, schema.name). */
export async function readAuditCatalogue(db: DatabaseProbe, auth: AuthConfig): Promise<AuditCatalogue> {
  const catalogue = new Map<string, ReadonlySet<string> | null>();
  for (const table of new Set([auth.tables.failure_events, auth.tables.ip_blocks])) {
    // The identifier check runs first: a name that is no plain identifier is never sent.
    sqlIdentifier(table);
    const rows = await db.query<{ exists: boolean; column: string | null }>(
      `SELECT to_regclass($1) IS NOT NULL AS exists, a.attname::text AS column
         FROM (SELECT 1) one
         LEFT JOIN pg_attribute a ON a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
      [table],
    );
    catalogue.set(
      table,
      rows[0]?.exists ? new Set(rows.flatMap((row) => (row.column === null ? [] : [row.column]))) : null,
    );
  }
  return catalogue;
}

export interface FailureEventRow {
  createdAt: string;
  eventType: string;
  username: string | null;
  ip: string | null;
}

const ROW_LIMIT = 5_000;

/** Every failure event written since `since` (database time), oldest first. */
export async function failureEventsSince(
  db: DatabaseProbe,
  auth: AuthConfig,
  since: string,
): Promise<FailureEventRow[]> {
  const c = auditColumns(auth).failure_events;
  const rows = await db.query<{ created_at: string; event_type: string; username: string | null; ip: string | null }>(
    `SELECT ${sqlIdentifier(c.created_at)}::text AS created_at, ${sqlIdentifier(c.event_type)}::text AS event_type,
            ${sqlIdentifier(c.username)}::text AS username, ${sqlIdentifier(c.ip_address)}::text AS ip
       FROM ${sqlIdentifier(auth.tables.failure_events)}
      WHERE ${sqlIdentifier(c.created_at)} >= $1::timestamptz
      ORDER BY ${sqlIdentifier(c.created_at)} LIMIT ${ROW_LIMIT}`,
    [since],
  );
  return rows.map((row) => ({
    createdAt: row.created_at,
    eventType: row.event_type,
    username: row.username,
    ip: normaliseAddress(row.ip),
  }));
}

/**
 * How many failure rows one login attempt may have written: its username,
 * from its address (when it bound one), since the database's time before it
 * was sent. Whether a login whose connection closed without an answer was
 * processed at all.
 */
export async function failureRowsOfAttempt(
  db: DatabaseProbe,
  auth: AuthConfig,
  attempt: { username: string; ip: string | undefined; since: string },
): Promise<number> {
  const c = auditColumns(auth).failure_events;
  const rows = await db.query<{ count: string }>(
    `SELECT count(*)::text AS count FROM ${sqlIdentifier(auth.tables.failure_events)}
      WHERE ${sqlIdentifier(c.username)} = $1
        AND ($2::text IS NULL OR ${sqlIdentifier(c.ip_address)}::text IN ($2, $2 || '/32'))
        AND ${sqlIdentifier(c.created_at)} >= $3::timestamptz`,
    [attempt.username, attempt.ip ?? null, attempt.since],
  );
  return Number(rows[0]?.count ?? 0);
}

export interface IpBlockRow {
  ip: string | null;
  blockedAt: string;
  expiresAt: string | null;
}

/** Block rows with the mapping's column names; `where` and `order` are built here, never from input. */
async function ipBlockRows(
  db: DatabaseProbe,
  auth: AuthConfig,
  clause: { where: string; order: 'ASC' | 'DESC' },
  params: unknown[],
): Promise<IpBlockRow[]> {
  const c = auditColumns(auth).ip_blocks;
  const blockedAt = sqlIdentifier(c.blocked_at);
  const rows = await db.query<{ ip: string | null; blocked_at: string; expires_at: string | null }>(
    `SELECT ${sqlIdentifier(c.ip_address)}::text AS ip, ${blockedAt}::text AS blocked_at,
            ${sqlIdentifier(c.expires_at)}::text AS expires_at
       FROM ${sqlIdentifier(auth.tables.ip_blocks)}
      ${clause.where.replaceAll('{blocked_at}', blockedAt)}
      ORDER BY ${blockedAt} ${clause.order} LIMIT ${ROW_LIMIT}`,
    params,
  );
  return rows.map((row) => ({ ip: normaliseAddress(row.ip), blockedAt: row.blocked_at, expiresAt: row.expires_at }));
}

/** Blocks written since `since` (database time), oldest first. */
export function ipBlocksSince(db: DatabaseProbe, auth: AuthConfig, since: string): Promise<IpBlockRow[]> {
  return ipBlockRows(db, auth, { where: 'WHERE {blocked_at} >= $1::timestamptz', order: 'ASC' }, [since]);
}

/** The newest block row for one address (compared in normal form, whatever the column type), if any. */
export async function latestIpBlock(
  db: DatabaseProbe,
  auth: AuthConfig,
  address: string,
): Promise<IpBlockRow | undefined> {
  const rows = await ipBlockRows(db, auth, { where: '', order: 'DESC' }, []);
  return rows.find((row) => row.ip === address);
}

export function eventRowJson(row: FailureEventRow): Json {
  return { created_at: row.createdAt, event_type: row.eventType, username: row.username, ip_address: row.ip };
}

/**
 * Runs one configured cleanup statement (`$1` = the username or address) and
 * says in an observation whether it ran, so the evidence shows what was undone.
 */
export async function runCleanup(
  db: DatabaseProbe,
  what: 'unlock_account_sql' | 'unblock_ip_sql',
  sql: string | undefined,
  value: string,
): Promise<Observation> {
  const probe = `cleanup ${what} for ${value}`;
  if (!sql) {
    return {
      probe,
      expected: `auth.cleanup.${what}`,
      actual: 'not configured',
      note: `nothing was undone: ${value} stays ${what === 'unlock_account_sql' ? 'locked' : 'blocked'} until it expires`,
    };
  }
  try {
    await db.query(sql, [value]);
    return { probe, actual: 'ran', note: 'the effect of this check was undone' };
  } catch (error) {
    return {
      probe,
      actual: `failed: ${errorMessage(error)}`,
      note: `cleanup failed: ${value} may stay ${what === 'unlock_account_sql' ? 'locked' : 'blocked'}`,
    };
  }
}
