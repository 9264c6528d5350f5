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
});
