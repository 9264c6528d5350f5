/**
 * `rejectTotpReuse`: one TOTP code, one success — also when every use of the
 * code arrives at once (real PostgreSQL, real concurrency).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { currentCode } from '../../src/service/auth/totp.js';
import { provisionAccount } from '../../src/service/index.js';
import type { ReferenceTarget } from '../support/reference-service.js';
import { failureRows, queryService, type ServiceClient, serviceClient, useReferenceService } from './client.js';

const PASSWORD = 'correct horse battery staple';
let target: ReferenceTarget;
let client: ServiceClient;

// Lockout and IP block out of the way: the outcome counted here is the reuse rule alone.
useReferenceService(
  (service) => {
    target = service.target;
    client = service.client;
  },
  { rejectTotpReuse: true, lockoutThreshold: 1_000_000, ipBlockThreshold: 1_000_000 },
);

let secrets: Record<string, string> = {};
beforeAll(async () => {
  for (const username of ['racer', 'sequential']) {
    const { totpSecret } = await provisionAccount(target.service.databaseUrl, {
      username,
      password: PASSWORD,
      mfa: 'totp',
    });
    if (!totpSecret) throw new Error(`no TOTP secret for ${username}`);
    secrets = { ...secrets, [username]: totpSecret };
  }
});

async function challenge(username: string, through: ServiceClient = client): Promise<string> {
  const reply = await through.call('/api/v1/auth/login', { body: { username, password: PASSWORD } });
  expect(reply.status).toBe(200);
  return String(reply.json.mfa_challenge_id);
}

const sessionsOf = async (username: string) =>
  (
    await queryService<{ count: number }>(
      target,
      'SELECT count(*)::int AS count FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE u.username = $1',
      [username],
    )
  )[0]?.count;

describe('--reject-totp-reuse', () => {
  it('gives 20 concurrent uses of one code exactly one session', async () => {
    const racing = serviceClient(target, undefined, { connections: 20 });
    try {
      const challenges = await Promise.all(Array.from({ length: 20 }, () => challenge('racer', racing)));
      const code = currentCode(secrets.racer ?? '');
      const replies = await Promise.all(
        challenges.map((id) => racing.call('/api/v1/auth/mfa/verify', { body: { mfa_challenge_id: id, code } })),
      );
      expect(replies.map((reply) => reply.status).sort()).toEqual([200, ...Array<number>(19).fill(401)]);
      expect(await sessionsOf('racer')).toBe(1);
      const refused = (await failureRows(target)).filter((row) => row.username === 'racer');
      expect(refused.map((row) => [row.event_type, row.detail])).toEqual(
        Array.from({ length: 19 }, () => ['bad_totp', 'totp_code_reused']),
      );
    } finally {
      await racing.close();
    }
  });

  it('refuses a code already used, one request after the other', async () => {
    const code = currentCode(secrets.sequential ?? '');
    const first = await client.call('/api/v1/auth/mfa/verify', {
      body: { mfa_challenge_id: await challenge('sequential'), code },
    });
    expect(first.status).toBe(200);
    const again = await client.call('/api/v1/auth/mfa/verify', {
      body: { mfa_challenge_id: await challenge('sequential'), code },
    });
    expect(again.status).toBe(401);
    expect(again.json).toEqual({ error: 'invalid_credentials', message: 'Invalid username, password or code' });
    expect(await sessionsOf('sequential')).toBe(1);
  });
});
