/**
 * Strict input: unknown fields, malformed JSON, oversized bodies, wrong
 * content types and prototype pollution are 4xx JSON; property-based fuzzing
 * of every body-taking route never yields a 5xx or a stack trace.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReferenceTarget } from '../support/reference-service.js';
import { loginWithMfa, type ServiceClient, useReferenceService } from './client.js';

let target: ReferenceTarget;
let client: ServiceClient;
let accessToken: string;

// Fuzzing sends many failed logins from one address; keep the IP block out of the way here.
useReferenceService(
  (service) => {
    target = service.target;
    client = service.client;
  },
  { ipBlockThreshold: 1_000_000, lockoutThreshold: 1_000_000 },
);
beforeAll(async () => {
  accessToken = (await loginWithMfa(client, target)).access_token;
});

const json = { 'content-type': 'application/json' };

describe('strict input', () => {
  it('rejects unknown fields instead of dropping them', async () => {
    const account = target.context.auth.probe_account;
    const login = await client.call('/api/v1/auth/login', {
      body: { username: account.username, password: account.password, is_admin: true },
    });
    expect(login.status).toBe(400);
    expect(login.json).toEqual({ error: 'invalid_request', message: 'body must NOT have additional properties' });
    const note = await client.call('/api/v1/notes', { body: { body: 'x', user_id: 1 }, token: accessToken });
    expect(note.status).toBe(400);
  });

  it('answers malformed JSON 400, oversized 413, wrong or missing content type 415, type confusion 400', async () => {
    const cases: Array<[string, Parameters<ServiceClient['call']>[1], number, string]> = [
      ['truncated JSON', { rawBody: '{"username": "a"', headers: json }, 400, 'malformed_json'],
      ['empty JSON body', { method: 'POST', rawBody: '', headers: json }, 400, ''],
      ['__proto__', { rawBody: '{"username":"a","password":"b","__proto__":{"x":1}}', headers: json }, 400, ''],
      [
        'constructor.prototype',
        { rawBody: '{"username":"a","password":"b","constructor":{"prototype":{"x":1}}}', headers: json },
        400,
        '',
      ],
      ['number for string', { body: { username: 1, password: 'b' } }, 400, 'invalid_request'],
      ['array body', { body: [{ username: 'a', password: 'b' }] }, 400, 'invalid_request'],
      ['20 KiB', { body: { username: 'a', password: 'x'.repeat(20_000) } }, 413, 'payload_too_large'],
      [
        'text/plain',
        { rawBody: '{"username":"a","password":"b"}', headers: { 'content-type': 'text/plain' } },
        415,
        'unsupported_media_type',
      ],
      [
        'form',
        { rawBody: 'username=a&password=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        415,
        'unsupported_media_type',
      ],
      [
        'no content type',
        { method: 'POST', rawBody: '{"username":"a","password":"b"}' },
        415,
        'unsupported_media_type',
      ],
    ];
    for (const [name, options, status, error] of cases) {
      const reply = await client.call('/api/v1/auth/login', options);
      expect(reply.status, name).toBe(status);
      if (error) expect(reply.json.error, name).toBe(error);
      expect(typeof reply.json.message, name).toBe('string');
      expect(reply.text, name).not.toMatch(/\bat .*\(|node_modules|\.ts:\d/);
    }
  });

  it('never answers 5xx to fuzzed bodies on any body-taking route', async () => {
    const routes: Array<{ path: string; token?: string }> = [
      { path: '/api/v1/auth/login' },
      { path: '/api/v1/auth/mfa/verify' },
      { path: '/api/v1/auth/refresh' },
      { path: '/api/v1/notes', token: accessToken },
    ];
    const fields = fc.constantFrom(
      'username',
      'password',
      'mfa_challenge_id',
      'code',
      'refresh_token',
      'body',
      '__proto__',
      'constructor',
      'x',
    );
    const structured = fc
      .dictionary(
        fields,
        fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.integer(),
          fc.boolean(),
          fc.constant(null),
          fc.array(fc.string(), { maxLength: 3 }),
          fc.object({ maxDepth: 2 }),
        ),
        { maxKeys: 4 },
      )
      .map((value) => JSON.stringify(value));
    const raw = fc.oneof(fc.string({ maxLength: 200 }), fc.json(), structured, structured);
    const contentType = fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/xml',
      'application/json; charset=latin1',
      '',
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), raw, contentType, async (route, body, type) => {
        const reply = await client.call(route.path, {
          method: 'POST',
          rawBody: body,
          headers: type ? { 'content-type': type } : {},
          ...(route.token ? { token: route.token } : {}),
        });
        expect(reply.status, `${route.path} ${type} ${body}`).toBeLessThan(500);
        expect(reply.text).not.toMatch(/\bat .*\(|node_modules/);
      }),
      { numRuns: 300 },
    );
  });
});
