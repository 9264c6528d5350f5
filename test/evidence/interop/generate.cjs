#!/usr/bin/env node
/**
 * Writes DSSE envelopes made WITHOUT secgate, for test/evidence/interop.test.ts:
 * the pre-authentication encoding and the envelope come from sigstore-js
 * (@sigstore/sign's DSSEBundleBuilder) or from printf, and every signature from
 * the openssl command line with keys it generates for the run. Only the public
 * keys are kept; the private keys live in a temporary directory and are deleted.
 * The exact command is in README.md beside this file.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { DSSEBundleBuilder } = require('@sigstore/sign');
const { envelopeToJSON } = require('@sigstore/bundle');

const out = path.resolve(process.argv[2] ?? __dirname);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dsse-interop-'));
const PAYLOAD_TYPE = 'application/vnd.in-toto+json';

function openssl(args, input) {
  return execFileSync('openssl', args, { cwd: work, input, maxBuffer: 1 << 20 });
}

/** A secgate-shaped statement: what `secgate evidence verify` shows once the signature holds. */
const statement = {
  _type: 'https://in-toto.io/Statement/v1',
  subject: [
    {
      name: 'https://git.example.com/team/service.git',
      digest: { gitCommit: '4b825dc642cb6eb9a060e54bf8d69288fbee4904' },
    },
    { name: 'checklist.yaml', digest: { sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' } },
  ],
  predicateType: 'https://secgate.dev/evidence/v1',
  predicate: {
    tool: { name: 'secgate', version: '0.0.0-interop' },
    target: { url: 'https://service.example:8443', repo: '.', commit: '4b825dc642cb6eb9a060e54bf8d69288fbee4904' },
    checklist: { path: 'checklist.yaml', sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    verdict: 'pass',
    exitCode: 0,
    counts: { pass: 1, fail: 0, error: 0, skip: 0, waived: 0 },
    checks: [
      {
        id: 'tls.protocols',
        check: 'tls.protocols',
        title: 'TLS 1.2 is the minimum',
        source: 'seed 002, checklist item 3',
        status: 'pass',
        summary: 'signed by an independent DSSE implementation',
        remediation: 'none',
        durationMs: 1,
        observations: [{ probe: 'interop', ok: true }],
      },
    ],
    waivers: [],
  },
};
const payload = Buffer.from(JSON.stringify(statement));

const keys = {
  ed25519: { algorithm: 'ED25519' },
  'ecdsa-p256': { algorithm: 'EC', options: ['-pkeyopt', 'ec_paramgen_curve:P-256'] },
};
for (const [name, key] of Object.entries(keys)) {
  openssl(['genpkey', '-algorithm', key.algorithm, ...(key.options ?? []), '-out', `${name}.key.pem`]);
  openssl(['pkey', '-in', `${name}.key.pem`, '-pubout', '-out', path.join(out, `${name}.pub.pem`)]);
}

/** Signs with the openssl command line: Ed25519 over the message itself, ECDSA over its SHA-256. */
function opensslSign(name, message) {
  fs.writeFileSync(path.join(work, 'message.bin'), message);
  return name === 'ed25519'
    ? openssl(['pkeyutl', '-sign', '-inkey', `${name}.key.pem`, '-rawin', '-in', 'message.bin'])
    : openssl(['dgst', '-sha256', '-sign', `${name}.key.pem`, 'message.bin']);
}

/** sigstore-js computes the PAE and builds the envelope; openssl signs what it is handed. */
async function sigstoreEnvelope(name, hint) {
  const signer = {
    async sign(pae) {
      return {
        key: { $case: 'publicKey', publicKey: fs.readFileSync(path.join(out, `${name}.pub.pem`), 'utf8'), hint },
        signature: opensslSign(name, pae),
      };
    },
  };
  const bundle = await new DSSEBundleBuilder({ signer, witnesses: [] }).create({ data: payload, type: PAYLOAD_TYPE });
  return envelopeToJSON(bundle.content.dsseEnvelope);
}

/** The DSSE spec's protocol by hand: PAE with printf-style concatenation, no keyid field at all. */
function handmadeEnvelope(name) {
  const pae = Buffer.concat([
    Buffer.from(`DSSEv1 ${Buffer.byteLength(PAYLOAD_TYPE)} ${PAYLOAD_TYPE} ${payload.length} `),
    payload,
  ]);
  return {
    payloadType: PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ sig: opensslSign(name, pae).toString('base64') }],
  };
}

async function main() {
  const envelopes = {
    'sigstore-ed25519-no-keyid.json': await sigstoreEnvelope('ed25519', undefined),
    'sigstore-ecdsa-p256-foreign-keyid.json': await sigstoreEnvelope('ecdsa-p256', 'key-from-another-tool'),
    'openssl-ed25519-no-keyid.json': handmadeEnvelope('ed25519'),
    'openssl-ecdsa-p256-no-keyid.json': handmadeEnvelope('ecdsa-p256'),
  };
  for (const [file, envelope] of Object.entries(envelopes)) {
    fs.writeFileSync(path.join(out, file), `${JSON.stringify(envelope, null, 2)}\n`);
  }
  fs.rmSync(work, { recursive: true, force: true });
}

main().catch((error) => {
  fs.rmSync(work, { recursive: true, force: true });
  console.error(error);
  process.exit(1);
});
