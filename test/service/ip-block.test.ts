/**
 * IP blocking on real PostgreSQL, with distinct client addresses
 * (127.0.0.x, bound client-side): 10 failures are evaluated, the attempt
 * after them is refused and writes the block (more than 10), not one request
 * earlier; a blocked address gets 403 on every path before any auth work;
 * other addresses are unaffected; however many logins arrive at once,
 * exactly 10 are evaluated and every other one is refused and audited.
 */
import { describe, expect, it } from 'vitest';
import { unblockIp } from '../../src/service/auth/accounts.js';
import { createPool } from '../../src/service/db/pool.js';
import type { ReferenceTarget } from '../support/reference-service.js';
import { failureRows, queryService, type ServiceClient, serviceClient, useReferenceService } from './client.js';

let target: ReferenceTarget;
let client: ServiceClient;

useReferenceService((service) => {
  target = service.target;
  client = service.client;
});

const blocksOf = (ip: string) =>
  queryService<{ reason: string; active: boolean; blocked_at: Date }>(
    target,
    `SELECT reason, (lifted_at IS NULL AND expires_at > now()) AS active, blocked_at FROM ip_blocks WHERE ip_address = $1`,
    [ip],
  );

const badLogin = (from: string, index: number) =>
  client.call('/api/v1/auth/login', { body: { username: `nobody-${index}`, password: 'guess' }, from });

describe('IP blocking', () => {
  it('evaluates 10 failures, refuses the 11th attempt and blocks with it, then answers 403 on every path', async () => {
    const ip = '127.0.20.1';
    for (let index = 1; index <= 10; index += 1) {
      expect((await badLogin(ip, index)).status).toBe(401);
      expect(await blocksOf(ip), `after failure ${index}`).toEqual([]);
    }
    const crossing = await badLogin(ip, 11);
    expect(crossing.status).toBe(403);
    expect(crossing.json).toEqual({ error: 'ip_blocked', message: 'Requests from this address are blocked' });
    const blocks = await blocksOf(ip);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({
      active: true,
      reason: '10 authentication failures within 900s, then another attempt (threshold 10)',
    });
    expect((await failureRows(target)).filter((row) => row.ip_address === ip).map((row) => row.event_type)).toEqual([
      ...Array<string>(10).fill('unknown_user'),
      'blocked_ip',
    ]);

    const before = (await failureRows(target)).length;
    const account = target.context.auth.probe_account;
    const paths: Array<[string, object]> = [
      ['/health', {}],
      ['/docs', {}],
      ['/api/v1/users/me', {}],
      ['/api/v1/auth/login', { body: { username: account.username, password: account.password } }],
    ];
    for (const [path, options] of paths) {
      const reply = await client.call(path, { ...options, from: ip });
      expect(reply.status, path).toBe(403);
      expect(reply.json).toEqual({ error: 'ip_blocked', message: 'Requests from this address are blocked' });
    }
    const rows = (await failureRows(target)).slice(before);
    expect(rows.map((row) => [row.event_type, row.ip_address, row.path])).toEqual(
      paths.map(([path]) => ['blocked_ip', ip, path]),
    );
    // The correct password from a blocked address did no auth work: the account is untouched.
    const [user] = await queryService<{ failed_login_count: number }>(
      target,
      'SELECT failed_login_count FROM users WHERE username = $1',
      [account.username],
    );
    expect(user?.failed_login_count).toBe(0);
    expect((await client.call('/health', { from: '127.0.20.2' })).status).toBe(200);
  });

  it('lets an unblocked address in again and restarts its count', async () => {
    const ip = '127.0.21.1';
    for (let index = 1; index <= 10; index += 1) expect((await badLogin(ip, index)).status).toBe(401);
    expect((await badLogin(ip, 11)).status).toBe(403);
    expect((await client.call('/health', { from: ip })).status).toBe(403);
    const pool = createPool(target.service.databaseUrl, 1);
    try {
      expect(await unblockIp(pool, ip)).toBe(1);
    } finally {
      await pool.end();
    }
    expect((await client.call('/health', { from: ip })).status).toBe(200);
    expect((await badLogin(ip, 12)).status).toBe(401);
    expect((await blocksOf(ip)).filter((block) => block.active)).toEqual([]);
  });

  it('creates exactly one block under 40 concurrent failures, with exactly 10 counted failures before it', async () => {
    const ip = '127.0.22.1';
    const replies = await Promise.all(Array.from({ length: 40 }, (_, index) => badLogin(ip, index)));
    expect(replies.filter((reply) => reply.status === 401)).toHaveLength(10);
    expect(replies.filter((reply) => reply.status === 403)).toHaveLength(30);
    const blocks = await blocksOf(ip);
    expect(blocks).toHaveLength(1);
    const [{ before_block } = { before_block: -1 }] = await queryService<{ before_block: number }>(
      target,
      `SELECT count(*)::int AS before_block FROM auth_failure_events
        WHERE ip_address = $1 AND event_type <> 'blocked_ip' AND created_at <= (SELECT blocked_at FROM ip_blocks WHERE ip_address = $1)`,
      [ip],
    );
    expect(before_block).toBe(10);
    const rows = (await failureRows(target)).filter((row) => row.ip_address === ip);
    expect(rows).toHaveLength(40);
  });

  it('admits exactly 10 credential checks when 300 logins from one address arrive at once; the rest 403, all audited', async () => {
    const ip = '127.0.0.77';
    // One connection per request, so the 300 are at the service together rather than queued in the client.
    const racing = serviceClient(target, undefined, { connections: 300 });
    try {
      // Open the 300 connections first, so that the logins race each other rather than 300 TLS handshakes;
      // 25 new ones at a time (each wave reuses the connections the last one left idle), because a loaded
      // machine cannot finish 300 handshakes within a client's connect timeout.
      for (let open = 25; open <= 300; open += 25) {
        const warm = await Promise.all(Array.from({ length: open }, () => racing.call('/health', { from: ip })));
        expect(warm.every((reply) => reply.status === 200)).toBe(true);
      }
      const replies = await Promise.all(
        Array.from({ length: 300 }, (_, index) =>
          racing.call('/api/v1/auth/login', { body: { username: `racer-${index}`, password: 'guess' }, from: ip }),
        ),
      );
      const statuses = replies.reduce<Record<number, number>>((counts, reply) => {
        counts[reply.status] = (counts[reply.status] ?? 0) + 1;
        return counts;
      }, {});
      expect(statuses).toEqual({ 401: 10, 403: 290 });
      const rows = (await failureRows(target)).filter((row) => row.ip_address === ip);
      const byType = rows.reduce<Record<string, number>>((counts, row) => {
        counts[row.event_type] = (counts[row.event_type] ?? 0) + 1;
        return counts;
      }, {});
      // Evaluated = a credential verdict was reached (a login-type row); every refusal has its blocked_ip row.
      expect(byType).toEqual({ unknown_user: 10, blocked_ip: 290 });
      expect(await blocksOf(ip)).toHaveLength(1);
    } finally {
      await racing.close();
    }
  });

  it('counts logins whose username PostgreSQL cannot hold like any other failure', async () => {
    const ip = '127.0.24.1';
    const login = (username: string) =>
      client.call('/api/v1/auth/login', { body: { username, password: 'guess' }, from: ip });
    for (let index = 1; index <= 10; index += 1) {
      expect((await login(index % 2 ? `nul\u0000${index}` : `lone\ud800${index}`)).status, `failure ${index}`).toBe(
        401,
      );
    }
    expect((await login('nul\u0000again')).status).toBe(403);
    expect(await blocksOf(ip)).toHaveLength(1);
    const rows = (await failureRows(target)).filter((row) => row.ip_address === ip);
    expect(rows.map((row) => row.event_type)).toEqual([...Array<string>(10).fill('unknown_user'), 'blocked_ip']);
  });

  it('lets 30 concurrent correct logins from one address through: checks in flight are waited for, not refused', async () => {
    const ip = '127.0.25.1';
    const account = target.context.auth.probe_account;
    const replies = await Promise.all(
      Array.from({ length: 30 }, () =>
        client.call('/api/v1/auth/login', {
          body: { username: account.username, password: account.password },
          from: ip,
        }),
      ),
    );
    expect(replies.map((reply) => reply.status)).toEqual(Array<number>(30).fill(200));
    expect((await failureRows(target)).filter((row) => row.ip_address === ip)).toEqual([]);
    expect(await queryService(target, 'SELECT id FROM credential_admissions')).toEqual([]);
  });

  it('gives the admission of a rejected body back: 20 malformed logins do not count toward the block', async () => {
    const ip = '127.0.26.1';
    for (let index = 0; index < 20; index += 1) {
      const reply = await client.call('/api/v1/auth/login', {
        body: { username: 'x', password: 'y', extra: 1 },
        from: ip,
      });
      expect(reply.status).toBe(400);
    }
    expect((await badLogin(ip, 1)).status).toBe(401);
    expect(await blocksOf(ip)).toEqual([]);
    expect(await queryService(target, 'SELECT id FROM credential_admissions')).toEqual([]);
  });

  it('counts an admission never settled (its process died) as a failure once stale', async () => {
    const ip = '127.0.27.1';
    await queryService(
      target,
      `INSERT INTO credential_admissions (ip_address, admitted_at)
       SELECT $1, clock_timestamp() - interval '61 seconds' FROM generate_series(1, 4)`,
      [ip],
    );
    for (let index = 1; index <= 6; index += 1) expect((await badLogin(ip, index)).status).toBe(401);
    expect((await badLogin(ip, 7)).status).toBe(403);
    expect(await blocksOf(ip)).toHaveLength(1);
    await queryService(target, 'DELETE FROM credential_admissions WHERE ip_address = $1', [ip]);
  });

  it('refuses and audits each of 200 concurrent requests from a blocked address, and serves the requests beside them', async () => {
    const blocked = '127.0.28.1';
    const free = '127.0.28.2';
    await queryService(
      target,
      `INSERT INTO ip_blocks (ip_address, reason, expires_at) VALUES ($1, 'test', now() + interval '1 hour')`,
      [blocked],
    );
    const paths = ['/health', '/api/v1/users/me', '/docs', '/api/v1/auth/refresh'];
    const sent = Array.from({ length: 200 }, (_, index) => ({
      from: index % 5 === 4 ? free : blocked,
      path: paths[index % paths.length] ?? '/health',
    }));
    const replies = await Promise.all(sent.map(({ from, path }) => client.call(path, { from })));
    const refused = sent.filter((_, index) => replies[index]?.status === 403);
    expect(refused).toEqual(sent.filter(({ from }) => from === blocked));
    expect(replies.filter((reply) => reply.status === 403).every((reply) => reply.json.error === 'ip_blocked')).toBe(
      true,
    );
    const rows = (await failureRows(target)).filter((row) => row.ip_address === blocked);
    const audited = rows.map((row) => `${row.event_type} ${row.method} ${row.path}`).sort();
    expect(audited).toEqual(refused.map(({ path }) => `blocked_ip GET ${path}`).sort());
  });

  it('records token failures on protected paths without counting them toward a block', async () => {
    const ip = '127.0.23.1';
    for (let index = 0; index < 15; index += 1) {
      expect((await client.call('/api/v1/users/me', { token: 'a.b.c', from: ip })).status).toBe(401);
    }
    expect(await blocksOf(ip)).toEqual([]);
    expect((await failureRows(target)).filter((row) => row.ip_address === ip)).toHaveLength(15);
  });
});
