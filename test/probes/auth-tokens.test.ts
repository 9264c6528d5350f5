/**
 * The forgeries that carry their own key or name one: each must be what a careless verifier would accept,
 * or its refusal proves nothing. Keys and tokens are made at run time.
 */
import { createHmac, X509Certificate } from 'node:crypto';
import { decodeProtectedHeader, EmbeddedJWK, importX509, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  decodeJwt,
  embeddedKeyToken,
  foreignKeyPair,
  kidInjectionToken,
  selfSignedCertificate,
  unsignedToken,
} from '../../src/probes/auth-tokens.js';

const payload = { sub: 'probe', role: 'user' };

describe('forgeries that carry their own key', () => {
  for (const alg of ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']) {
    it(`${alg}: the jwk header verifies its own signature, and x5c holds a self-signed certificate of the key`, async () => {
      const keys = await foreignKeyPair(alg);
      const jwkToken = await embeddedKeyToken(payload, { typ: 'JWT' }, alg, keys, 'jwk');
      const header = decodeProtectedHeader(jwkToken);
      expect(header.alg).toBe(alg);
      expect(Object.keys(header.jwk ?? {})).not.toContain('key_ops');
      expect((await jwtVerify(jwkToken, EmbeddedJWK)).payload).toEqual(payload);

      const x5cToken = await embeddedKeyToken(payload, { typ: 'JWT' }, alg, keys, 'x5c');
      const [der] = decodeProtectedHeader(x5cToken).x5c ?? [];
      const certificate = new X509Certificate(Buffer.from(der ?? '', 'base64'));
      expect(certificate.verify(certificate.publicKey)).toBe(true);
      expect(certificate.subject).toBe('CN=secgate forged key');
      expect((await jwtVerify(x5cToken, await importX509(certificate.toString(), alg))).payload).toEqual(payload);
    });
  }

  it('makes a new certificate serial each time', async () => {
    const keys = await foreignKeyPair('ES256');
    const serials = [0, 1, 2].map(() => new X509Certificate(selfSignedCertificate(keys)).serialNumber);
    expect(new Set(serials).size).toBe(3);
  });
});

describe('forgeries that name their key', () => {
  it('signs a kid token by hand with an empty key, the real header otherwise kept', () => {
    const token = kidInjectionToken(payload, { typ: 'JWT', alg: 'RS256' }, 'HS256', '../dev/null', '');
    const [header, body, signature] = token.split('.');
    expect(decodeJwt(token)?.header).toEqual({ typ: 'JWT', alg: 'HS256', kid: '../dev/null' });
    expect(signature).toBe(createHmac('sha256', '').update(`${header}.${body}`).digest('base64url'));
  });

  it('spells alg none as asked', () => {
    expect(decodeJwt(unsignedToken(payload, 'NONE'))).toEqual({
      header: { alg: 'NONE', typ: 'JWT' },
      payload,
      signature: '',
    });
  });
});
