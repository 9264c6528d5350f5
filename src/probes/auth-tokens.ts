/**
 * Builds the forged and test tokens the auth checks present to a service:
 * `alg: none`, tampered payloads, HMAC with the public key or a well-known
 * secret, and — where the checklist hands over a test signing key — expired
 * and missing-claim tokens signed for real. Pure except for the signing.
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { generateKeyPair, importPKCS8, SignJWT } from 'jose';

export type JwtPayload = Record<string, unknown>;
export type JwtHeader = Record<string, unknown>;

const base64UrlJson = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export interface DecodedJwt {
  header: JwtHeader;
  payload: JwtPayload;
  signature: string;
}

/** Splits a compact JWS without verifying it; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const [header, payload, signature] = token.split('.');
  if (header === undefined || payload === undefined || signature === undefined) return undefined;
  try {
    const decodedHeader: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    const decodedPayload: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (typeof decodedHeader !== 'object' || decodedHeader === null) return undefined;
    if (typeof decodedPayload !== 'object' || decodedPayload === null) return undefined;
    return { header: decodedHeader as JwtHeader, payload: decodedPayload as JwtPayload, signature };
  } catch {
    return undefined;
  }
}

/** `alg: none` with an empty signature, the classic bypass. */
export function unsignedToken(payload: JwtPayload): string {
  return `${base64UrlJson({ alg: 'none', typ: 'JWT' })}.${base64UrlJson(payload)}.`;
}

/** The original header and signature over a changed payload. */
export function tamperedToken(original: DecodedJwt, payload: JwtPayload): string {
  return `${base64UrlJson(original.header)}.${base64UrlJson(payload)}.${original.signature}`;
}

/** The payload with elevated privileges: what an attacker would change. */
export function elevatedPayload(payload: JwtPayload): JwtPayload {
  return typeof payload.role === 'string'
    ? { ...payload, role: payload.role === 'admin' ? 'superuser' : 'admin' }
    : { ...payload, sub: `${String(payload.sub ?? '')}-admin` };
}

export async function hmacToken(payload: JwtPayload, secret: string, alg: 'HS256' | 'HS384' | 'HS512' = 'HS256') {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

/**
 * A token signed with the service's own key material: a PEM private key for
 * asymmetric algorithms, the shared secret for HS*.
 */
export async function signedToken(payload: JwtPayload, header: JwtHeader, alg: string, keyMaterial: string) {
  const protectedHeader = { ...header, alg };
  if (alg.startsWith('HS')) {
    return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(new TextEncoder().encode(keyMaterial));
  }
  const key = await importPKCS8(pkcs8Pem(keyMaterial), alg);
  return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(key);
}

/** The same claims and algorithm, signed with a key the service has never seen. */
export async function foreignKeyToken(payload: JwtPayload, header: JwtHeader, alg: string) {
  const protectedHeader = { ...header, alg };
  if (alg.startsWith('HS')) {
    return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(randomBytes(64));
  }
  const { privateKey } = await generateKeyPair(alg);
  return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(privateKey);
}

/** Accepts PKCS#1 / SEC1 / PKCS#8 PEM and returns PKCS#8, which jose imports. */
function pkcs8Pem(pem: string): string {
  return createPrivateKey(pem).export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** The SPKI PEM of a private key, for the HMAC-with-public-key confusion probe. */
export function publicKeyPemOf(privateKeyPem: string): string {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ format: 'pem', type: 'spki' }).toString();
}

/** Well-known default signing secrets (seed 000's `default_secret` and friends). */
export const WELL_KNOWN_SECRETS: readonly string[] = [
  'default_secret',
  'secret',
  'changeme',
  'change-me',
  'your-256-bit-secret',
  'supersecret',
  'jwt_secret',
  'password',
];
