/**
 * Account lockout on real PostgreSQL: 50 concurrent wrong passwords lock the
 * account exactly as 50 sequential ones do, the correct password during the
 * lock gets the same 401, and the lock lifts when it expires.
 * Each attempt comes from its own loopback address, so the IP block (a
 * separate control) never interferes.
 */
import { describe, expect, it } from 'vitest';
import { provisionAccount } from '../../src/service/index.js';
import type { ReferenceTarget } from '../support/reference-service.js';
import { failureRows, loginWithMfa, queryService, type ServiceClient, useReferenceService } from './client.js';

const INVALID = { error: 'invalid_credentials', message: 'Invalid username, password or code' };
let target: ReferenceTarget;
let client: ServiceClient;

useReferenceService((service) => {
  target = service.target;
  client = service.client;
});

async function eventsFor(username: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const row of await failureRows(target)) {
    if (row.username === username) counts[row.event_type] = (counts[row.event_type] ?? 0) + 1;
  }
  return counts;
}

async function lockState(username: string) {
  const [row] = await queryService<{ failed_login_count: number; locked: boolean }>(
    target,
    'SELECT failed_login_count, locked_until > now() AS locked FROM users WHERE username = $1',
    [username],
  );
  return row;
}

const attempt = (username: string, index: number, password = 'wrong-password') =>
  client.call('/api/v1/auth/login', {
    body: { username, password },
    from: `127.0.${10 + Math.floor(index / 200)}.${(index % 200) + 1}`,
  });

describe('account lockout', () => {
  it('locks after exactly 5 of 50 concurrent wrong passwords, the same as 50 sequential ones', async () => {
    await provisionAccount(target.service.databaseUrl, {
      username: 'concurrent',
      password: 'correct horse battery staple',
      mfa: 'totp',
    });
    await provisionAccount(target.service.databaseUrl, {
      username: 'sequential',
      password: 'correct horse battery staple',
      mfa: 'totp',
    });

    const concurrent = await Promise.all(Array.from({ length: 50 }, (_, index) => attempt('concurrent', index)));
    const sequential = [];
    for (let index = 0; index < 50; index += 1) sequential.push(await attempt('sequential', 50 + index));

    for (const replies of [concurrent, sequential]) {
      expect(replies.map((reply) => reply.status)).toEqual(Array(50).fill(401));
      for (const reply of replies) expect(reply.json).toEqual(INVALID);
    }
    expect(await eventsFor('concurrent')).toEqual({ bad_password: 5, locked_account: 45 });
    expect(await eventsFor('sequential')).toEqual({ bad_password: 5, locked_account: 45 });
    expect(await lockState('concurrent')).toEqual({ failed_login_count: 5, locked: true });
    expect(await lockState('sequential')).toEqual({ failed_login_count: 5, locked: true });
  });

  it('answers the correct password during the lock with the same 401, then accepts it once the lock expires', async () => {
    const password = 'correct horse battery staple';
    await provisionAccount(target.service.databaseUrl, { username: 'locked-user', password, mfa: 'totp' });
    for (let index = 0; index < 5; index += 1) await attempt('locked-user', 200 + index);
    const during = await attempt('locked-user', 210, password);
    expect(during.status).toBe(401);
    expect(during.json).toEqual(INVALID);
    const rows = await failureRows(target);
    expect(rows.at(-1)).toMatchObject({
      event_type: 'locked_account',
      username: 'locked-user',
      detail: 'correct_password_while_locked',
    });

    await queryService(
      target,
      `UPDATE users SET locked_until = now() - interval '1 second' WHERE username = 'locked-user'`,
    );
    const after = await attempt('locked-user', 211, password);
    expect(after.status).toBe(200);
    expect(after.json.mfa_required).toBe(true);
  });

  it('counts consecutive failures only: a completed login resets the counter', async () => {
    const account = target.context.auth.probe_account;
    for (let index = 0; index < 4; index += 1) await attempt(account.username, 300 + index);
    expect((await lockState(account.username))?.failed_login_count).toBe(4);
    await loginWithMfa(client, target, '127.0.3.1');
    expect(await lockState(account.username)).toEqual({ failed_login_count: 0, locked: null });
    for (let index = 0; index < 4; index += 1) await attempt(account.username, 310 + index);
    expect(await lockState(account.username)).toEqual({ failed_login_count: 4, locked: null });
  });

  it('counts wrong TOTP codes toward the lockout, so the second factor cannot be brute-forced', async () => {
    const password = 'correct horse battery staple';
    await provisionAccount(target.service.databaseUrl, { username: 'totp-guesser', password, mfa: 'totp' });
    for (let index = 0; index < 5; index += 1) {
      const login = await attempt('totp-guesser', 400 + index, password);
      expect(login.status).toBe(200);
      const verify = await client.call('/api/v1/auth/mfa/verify', {
        body: { mfa_challenge_id: login.json.mfa_challenge_id, code: '000000' },
        from: '127.0.4.1',
      });
      expect(verify.json).toEqual(INVALID);
    }
    expect(await eventsFor('totp-guesser')).toEqual({ bad_totp: 5 });
    expect((await lockState('totp-guesser'))?.locked).toBe(true);
    expect((await attempt('totp-guesser', 410, password)).json).toEqual(INVALID);
  });
});
