/**
 * The failure audit: every 401/403 path writes exactly one auth_failure_events
 * row with the right event type, username, IP, method and path; credential
 * rejections all answer the identical 401 body.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { currentCode } from '../../src/service/auth/totp.js';
import { provisionAccount } from '../../src/service/index.js';
import type { ReferenceTarget } from '../support/reference-service.js';
import {
  type FailureRow,
  failureRows,
  loginWithMfa,
  queryService,
  type Reply,
  type ServiceClient,
  useReferenceService,
} from './client.js';

const INVALID = { error: 'invalid_credentials', message: 'Invalid username, password or code' };
const PASSWORD = 'correct horse battery staple';
let target: ReferenceTarget;
let client: ServiceClient;

useReferenceService((service) => {
  target = service.target;
  client = service.client;
});
beforeAll(async () => {
  await provisionAccount(target.service.databaseUrl, { username: 'audit-user', password: PASSWORD, mfa: 'totp' });
  await provisionAccount(target.service.databaseUrl, { username: 'inactive-user', password: PASSWORD, mfa: 'totp' });
  await queryService(target, `UPDATE users SET is_active = false WHERE username = 'inactive-user'`);
  await provisionAccount(target.service.databaseUrl, { username: 'locked-user', password: PASSWORD, mfa: 'totp' });
  await queryService(
    target,
    `UPDATE users SET locked_until = now() + interval '1 hour' WHERE username = 'locked-user'`,
  );
});

/** Runs one rejected request and returns its reply and the rows it added. */
async function rejected(send: () => Promise<Reply>): Promise<{ reply: Reply; rows: FailureRow[] }> {
  const before = (await failureRows(target)).length;
  const reply = await send();
  return { reply, rows: (await failureRows(target)).slice(before) };
}

const login = (username: string, password: string, from = '127.0.30.1') =>
  client.call('/api/v1/auth/login', { body: { username, password }, from });

async function challengeFor(username: string): Promise<string> {
  const reply = await login(username, PASSWORD);
  expect(reply.status).toBe(200);
  return String(reply.json.mfa_challenge_id);
}

describe('failure audit', () => {
  it('gives unknown user, wrong password, locked, inactive and wrong TOTP the identical 401 body, one row each', async () => {
    const totpSecret = (
      await queryService<{ secret: string }>(
        target,
        `SELECT d.secret FROM mfa_devices d JOIN users u ON u.id = d.user_id WHERE u.username = 'audit-user'`,
      )
    )[0]?.secret as string;
    const wrongCode = String((Number(currentCode(totpSecret)) + 500_000) % 1_000_000).padStart(6, '0');
    const cases: Array<[string, () => Promise<Reply>, Partial<FailureRow>]> = [
      ['unknown user', () => login('no-such-user', PASSWORD), { event_type: 'unknown_user', username: 'no-such-user' }],
      ['wrong password', () => login('audit-user', 'wrong'), { event_type: 'bad_password', username: 'audit-user' }],
      ['locked', () => login('locked-user', PASSWORD), { event_type: 'locked_account', username: 'locked-user' }],
      ['inactive', () => login('inactive-user', PASSWORD), { event_type: 'locked_account', username: 'inactive-user' }],
      [
        'wrong TOTP',
        async () =>
          client.call('/api/v1/auth/mfa/verify', {
            body: { mfa_challenge_id: await challengeFor('audit-user'), code: wrongCode },
            from: '127.0.30.1',
          }),
        { event_type: 'bad_totp', username: 'audit-user', path: '/api/v1/auth/mfa/verify' },
      ],
    ];
    const bodies = new Set<string>();
    for (const [name, send, expected] of cases) {
      const { reply, rows } = await rejected(send);
      expect(reply.status, name).toBe(401);
      expect(reply.json, name).toEqual(INVALID);
      bodies.add(reply.text);
      expect(rows, name).toHaveLength(1);
      expect(rows[0], name).toMatchObject({
        ip_address: '127.0.30.1',
        method: 'POST',
        path: '/api/v1/auth/login',
        ...expected,
      });
    }
    expect(bodies.size).toBe(1);
  });

  it('writes one row for each token rejection: missing, malformed, invalid, expired challenge, used challenge, unknown refresh', async () => {
    const expiredChallenge = await challengeFor('audit-user');
    await queryService(
      target,
      `UPDATE mfa_challenges SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`,
    );
    const usedChallenge = await challengeFor('audit-user');
    await client.call('/api/v1/auth/mfa/verify', { body: { mfa_challenge_id: usedChallenge, code: '000000' } });
    const cases: Array<[string, () => Promise<Reply>, number, Partial<FailureRow>]> = [
      [
        'missing token',
        () => client.call('/api/v1/notes'),
        401,
        { event_type: 'invalid_token', detail: 'missing_token', method: 'GET', path: '/api/v1/notes' },
      ],
      [
        'malformed header',
        () => client.call('/api/v1/notes', { headers: { authorization: 'Token abc' } }),
        401,
        { event_type: 'invalid_token', detail: 'malformed_authorization' },
      ],
      [
        'invalid JWT',
        () => client.call('/api/v1/notes', { token: 'eyJhbGciOiJIUzI1NiJ9.e30.x' }),
        401,
        { event_type: 'invalid_token', detail: 'access_token_invalid' },
      ],
      [
        'unknown path under /api',
        () => client.call('/api/v1/admin/export?token=x'),
        401,
        { event_type: 'invalid_token', path: '/api/v1/admin/export' },
      ],
      [
        'expired challenge',
        () => client.call('/api/v1/auth/mfa/verify', { body: { mfa_challenge_id: expiredChallenge, code: '123456' } }),
        401,
        { event_type: 'expired_token', username: 'audit-user' },
      ],
      [
        'used challenge',
        () => client.call('/api/v1/auth/mfa/verify', { body: { mfa_challenge_id: usedChallenge, code: '123456' } }),
        401,
        { event_type: 'invalid_token', detail: 'mfa_challenge_unknown_or_used' },
      ],
      [
        'unknown refresh token',
        () => client.call('/api/v1/auth/refresh', { body: { refresh_token: 'sgr_nope' } }),
        401,
        { event_type: 'invalid_token', detail: 'refresh_unknown' },
      ],
      [
        'no MFA device',
        () => login(target.context.auth.no_mfa_account.username, target.context.auth.no_mfa_account.password),
        403,
        { event_type: 'bad_totp', detail: 'mfa_not_enrolled' },
      ],
    ];
    for (const [name, send, status, expected] of cases) {
      const { reply, rows } = await rejected(send);
      expect(reply.status, name).toBe(status);
      expect(rows, name).toHaveLength(1);
      expect(rows[0], name).toMatchObject(expected);
    }
  });

  it('records a refresh failure without storing the presented token or any password', async () => {
    const tokens = await loginWithMfa(client, target);
    const { rows } = await rejected(() =>
      client.call('/api/v1/auth/refresh', { body: { refresh_token: `${tokens.refresh_token}x` } }),
    );
    expect(rows).toHaveLength(1);
    const stored = JSON.stringify(await queryService(target, 'SELECT * FROM auth_failure_events'));
    expect(stored).not.toContain(tokens.refresh_token);
    expect(stored).not.toContain(PASSWORD);
  });
});
