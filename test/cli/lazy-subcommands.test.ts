/**
 * Sub-commands are loaded only when they run (start-up time: issue 16). The
 * top-level help shows each one's summary without loading it, so the summary
 * written in main.ts must be the description the module itself gives.
 * bin/secgate runs the bundle scripts/bundle-cli.mjs makes (after `npm run build`):
 * what it loads up front is proven here too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
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

/** Every module `file` imports statically (`import … from "x"`, `export … from "x"`, `import "x"`), transitively. */
function staticImportClosure(file: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [file];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    if (files.has(current)) continue;
    files.add(current);
    const source = readFileSync(current, 'utf8');
    for (const match of source.matchAll(/^(?:import|export)\s+(?:[^'"()]*?\s+from\s+)?["']([^"']+)["'];?$/gm)) {
      const specifier = match[1] ?? '';
      if (specifier.startsWith('.')) pending.push(path.resolve(path.dirname(current), specifier));
      else packages.add(specifier);
    }
  }
  return { files, packages };
}

/** Runs bin/secgate with a resolve hook that lists every module URL the run loads (ES modules, any package). */
async function modulesLoadedBy(args: string[], cwd: string): Promise<{ exitCode: number; urls: string[] }> {
  const hooks = path.join(cwd, 'hooks.mjs');
  const register = path.join(cwd, 'register.mjs');
  const listing = path.join(cwd, 'loaded.txt');
  await writeFile(
    hooks,
    `import { appendFileSync } from 'node:fs';
let listing;
export function initialize(data) { listing = data.listing; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(listing, resolved.url + '\\n');
  return resolved;
}\n`,
  );
  await writeFile(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { listing: ${JSON.stringify(listing)} } });\n`,
  );
  const result = await execa(
    process.execPath,
    ['--import', pathToFileURL(register).href, path.resolve('bin/secgate'), ...args],
    {
      cwd,
      reject: false,
      env: { ...process.env, CI: 'true' },
    },
  );
  // No listing: the process never got as far as loading a module (its output says why).
  const loaded = await readFile(listing, 'utf8').catch(() => {
    throw new Error(`bin/secgate loaded nothing: ${result.stderr}`);
  });
  const urls = loaded.split('\n').filter(Boolean);
  return { exitCode: result.exitCode ?? -1, urls };
}

describe('the bundled CLI (dist/cli, what bin/secgate runs)', () => {
  const entry = path.resolve('dist/cli/secgate.js');
  const source = readFileSync(entry, 'utf8');
  const chunks = readdirSync('dist/cli/chunks').map((file) => readFileSync(path.join('dist/cli/chunks', file), 'utf8'));

  it('is what bin/secgate imports', () => {
    expect(readFileSync('bin/secgate', 'utf8')).toContain("import('../dist/cli/secgate.js')");
  });

  it('missing, it makes bin/secgate exit 3 (could not verify) with one line, never 1 (a control failed)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'secgate-nobundle-'));
    try {
      await mkdir(path.join(dir, 'bin'));
      await copyFile('bin/secgate', path.join(dir, 'bin', 'secgate'));
      await writeFile(path.join(dir, 'package.json'), '{"type": "module", "version": "0.0.0"}');
      const result = await execa(process.execPath, [path.join(dir, 'bin', 'secgate'), 'verify'], {
        cwd: dir,
        reject: false,
      });
      expect(result.exitCode).toBe(3);
      expect(result.stderr).toMatch(
        /^secgate: internal error: cannot load the CLI \(run npm run build\?\): .*secgate\.js/,
      );
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a sub-command's chunk that cannot be loaded is secgate failing: exit 3, one line, never 1", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'secgate-nochunk-'));
    try {
      await cp('dist/cli', path.join(dir, 'dist/cli'), { recursive: true });
      await mkdir(path.join(dir, 'bin'));
      await copyFile('bin/secgate', path.join(dir, 'bin', 'secgate'));
      await copyFile('package.json', path.join(dir, 'package.json'));
      await symlink(path.resolve('node_modules'), path.join(dir, 'node_modules'), 'dir');
      const chunk = /import\("\.\/chunks\/(verify-command-\w+\.js)"\)/.exec(source)?.[1] ?? '';
      await rm(path.join(dir, 'dist/cli/chunks', chunk));
      const result = await execa(process.execPath, [path.join(dir, 'bin', 'secgate'), 'verify'], {
        cwd: dir,
        reject: false,
      });
      expect(result.exitCode).toBe(3);
      expect(result.stderr).toMatch(/^secgate: internal error: Cannot find module .*verify-command-\w+\.js/);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('inlines zod, yaml, commander and chalk: no chunk imports them by name, and their code is inside', () => {
    for (const name of ['zod', 'yaml', 'commander', 'chalk']) {
      const byName = new RegExp(`(?:from |import\\(|require\\()["']${name}(?:/[^"']*)?["']`);
      expect(chunks.filter((chunk) => byName.test(chunk)).length, name).toBe(0);
      expect(
        chunks.some((chunk) => chunk.includes(`// node_modules/${name}/`)),
        name,
      ).toBe(true);
    }
    // The clients stay packages of node_modules, imported by name when a check needs them: not copies.
    expect(chunks.some((chunk) => /import\("undici"\)|from "undici"/.test(chunk))).toBe(true);
    expect(chunks.some((chunk) => chunk.includes('// node_modules/undici/'))).toBe(false);
  });

  it('imports node built-ins alone up front, and no sub-command', () => {
    const { files, packages } = staticImportClosure(entry);
    expect(files.size).toBeGreaterThan(1);
    expect([...packages].filter((name) => !name.startsWith('node:'))).toEqual([]);
    expect(source).toMatch(/await import\("\.\/chunks\/verify-command-\w+\.js"\)/);
    expect([...files].some((file) => path.basename(file).startsWith('verify-command-'))).toBe(false);
  });

  it('runs a TLS-only verify without loading one module from node_modules (no client, no library file)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'secgate-bundle-'));
    try {
      // A port nothing listens on: the checks end in error (exit 3) after loading all they need.
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as net.AddressInfo;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await writeFile(
        path.join(dir, 'checklist.yaml'),
        `version: 1\ntarget:\n  url: https://127.0.0.1:${port}\nchecks:\n  - check: tls.protocols\n  - check: tls.certificate\n`,
      );
      const { exitCode, urls } = await modulesLoadedBy(['verify'], dir);
      expect(exitCode).toBe(3);
      expect(urls.some((url) => /\/dist\/cli\/chunks\/protocols-\w+\.js$/.test(url))).toBe(true);
      expect(urls.filter((url) => url.includes('/node_modules/'))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
