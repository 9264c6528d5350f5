/** Signing keys: generated as PEM pairs, loaded with a clear error when unusable. */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { assertSupportedKey, keyIdOf } from './dsse.js';

export type KeyAlgorithm = 'ed25519' | 'ecdsa-p256';

export interface GeneratedKeyPair {
  privatePem: string;
  publicPem: string;
  keyid: string;
}

export function generateSigningKeyPair(algorithm: KeyAlgorithm = 'ed25519'): GeneratedKeyPair {
  const { privateKey, publicKey } =
    algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyid: keyIdOf(publicKey),
  };
}

export async function writeKeyPair(pair: GeneratedKeyPair, privatePath: string, publicPath: string): Promise<void> {
  // The private key is readable by its owner only; refuse to overwrite an existing key.
  await writeFile(privatePath, pair.privatePem, { mode: 0o600, flag: 'wx' });
  try {
    await writeFile(publicPath, pair.publicPem, { mode: 0o644, flag: 'wx' });
  } catch (error) {
    // No half pair left behind: a private key whose public half was never written is a key nobody can use.
    await unlink(privatePath).catch(() => {});
    throw error;
  }
}

export async function loadPrivateKey(file: string): Promise<KeyObject> {
  const key = createPrivateKey(await readFile(file));
  assertSupportedKey(key);
  return key;
}

/** Accepts a public key, or a private key from which the public half is derived. */
export async function loadPublicKey(file: string): Promise<KeyObject> {
  const pem = await readFile(file);
  const key = createPublicKey(pem);
  assertSupportedKey(key);
  return key;
}
