/**
 * IP blocking on real PostgreSQL, with distinct client addresses
 * (127.0.0.x, bound client-side): the block appears with the failure that
 * crosses the threshold (more than 10), not one request earlier; a blocked
 * address gets 403 on every path before any auth work; other addresses are
 * unaffected; concurrency still yields exactly one block at the threshold.
 */
import { describe, expect, it } from 'vitest';
import { unblockIp } from '../../src/service/auth/accounts.js';
import { createPool } from '../../src/service/db/pool.js';
import type { ReferenceTarget } from '../support/reference-service.js';
import { failureRows, queryService, type ServiceClient, useReferenceService } from './client.js';

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
  it('blocks on the 11th failure, not the 10th, and then answers 403 on every path', async () => {
    const ip = '127.0.20.1';
    for (let index = 1; index <= 10; index += 1) {
      expect((await badLogin(ip, index)).status).toBe(401);
      expect(await blocksOf(ip), `after failure ${index}`).toEqual([]);
    }
    const crossing = await badLogin(ip, 11);
    expect(crossing.status).toBe(401);
    const blocks = await blocksOf(ip);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({ active: true, reason: expect.stringMatching(/^11 authentication failures/) });

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
    for (let index = 1; index <= 11; index += 1) await badLogin(ip, index);
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

  it('creates exactly one block under 40 concurrent failures, with exactly 11 counted failures before it', async () => {
    const ip = '127.0.22.1';
    const replies = await Promise.all(Array.from({ length: 40 }, (_, index) => badLogin(ip, index)));
    expect(replies.every((reply) => reply.status === 401 || reply.status === 403)).toBe(true);
    const blocks = await blocksOf(ip);
    expect(blocks).toHaveLength(1);
    const [{ before_block } = { before_block: -1 }] = await queryService<{ before_block: number }>(
      target,
      `SELECT count(*)::int AS before_block FROM auth_failure_events
        WHERE ip_address = $1 AND event_type <> 'blocked_ip' AND created_at <= (SELECT blocked_at FROM ip_blocks WHERE ip_address = $1)`,
      [ip],
    );
    expect(before_block).toBe(11);
    const rows = (await failureRows(target)).filter((row) => row.ip_address === ip);
    expect(rows).toHaveLength(40);
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
