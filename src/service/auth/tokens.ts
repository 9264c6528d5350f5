/**
 * Access tokens: asymmetric JWTs (EdDSA / Ed25519) via jose. The key pair is
 * derived from SECGATE_JWT_SECRET with HKDF, so every replica given the same
 * secret signs and verifies alike, and only one secret has to be managed.
 * Refresh tokens and MFA challenges are opaque random strings stored as
 * sha256 hashes: they are not JWTs, so they can never pass as bearer tokens.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';

export const ACCESS_TOKEN_ALGORITHM = 'EdDSA';
export const REQUIRED_CLAIMS = ['sub', 'role', 'session_id', 'iss', 'aud', 'iat', 'exp', 'jti'] as const;

export interface SigningKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function deriveSigningKeys(secret: string): SigningKeys {
  const seed = Buffer.from(hkdfSync('sha256', secret, 'secgate-reference-service', 'jwt-signing-key:ed25519:v1', 32));
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/**
 * The private signing key as PKCS#8 PEM. Only for a gate that must mint an
 * expired token (auth checks' `signing_key_env`) against a test deployment:
 * whoever holds it can sign valid tokens.
 */
export function signingKeyPem(secret: string): string {
  return deriveSigningKeys(secret).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export interface TokenSettings {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
}

export interface AccessClaims {
  sub: string;
  role: string;
  session_id: string;
  jti: string;
}

export async function issueAccessToken(
  keys: SigningKeys,
  settings: TokenSettings,
  claims: Omit<AccessClaims, 'jti'>,
): Promise<string> {
  return new SignJWT({ role: claims.role, session_id: claims.session_id })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, typ: 'at+jwt' })
    .setSubject(claims.sub)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + settings.accessTokenTtlSeconds)
    .setJti(randomUUID())
    .sign(keys.privateKey);
}

const claimsSchema = z.object({
  sub: z.string().regex(/^\d+$/),
  role: z.string().min(1),
  session_id: z.uuid(),
  jti: z.string().min(1),
});

export type TokenVerdict = { ok: true; claims: AccessClaims } | { ok: false; reason: 'expired' | 'invalid' };

/** Pure verification: signature, algorithm, issuer, audience, expiry and every required claim. */
export async function verifyAccessToken(
  keys: SigningKeys,
  settings: TokenSettings,
  token: string,
): Promise<TokenVerdict> {
  try {
    const { payload } = await jwtVerify(token, keys.publicKey, {
      algorithms: [ACCESS_TOKEN_ALGORITHM],
      issuer: settings.issuer,
      audience: settings.audience,
      typ: 'at+jwt',
      requiredClaims: [...REQUIRED_CLAIMS],
      clockTolerance: 0,
    });
    const claims = claimsSchema.safeParse(payload);
    return claims.success ? { ok: true, claims: claims.data } : { ok: false, reason: 'invalid' };
  } catch (error) {
    return { ok: false, reason: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
  }
}

/** An opaque token with a recognisable prefix (helps secret scanners) and 256 bits of randomness. */
export function newOpaqueToken(prefix: 'sgr' | 'sgc'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
