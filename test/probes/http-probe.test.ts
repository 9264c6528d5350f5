/** The HTTP probe itself: source address binding and cancellation, against real sockets. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createHttpProbe } from '../../src/probes/http.js';

describe('HTTP probe', () => {
  it('binds the client socket to the requested loopback address', async () => {
    const server = createServer((request, response) => response.end(request.socket.remoteAddress));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const probe = createHttpProbe({ timeoutMs: 5_000 });
    try {
      const plain = await probe.request(`http://127.0.0.1:${port}/`);
      const bound = await probe.request(`http://127.0.0.1:${port}/`, { localAddress: '127.0.0.23' });
      expect(plain.body).toBe('127.0.0.1');
      expect(bound.body).toBe('127.0.0.23');
    } finally {
      await probe.close();
      server.close();
    }
  });

  it('sends a requestTarget on the wire exactly as written, where a URL would fold it', async () => {
    const seen: string[] = [];
    const server = createServer((request, response) => {
      seen.push(request.url ?? '');
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const probe = createHttpProbe({ timeoutMs: 5_000 });
    const spellings = ['//api/v1/users/me', '/api//v1/users/me', '/./api/v1/users/me', '/%61pi%2Fv1/users/me;x?a=1'];
    try {
      for (const requestTarget of spellings) await probe.request(`http://127.0.0.1:${port}/`, { requestTarget });
      await probe.request(`http://127.0.0.1:${port}/a/./b?c=1`);
      expect(seen).toEqual([...spellings, '/a/b?c=1']);
    } finally {
      await probe.close();
      server.close();
    }
  });

  it('keeps exactly the first maxBodyBytes of a longer body and says it was cut', async () => {
    const body = 'x'.repeat(300_000);
    const server = createServer((_request, response) => response.end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const probe = createHttpProbe({ timeoutMs: 5_000 });
    try {
      const cut = await probe.request(`http://127.0.0.1:${port}/`, { maxBodyBytes: 100_000 });
      expect(cut.bodyTruncated).toBe(true);
      expect(cut.body.length).toBe(100_000);
      const whole = await probe.request(`http://127.0.0.1:${port}/`, { maxBodyBytes: 300_000 });
      expect(whole.bodyTruncated).toBe(false);
      expect(whole.body).toBe(body);
    } finally {
      await probe.close();
      server.close();
    }
  });
});
