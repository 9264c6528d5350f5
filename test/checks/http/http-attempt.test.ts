import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createHttpProbe } from '../../../src/probes/http.js';
import { attemptRequest, classifyHttpFailure, describeFailure } from '../../../src/probes/http-attempt.js';

function listenSilently(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    // Accept and never answer.
    sockets.add(socket);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({
        port,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

async function closedPort(): Promise<number> {
  const listener = await listenSilently();
  await listener.close();
  return listener.port;
}

describe('attemptRequest', () => {
  it('classifies a refused connection', async () => {
    const probe = createHttpProbe({ timeoutMs: 1_000 });
    try {
      const attempt = await attemptRequest(probe, `http://127.0.0.1:${await closedPort()}/`);
      expect(attempt.failure?.kind).toBe('refused');
      expect(attempt.failure && describeFailure(attempt.failure)).toBe('refused (ECONNREFUSED)');
    } finally {
      await probe.close();
    }
  });

  it('classifies a listener that never answers as a timeout, over HTTP and HTTPS', async () => {
    const listener = await listenSilently();
    const probe = createHttpProbe({ timeoutMs: 300 });
    try {
      for (const scheme of ['http', 'https']) {
        const attempt = await attemptRequest(probe, `${scheme}://127.0.0.1:${listener.port}/`);
        expect(attempt.failure?.kind, scheme).toBe('timeout');
      }
    } finally {
      await probe.close();
      await listener.close();
    }
  });
});

describe('classifyHttpFailure', () => {
  it('reads codes from the error or its cause', () => {
    expect(classifyHttpFailure(Object.assign(new Error('x'), { code: 'CERT_HAS_EXPIRED' })).kind).toBe('tls');
    expect(
      classifyHttpFailure(new Error('wrapped', { cause: Object.assign(new Error('y'), { code: 'ECONNRESET' }) })).kind,
    ).toBe('reset');
    expect(classifyHttpFailure('a string').kind).toBe('other');
  });
});
