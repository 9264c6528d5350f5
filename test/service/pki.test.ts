/** The private CA and server certificate: SANs, key modes, reuse, re-issue and user-supplied override. */
import { X509Certificate } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureServerCredentials } from '../../src/service/pki.js';
import { sharedReferencePkiDir } from '../support/reference-pki.js';

const directories: string[] = [];
async function scratch(): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'secgate-service-pki-'));
  directories.push(directory);
  return directory;
}
/**
 * The run's reference PKI (made by the same function in global-setup.ts): only the first case makes a CA
 * here, since a 3072-bit key costs about a second of CPU and the others are about what happens next.
 */
function sharedPki(): string {
  const directory = sharedReferencePkiDir();
  if (!directory) throw new Error('the test run has no shared reference PKI (test/support/global-setup.ts)');
  return directory;
}

afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

describe('PKI', () => {
  it('issues a CA-signed server certificate for localhost, 127.0.0.1, ::1 and configured names, keys 0600', async () => {
    const dataDir = await scratch();
    const credentials = await ensureServerCredentials({ dataDir, hostnames: ['gate.example.internal'] });
    const server = new X509Certificate(credentials.certPem);
    const ca = new X509Certificate(credentials.caPem);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.subjectAltName).toContain('DNS:localhost');
    expect(server.subjectAltName).toContain('DNS:gate.example.internal');
    expect(server.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(server.checkIP('::1')).toBe('::1');
    expect(server.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
    for (const key of ['ca.key', 'server.key']) {
      expect(((await stat(path.join(dataDir, 'pki', key))).mode & 0o777).toString(8), key).toBe('600');
    }
    expect(((await stat(path.join(dataDir, 'pki'))).mode & 0o777).toString(8)).toBe('700');
  });

  it('reuses existing material and re-issues the server certificate when a name is added', async () => {
    const dataDir = await scratch();
    await cp(sharedPki(), path.join(dataDir, 'pki'), { recursive: true });
    const first = await ensureServerCredentials({ dataDir });
    expect(first.certPem).toBe(await readFile(path.join(sharedPki(), 'server.crt'), 'utf8'));
    const again = await ensureServerCredentials({ dataDir });
    expect(again.certPem).toBe(first.certPem);
    const widened = await ensureServerCredentials({ dataDir, hostnames: ['new.example.internal'] });
    expect(widened.certPem).not.toBe(first.certPem);
    expect(widened.caPem).toBe(first.caPem);
    expect(new X509Certificate(widened.certPem).subjectAltName).toContain('DNS:new.example.internal');
  });

  it('uses a user-supplied certificate and key instead, and refuses half of a pair', async () => {
    const directory = await scratch();
    const certFile = path.join(directory, 'tls.crt');
    const keyFile = path.join(directory, 'tls.key');
    const certPem = await readFile(path.join(sharedPki(), 'server.crt'), 'utf8');
    await writeFile(certFile, certPem);
    await writeFile(keyFile, await readFile(path.join(sharedPki(), 'server.key')), { mode: 0o600 });
    const supplied = await ensureServerCredentials({ dataDir: directory, certFile, keyFile });
    expect(supplied.certPem).toBe(certPem);
    await expect(stat(path.join(directory, 'pki'))).rejects.toThrow();
    await expect(ensureServerCredentials({ dataDir: directory, certFile })).rejects.toThrow(
      /both the certificate file and the key file/,
    );
  });
});
