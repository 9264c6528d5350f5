/**
 * The DER reader behind tls.certificate's signature algorithm: agreed with
 * node-forge's ASN.1 parser (an independent implementation, still a
 * dependency of the reference service) on every root certificate Node ships
 * and on certificates openssl signs with RSASSA-PSS, and refusing
 * what DER does not allow.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { signatureAlgorithmOf } from '../../src/probes/certificate.js';
import { derChildren, derObjectIdentifier, readDerElement } from '../../src/probes/der.js';

/** The signature algorithm's OID as node-forge reads it. */
function forgeSignatureOid(der: Uint8Array): string {
  const certificate = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(der).toString('binary')));
  const fields = certificate.value as forge.asn1.Asn1[];
  const algorithm = (fields[1]?.value ?? []) as forge.asn1.Asn1[];
  return forge.asn1.derToOid(algorithm[0]?.value as string);
}

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

describe('DER reader', () => {
  it("agrees with node-forge on the signature algorithm of every root certificate Node's TLS trusts", () => {
    // Node's bundled Mozilla store: the same on every machine, well over a hundred real certificates.
    expect(tls.rootCertificates.length).toBeGreaterThan(100);
    const oids = new Set<string>();
    for (const pem of tls.rootCertificates) {
      const certificate = new X509Certificate(pem);
      const oid = signatureAlgorithmOf(certificate.raw).oid;
      expect(oid, certificate.subject).toBe(forgeSignatureOid(certificate.raw));
      oids.add(oid);
    }
    // RSA with SHA-1/256/384/512 and ECDSA: more than one shape was read.
    expect(oids.size).toBeGreaterThan(3);
  });

  it.each([
    ['sha256', 'rsa_pss_saltlen:32'],
    ['sha384', 'rsa_pss_saltlen:48'],
    // Every parameter at its default, so DER leaves them all out: SHA-1 by omission, which the check fails.
    ['sha1', 'rsa_pss_saltlen:20'],
  ])('reads the hash of an RSASSA-PSS signature (%s) from its parameters', (digest, salt) => {
    const pem = execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        '/dev/null',
        '-subj',
        '/CN=pss.test',
        '-days',
        '1',
        `-${digest}`,
        '-sigopt',
        'rsa_padding_mode:pss',
        '-sigopt',
        salt,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const der = new X509Certificate(pem).raw;
    expect(signatureAlgorithmOf(der)).toEqual({ oid: '1.2.840.113549.1.1.10', name: 'rsassaPss', digest });
    expect(forgeSignatureOid(der)).toBe('1.2.840.113549.1.1.10');
  });

  it('reads long-form lengths and OIDs with arcs beyond 2^53', () => {
    // A SEQUENCE whose length is given in two bytes (0x82 0x00 0x03), holding the OID 1.2.
    const long = bytes(0x30, 0x82, 0x00, 0x03, 0x06, 0x01, 0x2a);
    const sequence = readDerElement(long);
    expect(sequence).toEqual({ tag: 0x30, start: 4, end: 7 });
    const [oid] = derChildren(long, sequence);
    expect(oid && derObjectIdentifier(long, oid)).toBe('1.2');
    // 2.25.<UUID as an integer>: the first subidentifier is 2 × 40 + 25 = 105, and the UUID arc needs 128 bits.
    const uuidArc = 0x3c_b1_d1_aa_0f_5d_4b_9e_9f_6a_4d_2e_8c_7b_1a_05n;
    const encoded: number[] = [];
    for (let rest = uuidArc; rest > 0n; rest >>= 7n)
      encoded.unshift(Number(rest & 0x7fn) | (encoded.length ? 0x80 : 0));
    const der = bytes(0x06, encoded.length + 1, 105, ...encoded);
    expect(derObjectIdentifier(der, readDerElement(der, 0))).toBe(`2.25.${uuidArc}`);
  });

  it.each([
    ['a truncated element', bytes(0x30), /cut short/],
    ['content past the end', bytes(0x30, 0x05, 0x06, 0x01), /runs 3 bytes past its parent/],
    ['an indefinite length (BER, not DER)', bytes(0x30, 0x80, 0x00, 0x00), /indefinite/],
    ['a five-byte length', bytes(0x30, 0x85, 0, 0, 0, 0, 1, 0), /5 bytes/],
    ['a multi-byte tag', bytes(0x1f, 0x81, 0x00, 0x00), /multi-byte tag/],
  ])('refuses %s', (_what, der, message) => {
    expect(() => readDerElement(der, 0)).toThrow(message);
  });

  it.each([
    ['an OID that ends inside an arc', bytes(0x06, 0x02, 0x2a, 0x86), /ends inside an arc/],
    ['an OID arc with a padding byte', bytes(0x06, 0x03, 0x2a, 0x80, 0x01), /padding byte/],
    ['an empty OID', bytes(0x06, 0x00), /empty OID/],
    ['an element that is not an OID', bytes(0x04, 0x01, 0x2a), /not an OID/],
  ])('refuses %s', (_what, der, message) => {
    expect(() => derObjectIdentifier(der, readDerElement(der, 0))).toThrow(message);
  });

  it('refuses a child that runs past its parent, and a certificate that is not a SEQUENCE', () => {
    // The parent says 3 bytes; its child claims 4, which the buffer (but not the parent) holds.
    const der = bytes(0x30, 0x03, 0x06, 0x04, 0x2a, 0x03, 0x00, 0x00);
    expect(() => derChildren(der, readDerElement(der, 0))).toThrow(/runs 3 bytes past its parent/);
    expect(() => signatureAlgorithmOf(bytes(0x04, 0x00))).toThrow(/not a DER SEQUENCE/);
  });
});
