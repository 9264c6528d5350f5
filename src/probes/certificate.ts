/**
 * Fetches the certificate chain a TLS server presents, with OpenSSL's verdict
 * on it against the configured trust anchor (or Node's default CA store).
 * The handshake itself accepts anything (security level 0, TLS 1.0+, no
 * verification abort) so that a weak or broken certificate is observed and
 * judged, not hidden behind a handshake error.
 *
 * Also the pure certificate facts the check needs and X509Certificate does not
 * expose on Node 20: the signature algorithm.
 */
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { ChainRequest, PresentedChain } from '../engine/observations.js';
import { DER_TAG, type DerElement, derChildren, derObjectIdentifier, readDerElement } from './der.js';

// The contract owns these types (src/engine/observations.ts); re-exported for this module's importers.
export type { ChainRequest, PresentedChain } from '../engine/observations.js';

/** Walks getPeerCertificate(true)'s issuer links, stopping at a self-issued certificate. */
function chainFrom(peer: tls.DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let current: tls.DetailedPeerCertificate | undefined = peer;
  while (current?.raw && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    chain.push(new X509Certificate(current.raw));
    current = current.issuerCertificate;
  }
  return chain;
}

/** The PEM certificates of a trust store (`ca_file`'s text), each parsed; one that does not parse is left out. */
function certificatesOf(pems: readonly string[]): X509Certificate[] {
  return pems.flatMap((pem) => {
    try {
      return [new X509Certificate(pem)];
    } catch {
      return [];
    }
  });
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The trust anchors the handshake verified against: the configured CA's certificates, else Node's store. */
export function trustAnchorsOf(caPem: string | undefined): X509Certificate[] {
  return certificatesOf(caPem === undefined ? tls.rootCertificates : (caPem.match(PEM_CERTIFICATE) ?? []));
}

/**
 * The part of `chain` a verifier relies on. OpenSSL looks for each certificate's issuer among the trust
 * anchors first, so the path ends at the first certificate an anchor issued, with that anchor: what the
 * server presents past it (a cross-signed root, an expired one) is never used. Pure.
 */
export function trustPathOf(chain: readonly X509Certificate[], anchors: readonly X509Certificate[]): X509Certificate[] {
  for (const [index, certificate] of chain.entries()) {
    if (anchors.some((anchor) => anchor.fingerprint256 === certificate.fingerprint256)) {
      return chain.slice(0, index + 1);
    }
    const issuer = anchors.find((anchor) => certificate.checkIssued(anchor) && certificate.verify(anchor.publicKey));
    if (issuer) return [...chain.slice(0, index + 1), issuer];
  }
  return [...chain];
}

export function fetchPresentedChain(request: ChainRequest): Promise<PresentedChain> {
  return new Promise((resolve, reject) => {
    const endpoint = `${request.host}:${request.port}`;
    if (request.signal?.aborted) {
      reject(new Error(`TLS handshake with ${endpoint} aborted`));
      return;
    }
    const socket = tls.connect({
      host: request.host,
      port: request.port,
      ...(request.servername ? { servername: request.servername } : {}),
      ...(request.caPem ? { ca: request.caPem } : {}),
      rejectUnauthorized: false,
      // Host name matching is judged by the check itself, so `verified` speaks of the chain alone.
      checkServerIdentity: () => undefined,
      minVersion: 'TLSv1',
      ciphers: 'ALL:@SECLEVEL=0',
    });
    const settle = (outcome: () => void): void => {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      outcome();
    };
    const onAbort = (): void => settle(() => reject(new Error(`TLS handshake with ${endpoint} aborted`)));
    const timer = setTimeout(
      () => settle(() => reject(new Error(`TLS handshake with ${endpoint} timed out after ${request.timeoutMs} ms`))),
      request.timeoutMs,
    );
    request.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      const chain = chainFrom(socket.getPeerCertificate(true));
      const result: PresentedChain = {
        chain,
        trustPath: trustPathOf(chain, trustAnchorsOf(request.caPem)),
        verified: socket.authorized,
        verificationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
        protocol: socket.getProtocol(),
        cipher: socket.getCipher().standardName,
      };
      settle(() => resolve(result));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      settle(() => reject(new Error(`TLS handshake with ${endpoint} failed: ${error.code ?? error.message}`)));
    });
  });
}

/** Signature algorithm OIDs and the digest each uses. */
const SIGNATURE_ALGORITHMS: Record<string, { name: string; digest: string }> = {
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', digest: 'md5' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', digest: 'sha1' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', digest: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', digest: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', digest: 'sha512' },
  '1.2.840.113549.1.1.10': { name: 'rsassaPss', digest: 'pss' },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', digest: 'sha1' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', digest: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', digest: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', digest: 'sha512' },
  '1.2.840.10040.4.3': { name: 'dsa-with-sha1', digest: 'sha1' },
  '2.16.840.1.101.3.4.3.2': { name: 'dsa-with-sha256', digest: 'sha256' },
  '1.3.101.112': { name: 'Ed25519', digest: 'intrinsic' },
  '1.3.101.113': { name: 'Ed448', digest: 'intrinsic' },
};

const PSS_HASH_OIDS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export interface SignatureAlgorithm {
  oid: string;
  name: string;
  /** sha256, sha1, … or `intrinsic` for EdDSA. */
  digest: string;
}

/** The RSASSA-PSS hash from the AlgorithmIdentifier's parameters (RFC 4055 section 3.1); SHA-1 when absent. */
function pssDigest(der: Uint8Array, parameters: DerElement | undefined): string {
  // RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] EXPLICIT AlgorithmIdentifier DEFAULT sha1, ... }
  if (parameters?.tag !== DER_TAG.sequence) return 'sha1';
  const hashField = derChildren(der, parameters).find((field) => field.tag === DER_TAG.contextConstructed0);
  if (!hashField) return 'sha1';
  const [hashAlgorithm] = derChildren(der, hashField);
  if (hashAlgorithm?.tag !== DER_TAG.sequence) throw new Error('RSASSA-PSS parameters without a hash algorithm');
  const [hashOid] = derChildren(der, hashAlgorithm);
  if (!hashOid) throw new Error('RSASSA-PSS parameters without a hash algorithm');
  return PSS_HASH_OIDS[derObjectIdentifier(der, hashOid)] ?? 'unknown';
}

/**
 * Reads Certificate.signatureAlgorithm from the DER (RFC 5280 section 4.1):
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signature }.
 */
export function signatureAlgorithmOf(der: Uint8Array): SignatureAlgorithm {
  const certificate = readDerElement(der, 0);
  if (certificate.tag !== DER_TAG.sequence) throw new Error('a certificate that is not a DER SEQUENCE');
  const [, algorithmIdentifier] = derChildren(der, certificate);
  if (algorithmIdentifier?.tag !== DER_TAG.sequence) throw new Error('certificate has no signature algorithm');
  const [oidField, parameters] = derChildren(der, algorithmIdentifier);
  if (!oidField) throw new Error('certificate has no signature algorithm');
  const oid = derObjectIdentifier(der, oidField);
  const known = SIGNATURE_ALGORITHMS[oid];
  if (!known) return { oid, name: oid, digest: 'unknown' };
  if (known.digest === 'pss') return { oid, name: known.name, digest: pssDigest(der, parameters) };
  return { oid, ...known };
}

export interface PublicKeyFacts {
  /** rsa, ec, ed25519, … */
  type: string;
  /** RSA modulus bits, or the EC curve's field size in bits. */
  bits: number | undefined;
  /** EC named curve, e.g. prime256v1. */
  curve: string | undefined;
}

const CURVE_BITS: Record<string, number> = {
  prime256v1: 256,
  secp384r1: 384,
  secp521r1: 521,
  secp256k1: 256,
  secp224r1: 224,
  prime192v1: 192,
};

export function publicKeyFacts(certificate: X509Certificate): PublicKeyFacts {
  const key = certificate.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const curve = details.namedCurve;
  const bits = details.modulusLength ?? (curve ? CURVE_BITS[curve] : undefined);
  return { type: key.asymmetricKeyType ?? 'unknown', bits, curve };
}
