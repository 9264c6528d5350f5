/**
 * README.md's "Verify evidence without secgate" steps, read from the README
 * itself, so the tests run exactly what a reader would copy: with `set -e`,
 * and only the verify line for the key's type.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function readmeRecipe(keyType: 'ed25519' | 'ecdsa-p256'): string {
  const readme = readFileSync(path.resolve('README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Verify evidence without secgate'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no sh block under "Verify evidence without secgate"');
  const lines = block
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .filter((line) => {
      if (line.startsWith('openssl pkeyutl -verify')) return keyType === 'ed25519';
      if (line.startsWith('openssl dgst -sha256 -verify')) return keyType === 'ecdsa-p256';
      return true;
    });
  return ['set -e', ...lines].join('\n');
}
