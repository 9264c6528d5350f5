/**
 * Log hygiene: canary credentials sent every way a client can send them
 * (body, Authorization, cookie, query string, custom headers, malformed
 * bodies, error paths) never appear in the captured logs, while every
 * request still yields one structured line with id, method, path, status
 * and duration.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReferenceTarget, startReferenceTarget } from '../support/reference-service.js';
import { loginWithMfa, type ServiceClient, serviceClient } from './client.js';

const lines: string[] = [];
let target: ReferenceTarget;
let client: ServiceClient;

beforeAll(async () => {
  target = await startReferenceTarget({ logger: (line) => lines.push(line) });
  client = serviceClient(target);
});
afterAll(async () => {
  await client?.close();
  await target?.close();
});

describe('request logs', () => {
  it('never contain passwords, tokens, cookies or Authorization values', async () => {
    const canary = {
      password: 'CANARY-PASSWORD-8f1e2d',
      bearer: 'CANARY.BEARER.tok3n',
      cookie: 'CANARY-COOKIE-77aa',
      query: 'CANARY-QUERY-TOKEN-91',
      apiKey: 'CANARY-API-KEY-5c',
      malformed: 'CANARY-MALFORMED-0b',
      refresh: 'sgr_CANARY-REFRESH-42',
      username: 'CANARY-USER-3f',
    };
    await client.call('/api/v1/auth/login', { body: { username: canary.username, password: canary.password } });
    await client.call(`/api/v1/users/me?access_token=${canary.query}`, {
      headers: {
        authorization: `Bearer ${canary.bearer}`,
        cookie: `session=${canary.cookie}`,
        'x-api-key': canary.apiKey,
      },
    });
    await client.call('/api/v1/auth/login', {
      rawBody: `{"password":"${canary.malformed}"`,
      headers: { 'content-type': 'application/json' },
    });
    await client.call('/api/v1/auth/login', {
      rawBody: `password=${canary.malformed}`,
      headers: { 'content-type': 'text/plain' },
    });
    await client.call('/api/v1/auth/refresh', { body: { refresh_token: canary.refresh } });
    await client.call(`/docs?token=${canary.query}`);
    const real = await loginWithMfa(client, target);
    await client.call('/api/v1/users/me', { token: real.access_token });
    await client.call('/api/v1/auth/refresh', { body: { refresh_token: real.refresh_token } });

    const log = lines.join('');
    const secrets = [
      ...Object.values(canary),
      target.context.auth.probe_account.password,
      target.context.auth.probe_account.totp_secret,
      real.access_token,
      real.refresh_token,
    ];
    for (const secret of secrets) expect(log.includes(secret), `log contains ${secret.slice(0, 16)}…`).toBe(false);
    expect(log).not.toMatch(/authorization|cookie|bearer/i);
  });

  it('write one JSON line per request with request id, method, path, status and duration', async () => {
    lines.length = 0;
    const reply = await client.call('/health?probe=1', { headers: { 'x-request-id': 'trace-123' } });
    expect(reply.headers['x-request-id']).toBe('trace-123');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toEqual([
      expect.objectContaining({
        level: 'info',
        event: 'http.request.completed',
        request_id: 'trace-123',
        method: 'GET',
        path: '/health',
        status: 200,
        duration_ms: expect.any(Number),
      }),
    ]);
  });
});
