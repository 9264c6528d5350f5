/**
 * DSSE (Dead Simple Signing Envelope) over the pre-authentication encoding
 *   "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
 * so that the signature covers the payload type as well as the bytes.
 * Ed25519 and ECDSA P-256 (DER signatures over SHA-256) keys are supported;
 * both verify with plain `openssl`.
 */
import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import {
  DSSE_PAYLOAD_TYPE,
  type DsseEnvelope,
  type DsseSignature,
  type EvidenceStatement,
  STATEMENT_TYPE,
} from './types.js';

export function preAuthEncoding(payloadType: string, body: Buffer): Buffer {
  const header = `DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${body.length} `;
  return Buffer.concat([Buffer.from(header, 'utf8'), body]);
}

/** The key id: sha256 of the public key's DER SubjectPublicKeyInfo, hex. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

function digestFor(key: KeyObject): string | null {
  // Ed25519 signs the message itself; ECDSA signs its SHA-256 digest.
  return key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
}

export function assertSupportedKey(key: KeyObject): void {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return;
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return;
  throw new Error(`unsupported signing key type '${type ?? 'unknown'}': expected Ed25519 or ECDSA P-256`);
}

export function signPayload(payload: Buffer, privateKey: KeyObject, payloadType = DSSE_PAYLOAD_TYPE): DsseEnvelope {
  assertSupportedKey(privateKey);
  const signature = sign(digestFor(privateKey), preAuthEncoding(payloadType, payload), privateKey);
  return {
    payloadType,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyIdOf(privateKey), sig: signature.toString('base64') }],
  };
}

export function unsignedEnvelope(payload: Buffer, payloadType = DSSE_PAYLOAD_TYPE): DsseEnvelope {
  return { payloadType, payload: payload.toString('base64'), signatures: [] };
}

export interface EnvelopeVerification {
  valid: boolean;
  /** Why it is not valid, in one sentence. */
  reason?: string;
  keyid: string;
  statement?: EvidenceStatement;
}

/** Checks the envelope's shape, then the signature made by `publicKey`, then the statement's type. */
export function verifyEnvelope(envelope: unknown, publicKey: KeyObject): EnvelopeVerification {
  const keyid = keyIdOf(publicKey);
  if (!isEnvelope(envelope)) {
    return { valid: false, keyid, reason: 'not a DSSE envelope (expected payloadType, payload, signatures)' };
  }
  const payload = Buffer.from(envelope.payload, 'base64');
  if (payload.toString('base64') !== envelope.payload) {
    return { valid: false, keyid, reason: 'payload is not canonical base64' };
  }
  if (envelope.signatures.length === 0) return { valid: false, keyid, reason: 'the envelope is unsigned' };
  // The DSSE spec makes keyid a hint: other tools leave it out or use their own ids. Any signature that
  // verifies with this key counts; the ones that name this key are only tried first.
  const claimsThisKey = (signature: DsseSignature) => signature.keyid === keyid;
  const ordered = [
    ...envelope.signatures.filter(claimsThisKey),
    ...envelope.signatures.filter((s) => !claimsThisKey(s)),
  ];
  const encoded = preAuthEncoding(envelope.payloadType, payload);
  if (!ordered.some((signature) => signatureVerifies(encoded, publicKey, signature))) {
    const reason = envelope.signatures.some(claimsThisKey)
      ? 'the signature does not match the payload'
      : `no signature by this key (keyid ${keyid.slice(0, 16)}…): none of the ${envelope.signatures.length} signature(s) verifies with it`;
    return { valid: false, keyid, reason };
  }
  if (envelope.payloadType !== DSSE_PAYLOAD_TYPE) {
    return { valid: false, keyid, reason: `unexpected payloadType '${envelope.payloadType}'` };
  }
  let statement: unknown;
  try {
    statement = JSON.parse(payload.toString('utf8'));
  } catch {
    return { valid: false, keyid, reason: 'the signed payload is not JSON' };
  }
  if (!isStatement(statement))
    return {
      valid: false,
      keyid,
      reason: 'the signed payload is not a secgate evidence statement (in-toto Statement v1)',
    };
  return { valid: true, keyid, statement };
}

function signatureVerifies(encoded: Buffer, publicKey: KeyObject, signature: DsseSignature): boolean {
  try {
    return verify(digestFor(publicKey), encoded, publicKey, Buffer.from(signature.sig, 'base64'));
  } catch {
    // A signature of the wrong shape for this key type (another algorithm's) simply does not verify.
    return false;
  }
}

/** Reads the statement without verifying anything (for rendering unsigned evidence, clearly labelled). */
export function decodeStatement(envelope: DsseEnvelope): EvidenceStatement | undefined {
  try {
    const statement: unknown = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    return isStatement(statement) ? statement : undefined;
  } catch {
    return undefined;
  }
}

export function isEnvelope(value: unknown): value is DsseEnvelope {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.payloadType === 'string' &&
    typeof candidate.payload === 'string' &&
    Array.isArray(candidate.signatures) &&
    candidate.signatures.every(
      (signature: unknown) =>
        signature !== null &&
        typeof signature === 'object' &&
        typeof (signature as Record<string, unknown>).sig === 'string' &&
        typeof ((signature as Record<string, unknown>).keyid ?? '') === 'string',
    )
  );
}

function isStatement(value: unknown): value is EvidenceStatement {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Record<string, unknown>;
  return (
    candidate._type === STATEMENT_TYPE && Array.isArray(candidate.subject) && typeof candidate.predicate === 'object'
  );
}
