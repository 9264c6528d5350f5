/**
 * The HTTP and TLS surface: protocol and cipher policy, certificate trust,
 * the plain-HTTP redirect, security headers on every status, no API docs,
 * CORS restricted to configured origins, and errors without stacks.
 */
import http from 'node:http';
import tls from 'node:tls';
import type { FastifyError } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpAnswerForError } from '../../src/service/app.js';
import { type ReferenceTarget, startReferenceTarget } from '../support/reference-service.js';
import { loginWithMfa, queryService, type Reply, type ServiceClient, serviceClient } from './client.js';

const ALLOWED_ORIGIN = 'https://app.example.internal';
let target: ReferenceTarget;
let client: ServiceClient;

beforeAll(async () => {
  target = await startReferenceTarget({ env: { SECGATE_CORS_ORIGINS: ALLOWED_ORIGIN } });
  client = serviceClient(target);
});
afterAll(async () => {
  await client?.close();
  await target?.close();
});

function handshake(options: tls.ConnectionOptions): Promise<{ protocol: string | null; cipher: string } | Error> {
  const url = new URL(target.service.httpsUrl);
  return new Promise((resolve) => {
    const socket = tls.connect(
      { host: url.hostname, port: Number(url.port), ca: target.service.caPem, servername: 'localhost', ...options },
      () => {
        resolve({ protocol: socket.getProtocol(), cipher: socket.getCipher().name });
        socket.end();
      },
    );
    socket.on('error', (error) => resolve(error));
  });
}

describe('TLS', () => {
  it('negotiates TLS 1.3 by default and an ECDHE AEAD suite on TLS 1.2', async () => {
    expect(await handshake({})).toMatchObject({ protocol: 'TLSv1.3' });
    const tls12 = await handshake({ maxVersion: 'TLSv1.2' });
    expect(tls12).toMatchObject({
      protocol: 'TLSv1.2',
      cipher: expect.stringMatching(/^ECDHE-.*(GCM|CHACHA20-POLY1305)/),
    });
  });

  it('refuses TLS 1.0 and 1.1 with a protocol_version alert from the server', async () => {
    for (const version of ['TLSv1', 'TLSv1.1'] as const) {
      const result = await handshake({ minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' });
      expect(result, version).toBeInstanceOf(Error);
      expect(String(result), version).toMatch(/alert protocol version/);
    }
  });

  it('refuses CBC suites and suites without forward secrecy', async () => {
    for (const cipher of ['ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-AES256-SHA', 'AES128-GCM-SHA256', 'AES256-SHA']) {
      const result = await handshake({ maxVersion: 'TLSv1.2', ciphers: `${cipher}@SECLEVEL=0` });
      expect(String(result), cipher).toMatch(/alert handshake failure/);
    }
  });

  it('presents a certificate that verifies against the private CA for localhost, 127.0.0.1 and ::1', async () => {
    const result = await handshake({ servername: 'localhost', checkServerIdentity: tls.checkServerIdentity });
    expect(result).not.toBeInstanceOf(Error);
    const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const url = new URL(target.service.httpsUrl);
      const connection = tls.connect(
        { host: url.hostname, port: Number(url.port), ca: target.service.caPem, servername: 'localhost' },
        () => resolve(connection),
      );
      connection.on('error', reject);
    });
    const san = socket.getPeerCertificate().subjectaltname;
    socket.end();
    expect(san).toContain('DNS:localhost');
    expect(san).toContain('IP Address:127.0.0.1');
    expect(san).toMatch(/IP Address:0:0:0:0:0:0:0:1|IP Address:::1/);
    const untrusted = await handshake({ ca: undefined });
    expect(String(untrusted)).toMatch(
      /self[- ]signed|unable to get local issuer|unable to verify the first certificate/i,
    );
  });
});

describe('plain HTTP', () => {
  it('answers every method and path with 308 to the same path on the HTTPS origin', async () => {
    const httpUrl = new URL(target.service.httpUrl as string);
    for (const [method, path] of [
      ['GET', '/health'],
      ['POST', '/api/v1/auth/login'],
      ['GET', '/api/v1/users/me?x=1'],
      ['DELETE', '//evil.example/x'],
    ] as const) {
      const reply = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const outgoing = http.request({ host: httpUrl.hostname, port: httpUrl.port, method, path }, resolve);
        outgoing.on('error', reject);
        outgoing.end();
      });
      reply.resume();
      expect(reply.statusCode, `${method} ${path}`).toBe(308);
      const expected = `${target.service.httpsUrl}${path.replace(/^\/+/, '/')}`;
      expect(reply.headers.location, `${method} ${path}`).toBe(expected);
    }
  });
});

const REQUIRED_HEADERS: Record<string, RegExp> = {
  'strict-transport-security': /max-age=(\d{8,}|3[2-9]\d{6});\s*includeSubDomains/,
  'x-frame-options': /^DENY$/,
  'x-content-type-options': /^nosniff$/,
  'content-security-policy': /default-src 'none'; frame-ancestors 'none'/,
  'referrer-policy': /^no-referrer$/,
  'cache-control': /no-store/,
};

function expectSecureHeaders(reply: Reply, label: string): void {
  for (const [name, pattern] of Object.entries(REQUIRED_HEADERS)) {
    expect(reply.headers[name], `${label}: ${name}`).toMatch(pattern);
  }
  expect(reply.headers.server, `${label}: Server banner`).toBeUndefined();
  expect(reply.headers['x-powered-by'], `${label}: X-Powered-By`).toBeUndefined();
  expect(reply.headers['content-type'] ?? 'application/json', label).toMatch(/application\/json/);
}

describe('security headers', () => {
  it('are on 200, 204, 400, 401, 403, 404, 413 and 415 responses', async () => {
    const tokens = await loginWithMfa(client, target);
    const cases: Array<[number, Promise<Reply>]> = [
      [200, client.call('/health')],
      [200, client.call('/api/v1/users/me', { token: tokens.access_token })],
      [
        400,
        client.call('/api/v1/auth/login', { rawBody: '{"username":', headers: { 'content-type': 'application/json' } }),
      ],
      [401, client.call('/api/v1/users/me')],
      [404, client.call('/docs')],
      [404, client.call('/api/v1/nothing-here', { token: tokens.access_token })],
      [413, client.call('/api/v1/auth/login', { body: { username: 'x', password: 'y'.repeat(20_000) } })],
      [415, client.call('/api/v1/auth/login', { rawBody: 'username=x', headers: { 'content-type': 'text/plain' } })],
    ];
    for (const [status, pending] of cases) {
      const reply = await pending;
      expect(reply.status).toBe(status);
      expectSecureHeaders(reply, String(status));
    }
    const preflight = await client.call('/api/v1/notes', {
      method: 'OPTIONS',
      headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    for (const name of Object.keys(REQUIRED_HEADERS)) expect(preflight.headers[name], `204 ${name}`).toBeDefined();
  });

  it('are on 403 answers to a blocked address', async () => {
    await queryService(
      target,
      `INSERT INTO ip_blocks (ip_address, reason, expires_at) VALUES ('127.0.0.77', 'test', now() + interval '1 hour')`,
    );
    const reply = await client.call('/health', { from: '127.0.0.77' });
    expect(reply.status).toBe(403);
    expect(reply.json).toEqual({ error: 'ip_blocked', message: 'Requests from this address are blocked' });
    expectSecureHeaders(reply, '403');
  });
});

describe('API documentation', () => {
  it('answers 404 on every documentation path, with or without a token', async () => {
    const tokens = await loginWithMfa(client, target);
    const paths = [
      '/docs',
      '/docs/',
      '/redoc',
      '/openapi.json',
      '/openapi.yaml',
      '/swagger',
      '/swagger-ui.html',
      '/swagger/index.html',
      '/api-docs',
      '/api/docs',
      '/v3/api-docs',
      '/api/v1/openapi.json',
    ];
    for (const path of paths) {
      expect((await client.call(path)).status, path).toBe(404);
      expect((await client.call(path, { token: tokens.access_token })).status, `${path} with token`).toBe(404);
    }
  });
});

describe('CORS', () => {
  it('allows the configured origin by name, never reflects a foreign one, never uses * or credentials', async () => {
    const allowed = await client.call('/health', { headers: { origin: ALLOWED_ORIGIN } });
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers.vary).toMatch(/Origin/);
    for (const origin of [
      'https://evil.example',
      'null',
      `${ALLOWED_ORIGIN}.evil.example`,
      'http://app.example.internal',
    ]) {
      const reply = await client.call('/health', { headers: { origin } });
      expect(reply.headers['access-control-allow-origin'], origin).toBeUndefined();
      const preflight = await client.call('/api/v1/notes', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });
      expect(preflight.headers['access-control-allow-origin'], origin).toBeUndefined();
      expect(preflight.headers['access-control-allow-methods'], origin).toBeUndefined();
    }
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
  });
});

describe('errors', () => {
  it('answer a failing handler with a stable 500 body, the security headers and no stack', async () => {
    const tokens = await loginWithMfa(client, target);
    // A real fault, not a mock: the table behind the route disappears.
    await queryService(target, 'ALTER TABLE notes RENAME TO notes_gone');
    try {
      const reply = await client.call('/api/v1/notes', { token: tokens.access_token });
      expect(reply.status).toBe(500);
      expect(reply.json).toEqual({ error: 'internal_error', message: 'The request could not be completed' });
      expect(reply.text).not.toMatch(/at |\.ts:|\.js:|relation|notes/);
      expectSecureHeaders(reply, '500');
    } finally {
      await queryService(target, 'ALTER TABLE notes_gone RENAME TO notes');
    }
  });

  it.each([
    {
      name: 'a statement cancelled on its timeout',
      error: { code: '57014', message: 'canceling statement due to statement timeout' },
    },
    { name: 'no connection slots left', error: { code: '53300', message: 'sorry, too many clients already' } },
    { name: 'the pool had no free connection in time', error: { message: 'timeout exceeded when trying to connect' } },
  ])('answer an overloaded database with 503, never 500: $name', ({ error }) => {
    expect(httpAnswerForError(Object.assign(new Error(String(error.message)), error) as FastifyError)).toEqual({
      status: 503,
      body: { error: 'unavailable', message: 'The service is busy; retry shortly' },
    });
  });
});
