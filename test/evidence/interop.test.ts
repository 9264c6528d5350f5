/**
 * DSSE interop: envelopes made without secgate (sigstore-js, and the spec's
 * encoding by hand, signed by the openssl command line; see interop/README.md)
 * verify with secgate's verifyEnvelope, with `secgate evidence verify`, and with
 * the README's openssl recipe — and all three refuse them after one changed byte.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { keyIdOf, signPayload, verifyEnvelope } from '../../src/evidence/dsse.js';
import { readmeRecipe } from './readme-recipe.js';

const DATA = path.resolve('test/evidence/interop');
const BIN = path.resolve('bin/secgate');

const ENVELOPES = [
  { file: 'sigstore-ed25519-no-keyid.json', keyType: 'ed25519' },
  { file: 'sigstore-ecdsa-p256-foreign-keyid.json', keyType: 'ecdsa-p256' },
  { file: 'openssl-ed25519-no-keyid.json', keyType: 'ed25519' },
  { file: 'openssl-ecdsa-p256-no-keyid.json', keyType: 'ecdsa-p256' },
] as const;

async function tampered(text: string): Promise<string> {
  const envelope = JSON.parse(text) as { payload: string };
  const payload = Buffer.from(envelope.payload, 'base64').toString('utf8').replace('"pass"', '"fail"');
  return JSON.stringify({ ...envelope, payload: Buffer.from(payload).toString('base64') });
}

describe.each(ENVELOPES)('$file', ({ file, keyType }) => {
  const key = `${keyType}.pub.pem`;
  it('verifies with verifyEnvelope, secgate evidence verify and the README recipe alike', async () => {
    const text = await readFile(path.join(DATA, file), 'utf8');
    const publicKey = createPublicKey(await readFile(path.join(DATA, key)));
    expect(verifyEnvelope(JSON.parse(text), publicKey)).toMatchObject({ valid: true });

    const directory = await mkdtemp(path.join(tmpdir(), 'secgate-interop-'));
    await copyFile(path.join(DATA, key), path.join(directory, 'signing.pub.pem'));
    const cli = () =>
      execa('node', [BIN, 'evidence', 'verify', 'evidence.json', '--key', 'signing.pub.pem'], {
        cwd: directory,
        reject: false,
        env: { CI: 'true' },
        extendEnv: false,
      });
    const recipe = () => execa('bash', ['-c', readmeRecipe(keyType)], { cwd: directory, reject: false });

    await writeFile(path.join(directory, 'evidence.json'), text);
    const [accepted, opensslAccepted] = await Promise.all([cli(), recipe()]);
    expect(accepted.exitCode, accepted.stdout + accepted.stderr).toBe(0);
    expect(accepted.stdout).toMatch(/^VALID signature by key [0-9a-f]{64}\n/);
    expect(accepted.stdout).toContain('subject: https://git.example.com/team/service.git gitCommit:');
    expect(opensslAccepted.exitCode, opensslAccepted.stderr).toBe(0);

    await writeFile(path.join(directory, 'evidence.json'), await tampered(text));
    expect(verifyEnvelope(JSON.parse(await tampered(text)), publicKey).valid).toBe(false);
    const [refused, opensslRefused] = await Promise.all([cli(), recipe()]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout).toMatch(/^INVALID evidence\.json: /);
    expect(opensslRefused.exitCode).not.toBe(0);
  });
});

describe('keyid is a hint', () => {
  const payload = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [], predicate: {} }));

  it('a valid signature behind another key’s signature is found, whatever the keyids say', () => {
    const ours = generateKeyPairSync('ed25519');
    const theirs = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const [mine] = signPayload(payload, ours.privateKey).signatures;
    const [other] = signPayload(payload, theirs.privateKey).signatures;
    if (!mine || !other) throw new Error('no signature');
    const envelope = {
      ...signPayload(payload, ours.privateKey),
      // Another key's signature first, then ours mislabelled with that other key's id.
      signatures: [other, { sig: mine.sig, keyid: keyIdOf(theirs.publicKey) }],
    };
    expect(verifyEnvelope(envelope, ours.publicKey)).toMatchObject({ valid: true });
    expect(verifyEnvelope(envelope, theirs.publicKey)).toMatchObject({ valid: true });
    const stranger = generateKeyPairSync('ed25519').publicKey;
    expect(verifyEnvelope(envelope, stranger).reason).toMatch(
      /^no signature by this key \(keyid [0-9a-f]{16}…\): none of the 2 signature\(s\) verifies with it$/,
    );
  });
});
