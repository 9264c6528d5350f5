/**
 * Checks from outside the tree. A checklist entry names one with `plugin:` — a module file
 * (`./checks/cookie-flags.js`, relative to the checklist's folder, or absolute) or a package
 * installed next to the checklist (`secgate-check-cookies`, `@acme/secgate-checks/cookies`) — and
 * its id with `check:`, as for a built-in. The module is imported when the checklist loads, its
 * export judged by the same contract as a built-in check (check-shape.ts), and the file that was
 * imported is hashed, so the evidence names the code that judged.
 *
 * The rule that tells them apart is the key, never the value: `check:` is always an id, `plugin:`
 * always a module. (A built-in id such as `tls.protocols` is also a valid npm package name, so one
 * key holding both would be ambiguous.)
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkShapeProblems } from '../check-shape.js';
import type { CheckDefinition } from '../types.js';
import { type YamlSource, yamlData } from './yaml-source.js';

/** Where a plugin check came from: recorded in the evidence beside its verdict. */
export interface PluginOrigin {
  /** The module as the checklist names it. */
  specifier: string;
  /** The file imported, relative to the checklist's folder, with forward slashes. */
  path: string;
  /** sha256 of that file's bytes (the module's own file; what it imports in turn is not hashed). */
  sha256: string;
}

export interface LoadedPlugin {
  check: CheckDefinition;
  origin: PluginOrigin;
}

export type PluginLoad = { ok: true; plugin: LoadedPlugin } | { ok: false; message: string };

/** `./x.js`, `../x.js`, `/abs/x.js`: a module file. */
const FILE_SPECIFIER = /^(\.{1,2}\/|\/)/;
/** An npm package, optionally a path inside it: `name`, `name/sub`, `@scope/name`, `@scope/name/sub`. */
const PACKAGE_SPECIFIER = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*(\/[A-Za-z0-9._~/-]+)?$/;
const MODULE_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);
/**
 * A module's top level runs when it is imported; one that waits on something that never comes
 * (a top-level await on the network) would hold the gate before anything is probed.
 */
const IMPORT_TIMEOUT_MS = 30_000;
/** An import's error message is shown to its first line, this long at most: enough to fix it, never a dump. */
const MAX_REASON_CHARS = 200;

/**
 * Every plugin the checklist's entries name, by entry index (`checks[i]`), each imported once
 * however many entries name it. Read from the text as written: a plugin is not interpolated.
 */
export async function loadChecklistPlugins(
  source: YamlSource,
  baseDir: string,
  redact: (text: string) => string,
): Promise<Map<number, PluginLoad>> {
  const loads = new Map<number, PluginLoad>();
  // As plain data, so an entry written through a YAML alias names its plugin too.
  const data = yamlData(source);
  const checks = data !== null && typeof data === 'object' ? (data as { checks?: unknown }).checks : undefined;
  if (!Array.isArray(checks)) return loads;
  const bySpecifier = new Map<string, Promise<PluginLoad>>();
  for (const [index, item] of checks.entries()) {
    const specifier = item !== null && typeof item === 'object' ? (item as { plugin?: unknown }).plugin : undefined;
    if (typeof specifier !== 'string' || specifier === '') continue;
    if (specifier.includes('$')) {
      loads.set(index, {
        ok: false,
        message:
          // biome-ignore lint/suspicious/noTemplateCurlyInString: quotes checklist syntax, not a JS template
          'a plugin is named as written: ${VAR} is not interpolated here, so the evidence and the weakening guard name the code that judged',
      });
      continue;
    }
    let load = bySpecifier.get(specifier);
    if (!load) {
      load = loadPlugin(specifier, baseDir, redact);
      bySpecifier.set(specifier, load);
    }
    loads.set(index, await load);
  }
  return loads;
}

/** Resolves, reads, hashes and imports one plugin, and judges its export; every failure is a sentence. */
export async function loadPlugin(
  specifier: string,
  baseDir: string,
  redact: (text: string) => string = (text) => text,
  timeoutMs = IMPORT_TIMEOUT_MS,
): Promise<PluginLoad> {
  const resolved = resolvePlugin(specifier, baseDir);
  if ('message' in resolved) return { ok: false, message: resolved.message };
  const { file } = resolved;
  const shown = displayPath(baseDir, file);
  if (!MODULE_EXTENSIONS.has(path.extname(file))) {
    return {
      ok: false,
      message: `${shown} is not a JavaScript module (.js, .mjs or .cjs); compile a TypeScript check before naming it`,
    };
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder, not a module file' : code;
    return { ok: false, message: `cannot load plugin ${shown}: ${reason}` };
  }
  let module: Record<string, unknown>;
  try {
    module = await importWithin(pathToFileURL(file).href, timeoutMs);
  } catch (error) {
    if (error instanceof ImportTimeout) return { ok: false, message: `importing plugin ${shown}: ${error.message}` };
    // The module's own message may quote anything it read: secret-looking values are scrubbed.
    return { ok: false, message: `importing plugin ${shown} threw: ${firstLine(redact(errorText(error)))}` };
  }
  const exported = exportedCheck(module);
  if (exported === undefined) {
    return {
      ok: false,
      message: `plugin ${shown} exports no check: expected \`export default defineCheck({...})\` (or an export named check)`,
    };
  }
  const problems = checkShapeProblems(exported);
  if (problems.length > 0) {
    return { ok: false, message: `plugin ${shown} does not export a valid check: ${problems.join('; ')}` };
  }
  return {
    ok: true,
    plugin: {
      check: exported as CheckDefinition,
      origin: { specifier, path: shown, sha256: createHash('sha256').update(bytes).digest('hex') },
    },
  };
}

function resolvePlugin(specifier: string, baseDir: string): { file: string } | { message: string } {
  if (FILE_SPECIFIER.test(specifier)) return { file: path.resolve(baseDir, specifier) };
  if (!PACKAGE_SPECIFIER.test(specifier)) {
    return {
      message: `'${specifier}' is neither a module file (starting with ./, ../ or /) nor a package name (such as secgate-check-cookies or @acme/checks/cookies)`,
    };
  }
  let file: string;
  try {
    // Resolved as Node resolves it from a module in the checklist's folder: node_modules there or above.
    file = createRequire(path.join(baseDir, 'checklist.yaml')).resolve(specifier);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      return { message: `package '${specifier}' does not export that path (see its package.json "exports")` };
    }
    return {
      message: `cannot find package '${specifier}' from ${baseDir} (install it where the checklist is: npm install ${packageName(specifier)})`,
    };
  }
  if (!path.isAbsolute(file)) return { message: `'${specifier}' is a Node.js built-in module, not a check` };
  return { file };
}

class ImportTimeout extends Error {}

async function importWithin(url: string, timeoutMs: number): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new ImportTimeout(`its top level did not finish within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    timer.unref();
  });
  try {
    return (await Promise.race([import(url), timeout])) as Record<string, unknown>;
  } finally {
    clearTimeout(timer);
  }
}

/** The default export, a CommonJS module's exports (or their `default`), or an export named `check`. */
function exportedCheck(module: Record<string, unknown>): unknown {
  const fallback = module.default;
  if (fallback !== null && typeof fallback === 'object' && !('run' in fallback) && 'default' in fallback) {
    return (fallback as { default: unknown }).default;
  }
  return fallback ?? module.check;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function displayPath(baseDir: string, file: string): string {
  const relative = path.relative(baseDir, file).split(path.sep).join('/');
  return relative.startsWith('../') || relative === '..' || path.isAbsolute(relative) ? relative : `./${relative}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Cut after redaction: a secret cut in two would no longer be recognised, and its first part would show. */
function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > MAX_REASON_CHARS ? `${line.slice(0, MAX_REASON_CHARS)}…` : line;
}
