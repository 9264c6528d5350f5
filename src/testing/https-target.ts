/**
 * A throw-away HTTPS server on 127.0.0.1 for a check's table test: a private CA made in memory
 * (once per process: RSA key generation is the slow part), a certificate for localhost and
 * 127.0.0.1, and the handler the test gives. The check then speaks real TLS verified against the
 * CA, exactly as against a deployment's private CA.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import { createCa, createServerCertificate } from '../service/pki.js';
import type { TargetHandle } from './index.js';

export interface HttpsTarget extends TargetHandle {
  /** `https://127.0.0.1:<port>`. */
  url: string;
  /** PEM of the CA that issued the server's certificate: a checklist's `target.ca_file` content. */
  caPem: string;
}

let credentials: { caPem: string; certPem: string; keyPem: string } | undefined;

function testCredentials(): { caPem: string; certPem: string; keyPem: string } {
  if (!credentials) {
    const ca = createCa();
    const server = createServerCertificate(ca, ['localhost', '127.0.0.1']);
    credentials = { caPem: ca.certPem, certPem: server.certPem, keyPem: server.keyPem };
  }
  return credentials;
}

/** Starts `handler` behind HTTPS on a free loopback port; `close()` stops it and its connections. */
export async function startHttpsTarget(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<HttpsTarget> {
  const { caPem, certPem, keyPem } = testCredentials();
  const server = https.createServer({ cert: certPem, key: keyPem }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `https://127.0.0.1:${port}`;
  return {
    url,
    caPem,
    context: { target: { url, caPem } },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
