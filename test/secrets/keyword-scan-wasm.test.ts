/**
 * The committed WebAssembly is the .wat beside it, assembled: this test
 * assembles src/secrets/keyword-scan.wat with wabt (pinned) and compares the
 * generated module text byte for byte. After editing the .wat, regenerate
 * with `npm run build:wasm` (vitest's -u on this file) and review both.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import initWabt from 'wabt';
import { keywordScanWasm } from '../../src/secrets/keyword-scan-wasm.js';

const watPath = fileURLToPath(new URL('../../src/secrets/keyword-scan.wat', import.meta.url));

async function assemble(): Promise<Uint8Array> {
  const wabt = await initWabt();
  const parsed = wabt.parseWat('keyword-scan.wat', await readFile(watPath, 'utf8'), { simd: true });
  try {
    parsed.validate();
    return new Uint8Array(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}

function moduleSource(wasm: Uint8Array): string {
  const base64 = Buffer.from(wasm).toString('base64');
  const lines: string[] = [];
  for (let at = 0; at < base64.length; at += 96) lines.push(`  '${base64.slice(at, at + 96)}',`);
  return [
    '// Generated from keyword-scan.wat by `npm run build:wasm`: do not edit.',
    '// test/secrets/keyword-scan-wasm.test.ts assembles the .wat again and fails if this differs.',
    'const base64 = [',
    ...lines,
    "].join('');",
    '',
    '/** The assembled keyword scan module (src/secrets/keyword-scan.wat). */',
    'export function keywordScanWasm(): Uint8Array {',
    "  return Buffer.from(base64, 'base64');",
    '}',
    '',
  ].join('\n');
}

describe('keyword-scan.wasm', () => {
  it('is the assembled keyword-scan.wat, byte for byte', async () => {
    const wasm = await assemble();
    await expect(moduleSource(wasm)).toMatchFileSnapshot('../../src/secrets/keyword-scan-wasm.ts');
    expect(Buffer.from(keywordScanWasm()).equals(Buffer.from(wasm))).toBe(true);
    expect(WebAssembly.validate(keywordScanWasm())).toBe(true);
  });
});
