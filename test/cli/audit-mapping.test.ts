/**
 * The audit-table mapping is checked against the database's catalogue before
 * anything is probed: a column the checklist maps but a table lacks is exit 2
 * naming the key, not an `error` in every auth check. The target here does not
 * even listen: the run must stop before any probe.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COOKIE_SCHEMA_SQL } from '../../fixtures/auth/cookie-server.js';
import type { CliIo } from '../../src/cli/io.js';
import { runVerify } from '../../src/cli/verify.js';
import { authSchema } from '../../src/engine/checklist/schema.js';
import { missingAuditColumns } from '../../src/probes/auth-audit.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/database.js';

const sink = () =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });

const COOKIE_TABLES = `  tables: { failure_events: axes_accessfailure, ip_blocks: blocked_addresses }\n`;

async function verifyWith(databaseUrl: string, auth: string) {
  const directory = await mkdtemp(path.join(tmpdir(), 'secgate-audit-mapping-'));
  await writeFile(
    path.join(directory, 'checklist.yaml'),
    `version: 1\ntarget:\n  url: https://127.0.0.1:1\n  timeout_ms: 1000\ndatabase: { url: "\${AUDIT_URL}" }\nauth:\n  probe_account: { username: p, password: "\${P}" }\n${auth}checks:\n  - check: auth.lockout\n`,
  );
  const io: CliIo = {
    stdout: sink(),
    stderr: sink(),
    env: { AUDIT_URL: databaseUrl, P: 'probe-password-1234' },
    cwd: directory,
  };
  return runVerify({ checklist: 'checklist.yaml' }, io);
}

describe('auth audit mapping against the catalogue', () => {
  let database: ScratchDatabase;
  beforeAll(async () => {
    database = await createScratchDatabase({ prefix: 'secgate_mapping' });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query(COOKIE_SCHEMA_SQL);
    await client.end();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('one shared ip_address column cannot map remote_addr in one table and addr in the other: exit 2 naming it', async () => {
    await expect(
      verifyWith(
        database.url,
        `${COOKIE_TABLES}  columns: { created_at: attempt_time, event_type: kind, ip_address: remote_addr, blocked_at: since, expires_at: until }\n`,
      ),
    ).rejects.toThrow(
      /the auth mapping does not match the database: auth\.columns\.ip_address: table "blocked_addresses" has no column "remote_addr"; nothing was probed/,
    );
  });

  it('a misspelt per-table column is named by its own key', async () => {
    await expect(
      verifyWith(
        database.url,
        `${COOKIE_TABLES}  columns:\n    failure_events: { created_at: attempt_time, event_type: kinds, ip_address: remote_addr }\n    ip_blocks: { ip_address: addr, blocked_at: since, expires_at: until }\n`,
      ),
    ).rejects.toThrow(/auth\.columns\.failure_events\.event_type: table "axes_accessfailure" has no column "kinds"/);
  });

  it('a table that does not exist is named once', async () => {
    await expect(verifyWith(database.url, '')).rejects.toThrow(
      /the database has no table "auth_failure_events" \(auth\.tables\); the database has no table "ip_blocks"/,
    );
  });

  it('per-table columns that exist pass the catalogue, and the run goes on to probe', async () => {
    const outcome = await verifyWith(
      database.url,
      `${COOKIE_TABLES}  columns:\n    failure_events: { created_at: attempt_time, event_type: kind, ip_address: remote_addr }\n    ip_blocks: { ip_address: addr, blocked_at: since, expires_at: until }\n`,
    );
    // The target does not listen: the lockout check could not observe anything.
    expect(outcome.exitCode).toBe(3);
  });
});

describe('missingAuditColumns (pure)', () => {
  const auth = authSchema.parse({
    tables: { failure_events: 'f', ip_blocks: 'b' },
    columns: { ip_blocks: { ip_address: 'addr' } },
  });
  const catalogue = (f: string[] | null, b: string[] | null) =>
    new Map([
      ['f', f && new Set(f)],
      ['b', b && new Set(b)],
    ]);
  it.each([
    [['created_at', 'event_type', 'username', 'ip_address'], ['addr', 'blocked_at', 'expires_at'], []],
    [
      ['created_at', 'event_type', 'username', 'ip_address'],
      ['ip_address', 'blocked_at', 'expires_at'],
      ['auth.columns.ip_blocks.ip_address'],
    ],
    [['created_at', 'event_type', 'ip_address'], ['addr', 'blocked_at', 'expires_at'], ['auth.columns.username']],
    [null, ['addr', 'blocked_at', 'expires_at'], Array(4).fill('table f')],
  ])('%j / %j', (f, b, expected) => {
    const missing = missingAuditColumns(auth, catalogue(f, b)).map((entry) =>
      entry.tableMissing ? `table ${entry.table}` : entry.key,
    );
    expect(missing).toEqual(expected);
  });
});
