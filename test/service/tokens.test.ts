/**
 * Access-token rejection: expired, tampered, alg none, wrong key, algorithm
 * confusion, every missing claim, wrong issuer or audience. Forged tokens are
 * signed with the service's real key, so each 401 is due to the one mutation;
 * an unmutated re-signed copy is accepted (the control case).
 */
import { createSecretKey } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveSigningKeys, REQUIRED_CLAIMS, type SigningKeys } from '../../src/service/auth/tokens.js';
import { type ReferenceTarget, startReferenceTarget } from '../support/reference-service.js';
import {
  failureRows,
  loginWithMfa,
  queryService,
  type ServiceClient,
  serviceClient,
  useReferenceService,
} from './client.js';

let target: ReferenceTarget;
let client: ServiceClient;
let keys: SigningKeys;
let claims: Record<string, unknown>;
let realToken: string;

useReferenceService((service) => {
  target = service.target;
  client = service.client;
});
beforeAll(async () => {
  keys = deriveSigningKeys(target.jwtSecret);
  realToken = (await loginWithMfa(client, target)).access_token;
  claims = JSON.parse(Buffer.from(realToken.split('.')[1] ?? '', 'base64url').toString());
});

function sign(
  payload: Record<string, unknown>,
  key: Parameters<SignJWT['sign']>[0] = keys.privateKey,
  alg = 'EdDSA',
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'at+jwt' }).sign(key);
}

async function statusWith(token: string): Promise<number> {
  return (await client.call('/api/v1/users/me', { token })).status;
}

describe('access tokens', () => {
  it('accepts the real token and an unmutated re-signed copy (the control)', async () => {
    expect(await statusWith(realToken)).toBe(200);
    expect(await statusWith(await sign({ ...claims, jti: 'control' }))).toBe(200);
  });

  it('rejects an expired token as expired_token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const before = (await failureRows(target)).length;
    expect(await statusWith(await sign({ ...claims, iat: now - 1000, exp: now - 1 }))).toBe(401);
    const rows = await failureRows(target);
    expect(rows.length).toBe(before + 1);
    expect(rows.at(-1)).toMatchObject({ event_type: 'expired_token', detail: 'access_token_expired' });
  });

  it('rejects a tampered payload, alg none, a wrong key and HS256 keyed with the public key', async () => {
    const [header, , signature] = realToken.split('.');
    const elevated = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    const unsignedHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const otherKeys = deriveSigningKeys('an entirely different signing secret of enough length');
    const publicKeyBytes = keys.publicKey.export({ format: 'der', type: 'spki' });
    const forged = {
      tampered: `${header}.${elevated}.${signature}`,
      'alg none': `${unsignedHeader}.${payload}.`,
      'wrong key': await sign(claims, otherKeys.privateKey),
      'HS256 with the public key': await sign(claims, createSecretKey(publicKeyBytes) as never, 'HS256'),
    };
    const before = (await failureRows(target)).length;
    for (const [name, token] of Object.entries(forged)) expect(await statusWith(token), name).toBe(401);
    const rows = (await failureRows(target)).slice(before);
    expect(rows.map((row) => row.event_type)).toEqual(Object.keys(forged).map(() => 'invalid_token'));
  });

  it('rejects a correctly signed token missing any required claim', async () => {
    for (const claim of REQUIRED_CLAIMS) {
      const { [claim]: _dropped, ...rest } = claims;
      expect(await statusWith(await sign(rest)), `without ${claim}`).toBe(401);
    }
  });

  it('rejects a foreign issuer or audience and a session that is not the subject’s', async () => {
    expect(await statusWith(await sign({ ...claims, iss: 'someone-else' }))).toBe(401);
    expect(await statusWith(await sign({ ...claims, aud: 'another-api' }))).toBe(401);
    expect(await statusWith(await sign({ ...claims, sub: '999999' }))).toBe(401);
    expect(await statusWith(await sign({ ...claims, session_id: '00000000-0000-4000-8000-000000000000' }))).toBe(401);
  });

  it('takes tokens from the Authorization header only, never from the query string or a cookie', async () => {
    expect((await client.call(`/api/v1/users/me?access_token=${realToken}`)).status).toBe(401);
    expect((await client.call('/api/v1/users/me', { headers: { cookie: `access_token=${realToken}` } })).status).toBe(
      401,
    );
    expect((await client.call('/api/v1/users/me', { headers: { authorization: `bearer ${realToken}` } })).status).toBe(
      200,
    );
    expect((await client.call('/api/v1/users/me', { headers: { authorization: `Basic ${realToken}` } })).status).toBe(
      401,
    );
  });

  it('hands checks the signing key (PEM) and cleanup SQL through the target context', async () => {
    const pem = target.context.env.SECGATE_TEST_SIGNING_KEY as string;
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const key = await importPKCS8(pem, 'EdDSA');
    expect(await statusWith(await sign({ ...claims, jti: 'from-pem' }, key))).toBe(200);

    const account = target.context.auth.probe_account.username;
    await queryService(target, `UPDATE users SET locked_until = now() + interval '1 hour' WHERE username = $1`, [
      account,
    ]);
    await queryService(target, target.context.auth.cleanup.unlock_account_sql, [account]);
    await queryService(
      target,
      `INSERT INTO ip_blocks (ip_address, reason, expires_at) VALUES ('127.0.60.1', 'test', now() + interval '1 hour')`,
    );
    expect((await client.call('/health', { from: '127.0.60.1' })).status).toBe(403);
    await queryService(target, target.context.auth.cleanup.unblock_ip_sql, ['127.0.60.1']);
    expect((await client.call('/health', { from: '127.0.60.1' })).status).toBe(200);
    await expect(loginWithMfa(client, target)).resolves.toHaveProperty('access_token');
  });

  it('expires a real token after its TTL', async () => {
    const shortLived = await startReferenceTarget({ accessTokenTtlSeconds: 1 });
    const shortClient = serviceClient(shortLived);
    try {
      const { access_token } = await loginWithMfa(shortClient, shortLived);
      expect((await shortClient.call('/api/v1/users/me', { token: access_token })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      expect((await shortClient.call('/api/v1/users/me', { token: access_token })).status).toBe(401);
      expect((await failureRows(shortLived)).at(-1)?.event_type).toBe('expired_token');
    } finally {
      await shortClient.close();
      await shortLived.close();
    }
  });
});
