/** Login, MFA, tokens, refresh rotation and logout against the running service on real PostgreSQL. */
import { describe, expect, it } from 'vitest';
import { currentCode } from '../../src/service/auth/totp.js';
import type { ReferenceTarget } from '../support/reference-service.js';
import { failureRows, loginWithMfa, type ServiceClient, useReferenceService } from './client.js';

let target: ReferenceTarget;
let client: ServiceClient;

useReferenceService((service) => {
  target = service.target;
  client = service.client;
});

describe('login with MFA', () => {
  it('answers a password login with an MFA challenge, never a token', async () => {
    const account = target.context.auth.probe_account;
    const reply = await client.call('/api/v1/auth/login', {
      body: { username: account.username, password: account.password },
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      mfa_required: true,
      mfa_challenge_id: expect.stringMatching(/^sgc_/),
      expires_in: 300,
    });
    expect(reply.text).not.toMatch(/access_token/);
  });

  it('issues an EdDSA token pair with every required claim after the TOTP code', async () => {
    const tokens = await loginWithMfa(client, target);
    const [header, payload] = tokens.access_token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    for (const claim of ['sub', 'role', 'session_id', 'iss', 'aud', 'iat', 'exp', 'jti'])
      expect(payload).toHaveProperty(claim);
    expect(payload.exp - payload.iat).toBe(15 * 60);
    const me = await client.call('/api/v1/users/me', { token: tokens.access_token });
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ username: 'secgate-probe', role: 'user', mfa_enabled: true });
  });

  it('refuses the MFA challenge as a bearer token and consumes it on first use', async () => {
    const account = target.context.auth.probe_account;
    const login = await client.call('/api/v1/auth/login', {
      body: { username: account.username, password: account.password },
    });
    const challenge = String(login.json.mfa_challenge_id);
    expect((await client.call('/api/v1/users/me', { token: challenge })).status).toBe(401);
    expect((await client.call('/api/v1/users/me', { headers: { authorization: `Bearer ${challenge}` } })).status).toBe(
      401,
    );
    const code = currentCode(account.totp_secret);
    const first = await client.call('/api/v1/auth/mfa/verify', { body: { mfa_challenge_id: challenge, code } });
    expect(first.status).toBe(200);
    const again = await client.call('/api/v1/auth/mfa/verify', { body: { mfa_challenge_id: challenge, code } });
    expect(again.status).toBe(401);
    expect(again.json).toEqual({ error: 'invalid_credentials', message: 'Invalid username, password or code' });
  });

  it('gives an account without a verified device neither a token nor a challenge', async () => {
    const account = target.context.auth.no_mfa_account;
    const reply = await client.call('/api/v1/auth/login', {
      body: { username: account.username, password: account.password },
    });
    expect(reply.status).toBe(403);
    expect(reply.json.error).toBe('mfa_enrollment_required');
    expect(reply.text).not.toMatch(/access_token|mfa_challenge_id|sgc_|eyJ/);
    const rows = await failureRows(target);
    expect(rows.at(-1)).toMatchObject({
      event_type: 'bad_totp',
      username: 'secgate-nomfa',
      detail: 'mfa_not_enrolled',
    });
  });
});

describe('refresh rotation', () => {
  it('rotates the refresh token and revokes the whole session when an old one is reused', async () => {
    const tokens = await loginWithMfa(client, target);
    const rotated = await client.call('/api/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } });
    expect(rotated.status).toBe(200);
    const next = String(rotated.json.refresh_token);
    expect(next).not.toBe(tokens.refresh_token);

    const reuse = await client.call('/api/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } });
    expect(reuse.status).toBe(401);
    // The thief's reuse revoked the session: the legitimate newer token and the access token are dead too.
    expect((await client.call('/api/v1/auth/refresh', { body: { refresh_token: next } })).status).toBe(401);
    expect((await client.call('/api/v1/users/me', { token: String(rotated.json.access_token) })).status).toBe(401);
    const rows = await failureRows(target);
    expect(rows.map((row) => row.detail)).toContain('refresh_reused');
    expect(rows.map((row) => row.detail)).toContain('refresh_revoked');
  });

  it('refuses to refresh after logout', async () => {
    const tokens = await loginWithMfa(client, target);
    const logout = await client.call('/api/v1/auth/logout', { method: 'POST', token: tokens.access_token });
    expect(logout.status).toBe(204);
    expect((await client.call('/api/v1/users/me', { token: tokens.access_token })).status).toBe(401);
    expect((await client.call('/api/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } })).status).toBe(
      401,
    );
  });
});

describe('protected resources', () => {
  it('stores and lists notes for the authenticated user only', async () => {
    const tokens = await loginWithMfa(client, target);
    const created = await client.call('/api/v1/notes', { body: { body: 'hello' }, token: tokens.access_token });
    expect(created.status).toBe(201);
    const listed = await client.call('/api/v1/notes', { token: tokens.access_token });
    expect(listed.status).toBe(200);
    expect(listed.json.notes).toEqual([expect.objectContaining({ body: 'hello' })]);
  });

  it('answers 401 on every path but /health and the public auth endpoints without a token', async () => {
    for (const path of [
      '/api/v1/users/me',
      '/api/v1/notes',
      '/api/v1/agents',
      '/api/v1/notes/stats',
      '/api/v1/auth/logout',
      '/admin',
      '/',
    ]) {
      const reply = await client.call(path);
      expect(reply.status, path).toBe(401);
      expect(reply.headers['www-authenticate']).toBe('Bearer');
    }
    expect((await client.call('/health')).status).toBe(200);
    expect((await client.call('/health')).json).toEqual({ status: 'ok' });
  });
});
