/**
 * The second half of `npm run build`: bundles the compiled CLI (dist/src/cli/main.js, from tsc) into
 * dist/cli/secgate.js, which bin/secgate runs.
 *
 * Why: on Node 20 every ES module is resolved, read and compiled on each start (there is no compile cache
 * before Node 22), and a `secgate verify` loads about 200 of them before its first probe — zod alone is 99
 * files. One bundle with the start-up libraries inlined and tree-shaken takes a TLS-only gate from about
 * 1.0× to about 0.8× sslscan's wall time (bench/results/startup.md).
 *
 * What is inlined: our own code and the pure-JS libraries every run loads before it probes (INLINED). Every
 * other package stays an import of node_modules, so the heavy clients (undici, pg, execa, fastify) still load
 * only when a check or sub-command needs them, and a dependency added later is external by default. The
 * library exports (`secgate`, `secgate/testing`) stay tsc's output, so a plugin's `import { z } from 'secgate'`
 * is node_modules' zod while the engine reading the plugin's schemas is the bundle's copy: zod v4 is made for
 * that (instanceof goes by trait names, its registry and config live on globalThis), provided both are the same
 * release — which is why package.json pins zod to one exact version.
 *
 *   node scripts/bundle-cli.mjs        (after tsc -p tsconfig.build.json)
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const INLINED = new Set(['zod', 'yaml', 'commander', 'chalk']);
const OUT_DIR = 'dist/cli';
/**
 * Every file the bundle was made from, with its SHA-256: a `tsc` alone (or an upgraded zod) changes dist/src
 * but not the bundle bin/secgate runs, and the test setup (test/support/global-setup.ts) refuses such a stale
 * bundle instead of testing old code.
 */
const INPUTS_FILE = `${OUT_DIR}/inputs.json`;

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
function packageNameOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Every bare import that is not an INLINED package stays external (node: built-ins included); `#…` are a package's own imports map. */
const externalPackages = {
  name: 'external-packages',
  setup(builder) {
    builder.onResolve({ filter: /^[^./#]/ }, (args) =>
      INLINED.has(packageNameOf(args.path)) ? undefined : { path: args.path, external: true },
    );
  },
};

// Chunk names carry content hashes: a stale chunk from an earlier build would otherwise stay and be shipped.
rmSync(OUT_DIR, { recursive: true, force: true });
const result = await build({
  metafile: true,
  entryPoints: { secgate: 'dist/src/cli/main.js' },
  outdir: OUT_DIR,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  // Sub-commands and checks are imported on demand in the sources; splitting keeps them on demand.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  plugins: [externalPackages],
  // yaml and commander are CommonJS: their require() of node built-ins needs a require in an ES module.
  banner: {
    js: "import { createRequire as __secgateCreateRequire } from 'node:module'; const require = __secgateCreateRequire(import.meta.url);",
  },
  // No maps: composed with tsc's (which inline the TypeScript) they would add 4 MB to the package for stack
  // traces secgate never prints; dist/src keeps tsc's output and maps, for a debugger.
  sourcemap: false,
  logLevel: 'warning',
});

const inputs = Object.fromEntries(
  Object.keys(result.metafile.inputs)
    .sort()
    .map((file) => [file, createHash('sha256').update(readFileSync(file)).digest('hex')]),
);
writeFileSync(INPUTS_FILE, `${JSON.stringify(inputs, null, 1)}\n`);
