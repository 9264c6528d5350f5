import { createPrivateKey, createPublicKey } from 'node:crypto';
import { access, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { preAuthEncoding, signPayload, verifyEnvelope } from '../../src/evidence/dsse.js';
import { generateSigningKeyPair, type KeyAlgorithm, writeKeyPair } from '../../src/evidence/keys.js';
import { DSSE_PAYLOAD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE } from '../../src/evidence/types.js';
import { readmeRecipe } from './readme-recipe.js';

const statement = {
  _type: STATEMENT_TYPE,
  subject: [{ name: 'checklist.yaml', digest: { sha256: 'a'.repeat(64) } }],
  predicateType: PREDICATE_TYPE,
  predicate: { verdict: 'pass', checks: [] },
};
const payload = Buffer.from(JSON.stringify(statement));

describe('DSSE', () => {
  it('encodes the pre-authentication string exactly as the DSSE spec gives it', () => {
    expect(preAuthEncoding('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  for (const algorithm of ['ed25519', 'ecdsa-p256'] as KeyAlgorithm[]) {
    describe(algorithm, () => {
      const pair = generateSigningKeyPair(algorithm);
      const privateKey = createPrivateKey(pair.privatePem);
      const publicKey = createPublicKey(pair.publicPem);

      it('round-trips: a signed envelope verifies with the public key', () => {
        const envelope = signPayload(payload, privateKey);
        expect(envelope.payloadType).toBe(DSSE_PAYLOAD_TYPE);
        expect(envelope.signatures[0]?.keyid).toBe(pair.keyid);
        const result = verifyEnvelope(envelope, publicKey);
        expect(result.valid).toBe(true);
        expect(result.statement?.subject[0]?.digest.sha256).toBe('a'.repeat(64));
      });

      it('detects any changed byte of the payload', () => {
        const envelope = signPayload(payload, privateKey);
        for (const index of [0, 17, payload.length - 1]) {
          const tampered = Buffer.from(payload);
          tampered[index] = (tampered[index] ?? 0) ^ 0x01;
          const result = verifyEnvelope({ ...envelope, payload: tampered.toString('base64') }, publicKey);
          expect(result.valid, `byte ${index}`).toBe(false);
          expect(result.reason).toBe('the signature does not match the payload');
        }
      });

      it('detects a changed payload type and a foreign key', () => {
        const envelope = signPayload(payload, privateKey);
        expect(verifyEnvelope({ ...envelope, payloadType: 'text/plain' }, publicKey).reason).toBe(
          'the signature does not match the payload',
        );
        const other = createPublicKey(generateSigningKeyPair(algorithm).publicPem);
        expect(verifyEnvelope(envelope, other).reason).toMatch(/^no signature by this key/);
        expect(verifyEnvelope({ ...envelope, signatures: [] }, publicKey).reason).toBe('the envelope is unsigned');
      });

      it('verifies with plain openssl and shell tools, as the README shows', async () => {
        const directory = await mkdtemp(path.join(tmpdir(), 'secgate-dsse-'));
        await writeFile(
          path.join(directory, 'evidence.json'),
          JSON.stringify(signPayload(payload, privateKey), null, 2),
        );
        await writeFile(path.join(directory, 'signing.pub.pem'), pair.publicPem);
        const script = readmeRecipe(algorithm);
        const good = await execa('bash', ['-c', script], { cwd: directory, reject: false });
        expect(good.exitCode, good.stderr).toBe(0);
        expect(good.stdout).toMatch(/Signature Verified Successfully|Verified OK/);

        // One changed byte in the payload: openssl must refuse too.
        const envelope = JSON.parse(JSON.stringify(signPayload(payload, privateKey))) as { payload: string };
        const tampered = Buffer.from(envelope.payload, 'base64').toString().replace('"pass"', '"fail"');
        envelope.payload = Buffer.from(tampered).toString('base64');
        await writeFile(path.join(directory, 'evidence.json'), JSON.stringify(envelope));
        const bad = await execa('bash', ['-c', script], { cwd: directory, reject: false });
        expect(bad.exitCode).not.toBe(0);
      });
    });
  }
});

describe('writeKeyPair', () => {
  it('refuses to overwrite either half, and leaves no private key without its public half', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'secgate-keys-'));
    const privatePath = path.join(directory, 'signing.key.pem');
    const publicPath = path.join(directory, 'signing.pub.pem');
    await writeFile(publicPath, 'an unrelated public key\n');
    await expect(writeKeyPair(generateSigningKeyPair(), privatePath, publicPath)).rejects.toThrow(/EEXIST/);
    await expect(access(privatePath)).rejects.toThrow(/ENOENT/);
    expect(await readFile(publicPath, 'utf8')).toBe('an unrelated public key\n');

    await writeFile(privatePath, 'an existing private key\n');
    await expect(
      writeKeyPair(generateSigningKeyPair(), privatePath, path.join(directory, 'other.pub.pem')),
    ).rejects.toThrow(/EEXIST/);
    expect(await readFile(privatePath, 'utf8')).toBe('an existing private key\n');
  });
});
