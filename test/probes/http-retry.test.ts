/**
 * A kept-alive connection the peer closes as the next request goes out: an
 * idempotent-safe request is sent once more on a fresh connection (and the
 * answer says so); anything else fails as it did. Real TLS server, real sockets.
 */
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { fixturePki } from '../../fixtures/http/pki.js';
import { closedWithoutAnswer, createHttpProbe } from '../../src/probes/http.js';

/** Answers the first request of every connection and destroys the connection when a second one arrives. */
async function closingServer() {
  const pki = fixturePki();
  const served = new WeakMap<Socket, number>();
  const server = createServer({ key: pki.keyPem, cert: pki.certPem }, (request, response) => {
    const count = served.get(request.socket) ?? 0;
    served.set(request.socket, count + 1);
    if (count > 0) {
      request.socket.destroy();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/`,
    caPem: pki.caPem,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('closed keep-alive connections', () => {
  it('a GET on a connection the peer closed is sent once more on a fresh one, and says so; a POST is not', async () => {
    const server = await closingServer();
    const http = createHttpProbe({ caPem: server.caPem, timeoutMs: 30_000 });
    try {
      // Which request meets a closed connection depends on when the pool gets its socket back: send a few.
      const gets = [];
      for (let index = 0; index < 4; index++) gets.push(await http.request(server.url));
      expect(gets.map((response) => response.status)).toEqual([200, 200, 200, 200]);
      const retried = gets.filter((response) => response.retried !== undefined);
      expect(retried.length).toBeGreaterThan(0);
      expect(retried[0]?.retried).toMatch(
        /the first attempt's connection closed without an answer \(UND_ERR_SOCKET: other side closed\); sent once more on a fresh connection/,
      );
      const posts: PromiseSettledResult<unknown>[] = [];
      for (let index = 0; index < 4; index++) {
        posts.push(...(await Promise.allSettled([http.request(server.url, { method: 'POST', body: '{}' })])));
      }
      const failed = posts.filter((post): post is PromiseRejectedResult => post.status === 'rejected');
      expect(failed.length).toBeGreaterThan(0);
      expect(String(failed[0]?.reason)).toMatch(/other side closed/);
    } finally {
      await http.close();
      await server.close();
    }
  });

  const closed = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
  it.each([
    [{}, closed, true],
    [{ method: 'HEAD' }, closed, true],
    [{ method: 'POST', body: '{}' }, closed, false],
    [{ method: 'GET', body: 'x' }, closed, false],
    [{}, Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), false],
    [{}, Object.assign(new Error('t'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), false],
    [{}, Object.assign(new Error('wrapped'), { cause: { code: 'ECONNRESET' } }), true],
  ])('closedWithoutAnswer(%j, %s) → %s', (options, error, retry) => {
    expect(closedWithoutAnswer(options, error) !== undefined).toBe(retry);
  });
});
