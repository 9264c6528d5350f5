/**
 * The check contract (types.ts, capabilities.ts, observations.ts) is what checks and plugins code
 * against: it must not depend on the probes that implement it (issue 16). The probes import the
 * contract's types, never the other way round; this keeps the direction from regressing.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ENGINE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/engine');
const CONTRACT = ['types.ts', 'capabilities.ts', 'observations.ts'];

/** Every module specifier a file imports or re-exports from, type-only or not, static or dynamic. */
function specifiersOf(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
    if (match[1] !== undefined) found.push(match[1]);
  }
  return found;
}

describe('the check contract', () => {
  it('finds the specifiers it is meant to find', () => {
    expect(
      specifiersOf(
        "import type * as a from '../probes/a.js';\nexport type { B } from '../probes/b.js';\nconst c = import('../probes/c.js');",
      ),
    ).toEqual(['../probes/a.js', '../probes/b.js', '../probes/c.js']);
  });

  it.each(CONTRACT)('%s imports nothing from the probes', async (file) => {
    const specifiers = specifiersOf(await readFile(path.join(ENGINE, file), 'utf8'));
    expect(specifiers.length).toBeGreaterThan(0);
    expect(specifiers.filter((specifier) => specifier.includes('/probes/'))).toEqual([]);
  });

  it('observations.ts is a leaf: types from node only', async () => {
    const specifiers = specifiersOf(await readFile(path.join(ENGINE, 'observations.ts'), 'utf8'));
    expect(specifiers.every((specifier) => specifier.startsWith('node:') || specifier.startsWith('./'))).toBe(true);
  });
});
