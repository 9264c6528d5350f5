/**
 * Strict input: unknown fields, malformed JSON, oversized bodies, wrong
 * content types and prototype pollution are 4xx JSON; text PostgreSQL cannot
 * hold (NUL, unpaired surrogates) and over-long values are 4xx JSON too, and a
 * rejected credential is audited whatever it contains; property-based fuzzing
 * of every body-taking route never yields a 5xx, a stack trace or an
 * unaudited rejection.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReferenceTarget } from '../support/reference-service.js';
import { failureRows, loginWithMfa, queryService, type ServiceClient, useReferenceService } from './client.js';

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

/** Text PostgreSQL refuses (NUL) or cannot keep as sent (unpaired surrogates), and values past every field's length limit. */
const UNSTORABLE = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udc00',
  '\udbff\u0000\udfff',
  'a'.repeat(2001),
  'é'.repeat(2001),
];

/** The one body shape of every error: exactly `error` and `message`, both strings. */
function isStableErrorBody(body: Record<string, unknown>): boolean {
  return (
    Object.keys(body).sort().join(',') === 'error,message' &&
    typeof body.error === 'string' &&
    typeof body.message === 'string'
  );
}

const auditCount = async () =>
  (await queryService<{ count: number }>(target, 'SELECT count(*)::int AS count FROM auth_failure_events'))[0]?.count ??
  -1;

/** Routes where every 401/403 must leave exactly one audit row. */
const CREDENTIAL_ROUTES = new Set(['/api/v1/auth/login', '/api/v1/auth/mfa/verify', '/api/v1/auth/refresh']);

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

  it('answers a username with NUL or an unpaired surrogate as an unknown user: 401, one audited row', async () => {
    const cases: Array<[string, string]> = [
      ['a\u0000', 'a\ufffd'],
      ['\u0000', '\ufffd'],
      ['x\ud800', 'x\ufffd'],
      ['\udc00y', '\ufffdy'],
    ];
    for (const [username, stored] of cases) {
      const before = (await failureRows(target)).length;
      const reply = await client.call('/api/v1/auth/login', { body: { username, password: 'guess' } });
      expect(reply.status, JSON.stringify(username)).toBe(401);
      expect(reply.json).toEqual({ error: 'invalid_credentials', message: 'Invalid username, password or code' });
      const rows = (await failureRows(target)).slice(before);
      expect(
        rows.map((row) => [row.event_type, row.username, row.detail]),
        JSON.stringify(username),
      ).toEqual([['unknown_user', stored, 'username_not_representable']]);
    }
  });

  it('answers unstorable or over-long text in every field with a 4xx and the stable JSON body', async () => {
    const account = target.context.auth.probe_account;
    const challenge = async () =>
      String(
        (
          await client.call('/api/v1/auth/login', {
            body: { username: account.username, password: account.password },
          })
        ).json.mfa_challenge_id,
      );
    const bodies: Array<[string, (value: string) => Promise<object>, string?]> = [
      ['/api/v1/auth/login', async (value) => ({ username: value, password: 'guess' })],
      ['/api/v1/auth/login', async (value) => ({ username: account.username, password: value })],
      ['/api/v1/auth/mfa/verify', async (value) => ({ mfa_challenge_id: value, code: '123456' })],
      ['/api/v1/auth/mfa/verify', async (value) => ({ mfa_challenge_id: await challenge(), code: value })],
      ['/api/v1/auth/refresh', async (value) => ({ refresh_token: value })],
      ['/api/v1/notes', async (value) => ({ body: value }), accessToken],
    ];
    for (const [path, body, token] of bodies) {
      for (const value of UNSTORABLE) {
        const sent = await body(value);
        const before = await auditCount();
        const reply = await client.call(path, { body: sent, ...(token ? { token } : {}) });
        const what = `${path} ${JSON.stringify(sent)}`;
        expect(reply.status, what).toBeGreaterThanOrEqual(400);
        expect(reply.status, what).toBeLessThan(500);
        expect(isStableErrorBody(reply.json), `${what}: ${reply.text}`).toBe(true);
        if (CREDENTIAL_ROUTES.has(path) && (reply.status === 401 || reply.status === 403)) {
          expect(await auditCount(), `${what} audited`).toBe(before + 1);
        }
      }
    }
    // The probe account took wrong passwords and codes above; the next test logs in with it.
    await queryService(target, 'UPDATE users SET failed_login_count = 0, first_failed_at = NULL, locked_until = NULL');
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
          fc.string({ unit: 'binary', maxLength: 40 }),
          fc.constantFrom(...UNSTORABLE),
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
        const before = await auditCount();
        const reply = await client.call(route.path, {
          method: 'POST',
          rawBody: body,
          headers: type ? { 'content-type': type } : {},
          ...(route.token ? { token: route.token } : {}),
        });
        const what = `${route.path} ${type} ${JSON.stringify(body)}`;
        expect(reply.status, what).toBeLessThan(500);
        expect(reply.text).not.toMatch(/\bat .*\(|node_modules/);
        if (reply.status >= 400) expect(isStableErrorBody(reply.json), `${what}: ${reply.text}`).toBe(true);
        if (CREDENTIAL_ROUTES.has(route.path) && (reply.status === 401 || reply.status === 403)) {
          expect(await auditCount(), `${what} audited`).toBe(before + 1);
        }
      }),
      { numRuns: 300 },
    );
  });
});
