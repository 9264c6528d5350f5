/**
 * Sub-commands are loaded only when they run (start-up time: issue 16). The
 * top-level help shows each one's summary without loading it, so the summary
 * written in main.ts must be the description the module itself gives.
 * bin/secgate runs the bundle scripts/bundle-cli.mjs makes (after `npm run build`):
 * what it loads up front is proven here too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { buildProgram, requestedSubcommand, SUBCOMMANDS } from '../../src/cli/main.js';

const silentIo: CliIo = {
  stdout: new Writable({ write: (_chunk, _encoding, done) => done() }),
  stderr: new Writable({ write: (_chunk, _encoding, done) => done() }),
  env: {},
  cwd: process.cwd(),
};

describe('lazy sub-commands', () => {
  it.each([
    [['node', 'secgate', '--version'], undefined],
    [['node', 'secgate'], undefined],
    [['node', 'secgate', 'verify', '-c', 'checklist.yaml'], 'verify'],
    [['node', 'secgate', '--help', 'evidence', 'render'], 'evidence'],
    [['node', 'secgate', 'help', 'keygen'], 'keygen'],
    [['node', 'secgate', 'help'], undefined],
  ])('%j asks for %s', (argv, expected) => {
    expect(requestedSubcommand(argv)).toBe(expected);
  });

  it('the summary of every sub-command is the description its module registers', async () => {
    const full = await buildProgram(silentIo, () => {}, [], 'all');
    const registered = Object.fromEntries(full.commands.map((command) => [command.name(), command.description()]));
    expect(Object.fromEntries(SUBCOMMANDS.map((subcommand) => [subcommand.name, subcommand.summary]))).toEqual(
      registered,
    );
  });

  it('registers only the requested sub-command in full; the others are a name and a summary', async () => {
    const program = await buildProgram(silentIo, () => {}, ['node', 'secgate', 'keygen', '--out', 'x']);
    const options = Object.fromEntries(program.commands.map((command) => [command.name(), command.options.length]));
    expect(options.keygen).toBeGreaterThan(0);
    expect(options.verify).toBe(0);
    expect(options.service).toBe(0);
  });
});

/** Every module `file` imports statically (`import … from "x"` / `import "x"`), transitively; packages by name. */
function staticImportClosure(file: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [file];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    if (files.has(current)) continue;
    files.add(current);
    const source = readFileSync(current, 'utf8');
    for (const match of source.matchAll(/^import\s+(?:[^'"()]*?\s+from\s+)?["']([^"']+)["'];?$/gm)) {
      const specifier = match[1] ?? '';
      if (specifier.startsWith('.')) pending.push(path.resolve(path.dirname(current), specifier));
      else packages.add(specifier);
    }
  }
  return { files, packages };
}

describe('the bundled CLI (dist/cli, what bin/secgate runs)', () => {
  const entry = path.resolve('dist/cli/secgate.js');
  const source = readFileSync(entry, 'utf8');

  it('is what bin/secgate imports', () => {
    expect(readFileSync('bin/secgate', 'utf8')).toContain("import('../dist/cli/secgate.js')");
  });

  it('inlines the start-up libraries: up front it imports node built-ins alone, and no sub-command', () => {
    const { files, packages } = staticImportClosure(entry);
    expect(files.size).toBeGreaterThan(1);
    expect([...packages].filter((name) => !name.startsWith('node:'))).toEqual([]);
    expect(source).toMatch(/await import\("\.\/chunks\/verify-command-\w+\.js"\)/);
    expect([...files].some((file) => path.basename(file).startsWith('verify-command-'))).toBe(false);
  });

  it("loads verify's sub-command without a client: undici, pg, execa and the rest wait for the check that uses them", () => {
    const verifyChunk = /import\("(\.\/chunks\/verify-command-\w+\.js)"\)/.exec(source)?.[1] ?? '';
    const { packages } = staticImportClosure(path.resolve('dist/cli', verifyChunk));
    expect([...packages].filter((name) => !name.startsWith('node:'))).toEqual([]);
    // …and they stay packages of node_modules, imported by name, not copies inside the bundle.
    const chunks = readdirSync('dist/cli/chunks').map((file) =>
      readFileSync(path.join('dist/cli/chunks', file), 'utf8'),
    );
    expect(chunks.some((chunk) => /import\("undici"\)|from "undici"/.test(chunk))).toBe(true);
    expect(chunks.some((chunk) => chunk.includes('// node_modules/undici/'))).toBe(false);
  });
});
