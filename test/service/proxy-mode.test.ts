/** Reverse-proxy mode: plain HTTP on loopback only; X-Forwarded-For trusted solely from configured proxies. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReferenceService } from '../../src/service/index.js';
import { type ReferenceTarget, startReferenceTarget } from '../support/reference-service.js';
import { failureRows, type ServiceClient, serviceClient } from './client.js';

let target: ReferenceTarget;
let client: ServiceClient;

beforeAll(async () => {
  target = await startReferenceTarget({ behindProxy: { trustedProxies: ['127.0.0.40'] } });
  client = serviceClient(target);
});
afterAll(async () => {
  await client?.close();
  await target?.close();
});

describe('reverse-proxy mode', () => {
  it('uses X-Forwarded-For from a trusted proxy and ignores it from anyone else', async () => {
    expect(target.service.httpsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(target.service.httpUrl).toBeUndefined();
    const headers = { 'x-forwarded-for': '203.0.113.9' };
    await client.call('/api/v1/users/me', { headers, from: '127.0.0.40' });
    await client.call('/api/v1/users/me', { headers, from: '127.0.0.41' });
    const rows = (await failureRows(target)).slice(-2);
    expect(rows.map((row) => row.ip_address)).toEqual(['203.0.113.9', '127.0.0.41']);
  });

  it('answers a forwarded address that is not an IP with a 400, and leaves requests beside it unharmed', async () => {
    const garbage = ['unknown', '203.0.113.9:80', 'fe80::1%eth0', '203.0.113.9\u00ff'];
    const replies = await Promise.all(
      Array.from({ length: 24 }, (_, index) => {
        const forwarded = index % 2 === 0 ? garbage[(index / 2) % garbage.length] : `203.0.113.${index}`;
        return client
          .call('/api/v1/users/me', { headers: { 'x-forwarded-for': forwarded ?? '' }, from: '127.0.0.40' })
          .then((reply) => ({ forwarded, reply }));
      }),
    );
    for (const { forwarded, reply } of replies) {
      if (garbage.includes(forwarded ?? '')) {
        expect(reply.status, forwarded).toBe(400);
        expect(reply.json).toEqual({ error: 'bad_request', message: 'The request carries no usable client address' });
      } else {
        expect(reply.status, forwarded).toBe(401);
      }
    }
  });

  it('refuses to serve plain HTTP on a non-loopback address', async () => {
    await expect(
      startReferenceService({
        host: '0.0.0.0',
        behindProxy: { trustedProxies: [] },
        env: { SECGATE_JWT_SECRET: 'pL4vQ9sT2wX7zB1nM6kR3hD8fG5jC0aY' },
        logger: () => {},
      }),
    ).rejects.toThrow(/must listen on loopback, not 0\.0\.0\.0/);
  });
});
