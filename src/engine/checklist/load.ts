/**
 * Loads checklist.yaml: YAML with source positions → `${VAR}` interpolation →
 * zod validation (unknown keys rejected everywhere) → each check's own params.
 * Every problem names file:line:column, the key path and what was expected.
 * Nothing here touches the network: a checklist is fully validated before
 * anything is probed.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { type Document, isPair, isScalar, isSeq, type Node, visit } from 'yaml';
import { requirementProblems } from '../check-shape.js';
import { createSecretRedactor } from '../secrets.js';
import type { Severity } from '../severity.js';
import type { CheckDefinition, ChecklistRequirement } from '../types.js';
import { ChecklistError, type ChecklistProblem, formatProblem } from './errors.js';
import {
  type FleetDeclaration,
  inventoryFile,
  mergedLocate,
  mergeTarget,
  positionKey,
  readFleetDeclaration,
  sectionKeyPath,
  sectionNode,
  TARGET_VARIABLE,
} from './fleet.js';
import { namedFileProblems } from './named-files.js';
import { type LoadedPlugin, loadChecklistPlugins, type PluginLoad, type PluginOrigin } from './plugins.js';
import { readAtMost, readInventoryBytes } from './read-bounded.js';
import { type Checklist, checklistSchema } from './schema.js';
import { closestMatches } from './suggest.js';
import {
  formatKeyPath,
  type KeyPath,
  type Locate,
  parseYamlSource,
  problemAt,
  type YamlSource,
  yamlData,
} from './yaml-source.js';
import { zodProblems } from './zod-problems.js';

export type { Locate } from './yaml-source.js';

export interface PlannedEntry {
  /** The entry's id: its own `id`, or the check id. Unique within a checklist. */
  id: string;
  check: CheckDefinition;
  params: unknown;
  timeoutMs: number;
  /** Never left out by --only / --skip (the weakening guard). */
  alwaysRun?: boolean;
  /** The entry's own `severity:`, overriding the check's (see severityOf). */
  severity?: Severity;
  /** Line of the entry in the checklist, where reports point for a control (absent for the guard). */
  line?: number;
  /** For a check loaded with `plugin:`: the module, the file imported and its sha256 (recorded in the evidence). */
  plugin?: PluginOrigin;
}

export interface LoadedChecklist {
  /** Absolute path of the checklist file, or `<stdin>` for a checklist read from standard input. */
  file: string;
  /** The directory relative paths in the checklist are resolved against: the file's, or the working directory for stdin. */
  baseDir: string;
  /** sha256 of the file's bytes, the evidence subject. */
  sha256: string;
  /** The text as written, before `${VAR}` interpolation (what the weakening guard compares). */
  text: string;
  checklist: Checklist;
  entries: PlannedEntry[];
  /** Values interpolated from secret-looking variables, to scrub from all output. */
  secretValues: string[];
  /** Where a key path is in the text, for problems found after parsing (a named file that is unusable). */
  locate: Locate;
  /** Set when the checklist declares targets (a fleet). */
  fleet?: FleetInfo;
}

export interface FleetInfo {
  /** Every target the checklist or its inventory declares, in order. */
  targets: string[];
  /** The target this load selected (`verify --target`), its position in the inventory and its variables. */
  target?: string;
  index?: number;
  variables?: Record<string, string>;
  /** The inventory file the targets come from: as the checklist names it, and its bytes' sha256. */
  inventory?: { path: string; sha256: string };
}

export interface LoadOptions {
  env: Readonly<Record<string, string | undefined>>;
  registry: readonly CheckDefinition[];
  /**
   * Instead of `registry`, for checklistFromBytes (and loadChecklist): the registry for the check ids and
   * plugin entries the checklist names, resolved once its YAML is parsed, so a CLI run imports only the
   * check modules it needs.
   */
  resolveRegistry?: (named: NamedChecks) => Promise<readonly CheckDefinition[]>;
  /** Where relative paths resolve; the checklist file's directory by default. */
  baseDir?: string;
  /** For a checklist that declares targets: the one to load (`verify --target`); all are validated without it. */
  target?: string;
  /**
   * The plugins the entries name (`plugin:`), by entry index, imported beforehand: importing is
   * asynchronous, parsing is not. checklistFromBytes (and loadChecklist) fill it in.
   */
  plugins?: ReadonlyMap<number, PluginLoad>;
}

/**
 * A checklist is a page or two. The bound keeps a hostile or mistaken file (a
 * log, a dump, a generated monster) from costing minutes and gigabytes before
 * it is rejected: it is read no further than this.
 */
export const MAX_CHECKLIST_BYTES = 1024 * 1024;
/** Ids of the gate's own evidence records (the weakening guard, the cleanup); no entry may take one. */
const RESERVED_ID_PREFIX = 'secgate.';
/** Problems listed one by one; a checklist with thousands of bad entries gets a count for the rest. */
const MAX_LISTED_PROBLEMS = 20;

/** Variable names whose values must never be shown. */
const SECRET_VARIABLE = /PASS|SECRET|TOKEN|KEY|CREDENTIAL|DATABASE_URL|TOTP/i;
/** `${VAR}`, `${VAR:-default}` (default when unset or empty), and `$$` for a literal dollar. */
const INTERPOLATION = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Values of every environment variable whose name marks it as a secret. */
export function secretLookingValues(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env).flatMap(([name, value]) => (value && SECRET_VARIABLE.test(name) ? [value] : []));
}

async function readChecklistBytes(absolute: string): Promise<Buffer> {
  try {
    return await readAtMost(absolute, MAX_CHECKLIST_BYTES + 1);
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new ChecklistError([
      { file: absolute, line: 1, column: 1, keyPath: '', message: `cannot read the checklist (${reason})` },
    ]);
  }
}

export async function loadChecklist(file: string, options: LoadOptions): Promise<LoadedChecklist> {
  const absolute = path.resolve(file);
  const bytes = await readChecklistBytes(absolute);
  return checklistFromBytes(bytes, absolute, options);
}

/** A checklist over the size bound is refused before it is parsed (an alias bomb, or the wrong file). */
function refuseOversized(bytes: Buffer, file: string): void {
  if (bytes.length <= MAX_CHECKLIST_BYTES) return;
  throw new ChecklistError([
    {
      file,
      line: 1,
      column: 1,
      keyPath: '',
      message: `the checklist is larger than ${MAX_CHECKLIST_BYTES / 1024 / 1024} MiB; it was not read further (is this the right file?)`,
    },
  ]);
}

/**
 * A checklist from its bytes (a file's, or standard input's): bounded in size,
 * parsed, validated, and every file it names (trust anchor, baselines) read
 * and checked, so that a wrong file is exit 2 now rather than an error mid-run.
 */
export async function checklistFromBytes(bytes: Buffer, file: string, options: LoadOptions): Promise<LoadedChecklist> {
  refuseOversized(bytes, file);
  const text = bytes.toString('utf8');
  const source = parseYamlSource(text, file);
  const [plugins, registry] = await Promise.all([
    loadChecklistPlugins(source, options.baseDir ?? path.dirname(file), (message) =>
      createSecretRedactor(secretLookingValues(options.env)).redact(message),
    ),
    options.resolveRegistry ? options.resolveRegistry(namedChecks(source)) : options.registry,
  ]);
  // The evidence names the file's bytes, not their decoding (a BOM or an invalid sequence would differ).
  const loaded = { ...parseChecklist(text, file, { ...options, registry, plugins }), sha256: sha256Hex(bytes) };
  const problems = await namedFileProblems(loaded);
  if (problems.length > 0) throw new ChecklistError(problems);
  return loaded;
}

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** What a checklist's `checks:` name, read before validation (anything unexpected is left to it). */
export interface NamedChecks {
  /** The `check:` values of the entries, as written. */
  ids: string[];
  /** Whether an entry loads its check from a module (`plugin:`), or the list could not be read as one. */
  needsEveryCheck: boolean;
}

function namedChecks(source: YamlSource): NamedChecks {
  let data: unknown;
  try {
    data = yamlData(source);
  } catch {
    return { ids: [], needsEveryCheck: true };
  }
  const checks = data !== null && typeof data === 'object' ? (data as { checks?: unknown }).checks : undefined;
  if (!Array.isArray(checks)) return { ids: [], needsEveryCheck: true };
  const ids: string[] = [];
  let needsEveryCheck = false;
  for (const item of checks) {
    const entry = item !== null && typeof item === 'object' ? (item as { check?: unknown; plugin?: unknown }) : {};
    if (typeof entry.check === 'string') ids.push(entry.check);
    else needsEveryCheck = true;
    if (entry.plugin !== undefined) needsEveryCheck = true;
  }
  return { ids, needsEveryCheck };
}

/**
 * The checks a checklist's `plugin:` entries load, each once, read without
 * interpolating anything: what `secgate list` and `explain --checklist` show
 * beside the built-ins. A plugin that cannot load, or that takes a built-in's
 * id, is a ChecklistError at its entry's file:line:column, as in `verify`.
 */
export async function loadPluginChecks(
  file: string,
  builtIns: readonly CheckDefinition[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<LoadedPlugin[]> {
  const absolute = path.resolve(file);
  const bytes = await readChecklistBytes(absolute);
  refuseOversized(bytes, absolute);
  const source = parseYamlSource(bytes.toString('utf8'), absolute);
  const redactor = createSecretRedactor(secretLookingValues(env));
  const loads = await loadChecklistPlugins(source, path.dirname(absolute), (message) => redactor.redact(message));
  // Each plugin entry is held to what verify holds it to (pluginCheck): its `check:` id, the module's id, no
  // built-in's id, one module per id.
  const data = yamlData(source);
  const entries = data !== null && typeof data === 'object' ? (data as { checks?: unknown }).checks : undefined;
  const problems: ChecklistProblem[] = [];
  const byId = new Map<string, LoadedPlugin>();
  for (const [index, load] of loads) {
    const entry = Array.isArray(entries) ? (entries[index] as { check?: unknown } | null) : undefined;
    const problem: EntryProblem = (key, message) => problems.push(problemAt(source, ['checks', index, key], message));
    const id = entry?.check;
    if (typeof id !== 'string') {
      problem('check', 'a plugin entry names its check id with check:, beside plugin:');
      continue;
    }
    const resolved = pluginCheck(id, load, builtIns, problem);
    if (!resolved) continue;
    const other = byId.get(id);
    if (other !== undefined && other.origin.path !== resolved.plugin.path) {
      problem('plugin', idExportedTwice(id, resolved.plugin.path, other.origin.path));
      continue;
    }
    byId.set(id, { check: resolved.check, origin: resolved.plugin });
  }
  if (problems.length > 0) throw checklistError(problems);
  return [...byId.values()];
}

/**
 * The targets a checklist declares, read without interpolating anything: what
 * a CI planner or a join needs (names, the checklist's digest, the inventory
 * file), with none of the targets' secrets in its environment. A mistake in
 * the declaration is a ChecklistError at its file:line:column.
 */
export async function loadFleetInventory(
  file: string,
): Promise<{ file: string; sha256: string; targets: string[]; inventory?: { path: string; sha256: string } }> {
  const absolute = path.resolve(file);
  const bytes = await readChecklistBytes(absolute);
  const source = parseYamlSource(bytes.toString('utf8'), absolute);
  const { declaration, problems } = readFleetDeclaration(
    source,
    (written) => readInventoryBytes(inventoryFile(path.dirname(absolute), written)),
    parseYamlSource,
  );
  if (problems.length > 0) throw checklistError(problems);
  if (!declaration) {
    throw new ChecklistError([problemAt(source, [], 'the checklist declares no targets: (see README, Fleets)')]);
  }
  return {
    file: absolute,
    sha256: sha256Hex(bytes),
    targets: declaration.names,
    ...(declaration.inventory ? { inventory: declaration.inventory } : {}),
  };
}

export function parseChecklist(text: string, file: string, options: LoadOptions): LoadedChecklist {
  const source = parseYamlSource(text, file);
  const baseDir = options.baseDir ?? path.dirname(file);
  const { declaration, problems } = readFleetDeclaration(
    source,
    (written) => readInventoryBytes(inventoryFile(baseDir, written)),
    parseYamlSource,
  );
  if (problems.length > 0) throw checklistError(problems);
  const common = { file, baseDir, sha256: sha256Hex(text), text };
  if (!declaration) return { ...common, ...validateChecklist(source, source.document, undefined, options) };
  return { ...common, ...validateFleetTarget(source, declaration, options) };
}

/**
 * The checklist as the selected target sees it (`verify --target`), or — when
 * none is selected — every target validated and the first one returned, so
 * that a mistake in any of them is found when the checklist loads.
 */
function validateFleetTarget(
  source: YamlSource,
  declaration: FleetDeclaration,
  options: LoadOptions,
): Omit<LoadedChecklist, 'file' | 'baseDir' | 'sha256' | 'text'> {
  const selected = options.target === undefined ? declaration.names : [options.target];
  if (options.target !== undefined && !declaration.sections.has(options.target)) {
    const suggestions = closestMatches(options.target, declaration.names);
    const hint = suggestions.length > 0 ? `did you mean '${suggestions[0]}'? ` : '';
    throw new ChecklistError([
      problemAt(
        declaration.source,
        ['targets'],
        `no target named '${options.target}' (${hint}expected one of: ${declaration.names.join(', ')})`,
        true,
      ),
    ]);
  }
  const results: ReturnType<typeof validateChecklist>[] = [];
  const problems: ChecklistProblem[] = [];
  for (const name of selected) {
    const base = source.document.clone();
    base.delete('targets');
    base.delete('inventory');
    try {
      results.push(validateChecklist(source, base, { declaration, name }, options));
    } catch (error) {
      if (!(error instanceof ChecklistError)) throw error;
      problems.push(...error.problems);
    }
  }
  const first = results[0];
  // A mistake outside the targets' mappings is found once per target: it is reported once.
  const unique = [...new Map(problems.map((problem) => [formatProblem(problem), problem])).values()];
  if (unique.length > 0 || !first) throw checklistError(unique);
  const name = selected[0] ?? '';
  const variables = declaration.sections.get(name)?.variables ?? {};
  return {
    ...first,
    fleet: {
      targets: declaration.names,
      ...(options.target !== undefined ? { target: name, index: declaration.names.indexOf(name), variables } : {}),
      ...(declaration.inventory ? { inventory: declaration.inventory } : {}),
    },
  };
}

/**
 * `${VAR}` interpolated, then the schema, each check's parameters and the
 * waivers judged. For a fleet target, its variables come before the
 * environment's, and its own mapping (interpolated apart) is merged over the
 * checklist; a problem in a value it set is located in its mapping.
 */
function validateChecklist(
  source: YamlSource,
  document: Document,
  fleetTarget: { declaration: FleetDeclaration; name: string } | undefined,
  options: LoadOptions,
): Pick<LoadedChecklist, 'checklist' | 'entries' | 'secretValues' | 'locate'> {
  const section = fleetTarget
    ? (sectionNode(fleetTarget.declaration, fleetTarget.name)?.clone() as Node | undefined)
    : undefined;
  const variables = fleetTarget?.declaration.sections.get(fleetTarget.name)?.variables ?? {};
  // `${SECGATE_TARGET}` is the target's name, so one checklist line can differ per target.
  const env = { ...options.env, ...(fleetTarget ? { [TARGET_VARIABLE]: fleetTarget.name } : {}), ...variables };
  const sectionLocate: Locate = (keyPath, pointAtKey) =>
    fleetTarget
      ? fleetTarget.declaration.source.locate([...sectionKeyPath(fleetTarget.name), ...keyPath], pointAtKey)
      : source.locate(keyPath, pointAtKey);
  const secretValues: string[] = Object.entries(variables).flatMap(([name, value]) =>
    SECRET_VARIABLE.test(name) ? [value] : [],
  );
  // Key paths whose value came from the environment: error messages never echo those values.
  const interpolated = new Set<string>();
  const interpolationProblems = interpolate(document, env, secretValues, source.locate, interpolated);
  if (section) {
    const sectionProblems = interpolate(section, env, secretValues, sectionLocate, interpolated);
    const name = fleetTarget?.name ?? '';
    interpolationProblems.push(
      ...sectionProblems.map((problem) => ({ ...problem, keyPath: `targets.${name}.${problem.keyPath}` })),
    );
  }
  if (interpolationProblems.length > 0) throw checklistError(interpolationProblems);

  const baseData = yamlData(source, document);
  if (baseData === null || typeof baseData !== 'object' || Array.isArray(baseData)) {
    throw new ChecklistError([
      { ...source.at(0), keyPath: '', message: 'expected a mapping with version, target and checks' },
    ]);
  }
  const sectionData =
    section && fleetTarget ? (yamlData(fleetTarget.declaration.source, section) as Record<string, unknown>) : {};
  const data = fleetTarget ? mergeTarget(baseData as Record<string, unknown>, sectionData ?? {}) : baseData;
  // Positions inside the target's mapping: their problems name the target (`targets.eu.target.url`).
  const inSection = new Set<string>();
  const locate = fleetTarget ? mergedLocate(source.locate, sectionData, sectionLocate, inSection) : source.locate;
  const named = (problems: ChecklistProblem[]) =>
    checklistError(
      problems.map((problem) =>
        fleetTarget && inSection.has(positionKey(problem))
          ? { ...problem, keyPath: `targets.${fleetTarget.name}.${problem.keyPath}` }
          : problem,
      ),
    );
  const parsed = checklistSchema.safeParse(data);
  if (!parsed.success) {
    throw named(zodProblems(parsed.error, checklistSchema, [], data, locate, interpolated));
  }
  const checklist = parsed.data;
  const problems: ChecklistProblem[] = [];
  const entries = planEntries(checklist, { ...options, env }, data, locate, problems, interpolated);
  problems.push(...waiverProblems(checklist, entries, locate));
  if (problems.length > 0) throw named(problems);
  return { checklist, entries, secretValues, locate };
}

/** A ChecklistError listing the first problems and counting the rest. */
function checklistError(problems: ChecklistProblem[]): ChecklistError {
  if (problems.length <= MAX_LISTED_PROBLEMS) return new ChecklistError(problems);
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
  const last = listed[listed.length - 1];
  return new ChecklistError([
    ...listed,
    {
      file: last?.file ?? '',
      line: last?.line ?? 1,
      column: last?.column ?? 1,
      keyPath: '',
      message: `… and ${problems.length - MAX_LISTED_PROBLEMS} more problems`,
    },
  ]);
}

function planEntries(
  checklist: Checklist,
  { registry, env, plugins }: LoadOptions,
  data: object,
  locate: Locate,
  problems: ChecklistProblem[],
  interpolated: ReadonlySet<string>,
): PlannedEntry[] {
  const entries: PlannedEntry[] = [];
  const seen = new Map<string, number>();
  // One id, one module: two files claiming an id would leave the evidence unable to say which judged.
  const pluginFiles = new Map<string, string>();
  checklist.checks.forEach((entry, index) => {
    const problem = (key: string, message: string) =>
      problems.push({ ...locate(['checks', index, key]), keyPath: `checks[${index}].${key}`, message });
    const resolved =
      entry.plugin === undefined
        ? builtInCheck(entry.check, registry, problem)
        : pluginCheck(entry.check, plugins?.get(index), registry, problem);
    if (!resolved) return;
    const { check, plugin } = resolved;
    if (plugin) {
      const other = pluginFiles.get(check.id);
      if (other !== undefined && other !== plugin.path) {
        problem('plugin', idExportedTwice(check.id, plugin.path, other));
        return;
      }
      pluginFiles.set(check.id, plugin.path);
    }
    const id = entry.id ?? entry.check;
    if (id.startsWith(RESERVED_ID_PREFIX)) {
      // The gate's own records (secgate.baseline, secgate.cleanup): an entry of that name would stand beside
      // or for them in the evidence, and secgate.baseline waivers always apply.
      problems.push({
        ...locate(['checks', index, entry.id ? 'id' : 'check']),
        keyPath: `checks[${index}]`,
        message: `'${id}': ids starting with ${RESERVED_ID_PREFIX} are the gate's own records; choose another`,
      });
      return;
    }
    const first = seen.get(id);
    if (first !== undefined) {
      problems.push({
        ...locate(['checks', index, entry.id ? 'id' : 'check']),
        keyPath: `checks[${index}]`,
        message: `duplicate id '${id}' (first used by checks[${first}]); give one of them a distinct 'id:'`,
      });
      return;
    }
    seen.set(id, index);
    const params = check.params.safeParse(entry.with ?? {});
    if (!params.success) {
      problems.push(...zodProblems(params.error, check.params, ['checks', index, 'with'], data, locate, interpolated));
      return;
    }
    const requirements = declaredRequirements(check, params.data);
    if ('problem' in requirements) {
      problem('check', `${check.id}: ${requirements.problem}`);
      return;
    }
    for (const requirement of requirements.list) {
      if (isProvided(checklist, requirement, env)) continue;
      problems.push({
        ...locate(['checks', index, 'check']),
        keyPath: `checks[${index}]`,
        message: requirementMessage(id, requirement),
      });
    }
    const declared = declaredDeadline(check, params.data);
    if ('problem' in declared) {
      problem('check', `${check.id}: ${declared.problem}`);
      return;
    }
    const ownDeadline = declared.ms;
    if (entry.timeout_ms !== undefined && ownDeadline !== undefined && entry.timeout_ms < ownDeadline) {
      problems.push({
        ...locate(['checks', index, 'timeout_ms']),
        keyPath: `checks[${index}].timeout_ms`,
        message: `${entry.timeout_ms} ms ends the check before its own limits can (${ownDeadline} ms by its parameters: a timeout and the grace to stop what it started); raise it or lower those`,
      });
      return;
    }
    entries.push({
      id,
      check,
      params: params.data,
      timeoutMs: entryDeadline(entry.timeout_ms, checklist.settings.check_timeout_ms, ownDeadline),
      ...(entry.severity ? { severity: entry.severity } : {}),
      line: locate(['checks', index]).line,
      ...(plugin ? { plugin } : {}),
    });
  });
  return entries;
}

/** What a check takes past its own limits to report: the stop, the evidence of what it ran. */
export const DEADLINE_MARGIN_MS = 10_000;

/**
 * Pure: the engine's deadline for one entry. The entry's own `timeout_ms` when given (checked against the
 * check's needs at load); else the settings' default, raised to what the check's own parameters allow it
 * plus a margin: a test suite with `timeout_ms: 300000` must be stopped by its own limit, as the evidence says.
 */
export function entryDeadline(entryMs: number | undefined, settingsMs: number, ownMs: number | undefined): number {
  if (entryMs !== undefined) return entryMs;
  return ownMs === undefined ? settingsMs : Math.max(settingsMs, ownMs + DEADLINE_MARGIN_MS);
}

type EntryProblem = (key: 'check' | 'plugin', message: string) => void;

function builtInCheck(
  id: string,
  registry: readonly CheckDefinition[],
  problem: EntryProblem,
): { check: CheckDefinition; plugin?: undefined } | undefined {
  const check = registry.find((candidate) => candidate.id === id);
  if (check) return { check };
  const suggestions = closestMatches(
    id,
    registry.map((candidate) => candidate.id),
  );
  const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((known) => `'${known}'`).join(' or ')}?` : '';
  problem(
    'check',
    `unknown check '${id}'${hint} (secgate list shows them all); a check of your own is named with plugin: beside check:`,
  );
  return undefined;
}

/** One id, one module: two files claiming an id would leave the evidence unable to say which judged. */
function idExportedTwice(id: string, file: string, otherFile: string): string {
  return `${file} exports check '${id}', which ${otherFile} in this checklist exports too`;
}

/** The check a `plugin:` entry loaded, held to its `check:` id; a built-in is never replaced. */
function pluginCheck(
  id: string,
  load: PluginLoad | undefined,
  registry: readonly CheckDefinition[],
  problem: EntryProblem,
): { check: CheckDefinition; plugin: PluginOrigin } | undefined {
  if (registry.some((candidate) => candidate.id === id)) {
    problem(
      'check',
      `'${id}' is a built-in check: a plugin cannot replace it (give the plugin's check an id of its own)`,
    );
    return undefined;
  }
  if (!load) {
    problem('plugin', 'plugins are imported by loadChecklist / checklistFromBytes; this checklist was only parsed');
    return undefined;
  }
  if (!load.ok) {
    problem('plugin', load.message);
    return undefined;
  }
  const { check, origin } = load.plugin;
  if (registry.some((candidate) => candidate.id === check.id)) {
    problem(
      'plugin',
      `${origin.path} exports check '${check.id}', a built-in check's id: a plugin cannot replace a built-in`,
    );
    return undefined;
  }
  if (check.id !== id) {
    problem('plugin', `${origin.path} exports check '${check.id}', but this entry names check: ${id}`);
    return undefined;
  }
  return { check, plugin: origin };
}

/** Node's longest timer: a longer deadline would fire at once, ending the check before it starts. */
const MAX_DEADLINE_MS = 2 ** 31 - 1 - DEADLINE_MARGIN_MS;

/** The longest a check says it takes by its parameters, held to a positive timer length (a plugin's may be anything). */
function declaredDeadline(check: CheckDefinition, params: unknown): { ms: number | undefined } | { problem: string } {
  let ms: unknown;
  try {
    ms = check.deadlineMs?.(params);
  } catch (error) {
    return { problem: `deadlineMs() threw: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` };
  }
  if (ms === undefined) return { ms };
  if (typeof ms === 'number' && Number.isFinite(ms) && ms > 0 && ms <= MAX_DEADLINE_MS) return { ms };
  return { problem: `its deadlineMs gave ${String(ms)}, not a positive number of ms up to ${MAX_DEADLINE_MS}` };
}

/** The requirements a check declares for its parameters, held to the known kinds (a plugin's may be anything). */
function declaredRequirements(
  check: CheckDefinition,
  params: unknown,
): { list: readonly ChecklistRequirement[] } | { problem: string } {
  let list: unknown;
  try {
    list = check.requires?.(params) ?? [];
  } catch (error) {
    return { problem: `requires() threw: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` };
  }
  const wrong = requirementProblems(list);
  return wrong.length > 0 ? { problem: wrong.join('; ') } : { list: list as readonly ChecklistRequirement[] };
}

function requirementMessage(id: string, requirement: ChecklistRequirement): string {
  if (requirement.startsWith('env:')) {
    return `${id} needs the environment variable ${requirement.slice('env:'.length)} (named in its with:), which is not set`;
  }
  if (requirement.startsWith('account:')) {
    const name = requirement.slice('account:'.length);
    const where = name === 'probe_account' || name === 'no_mfa_account' ? `auth.${name}` : `auth.accounts.${name}`;
    return `${id} needs ${where} in the checklist, which does not set it`;
  }
  return `${id} needs ${requirement} in the checklist, which does not set it`;
}

function isProvided(
  checklist: Checklist,
  requirement: ChecklistRequirement,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  switch (requirement) {
    case 'database':
      return checklist.database !== undefined;
    case 'target.http_url':
      return checklist.target.http_url !== undefined;
    case 'auth.probe_account':
      return checklist.auth?.probe_account !== undefined;
    case 'auth.no_mfa_account':
      return checklist.auth?.no_mfa_account !== undefined;
    case 'auth.logout':
      return checklist.auth?.logout !== undefined;
    case 'auth.sessions.expire_sql':
      return checklist.auth?.sessions?.expire_sql !== undefined;
    default: {
      if (requirement.startsWith('account:')) {
        const name = requirement.slice('account:'.length);
        if (name === 'probe_account') return checklist.auth?.probe_account !== undefined;
        if (name === 'no_mfa_account') return checklist.auth?.no_mfa_account !== undefined;
        return checklist.auth?.accounts[name] !== undefined;
      }
      // `env?:NAME`: read when set; the check itself judges it unset (repo.secret-strength fails on it).
      if (requirement.startsWith('env?:')) return true;
      return Boolean(env[requirement.slice('env:'.length)]);
    }
  }
}

function waiverProblems(checklist: Checklist, entries: PlannedEntry[], locate: Locate): ChecklistProblem[] {
  const problems: ChecklistProblem[] = [];
  // secgate.baseline is the guard that verify --baseline-ref adds; waiving it accepts a deliberate weakening.
  const ids = [...entries.map((entry) => entry.id), 'secgate.baseline'];
  checklist.waivers.forEach((waiver, index) => {
    if (!isCalendarDate(waiver.expires)) {
      problems.push({
        ...locate(['waivers', index, 'expires']),
        keyPath: `waivers[${index}].expires`,
        message: `'${waiver.expires}' is not a calendar date; expected YYYY-MM-DD (UTC)`,
      });
    }
    if (!ids.includes(waiver.check)) {
      const suggestions = closestMatches(waiver.check, ids);
      const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((id) => `'${id}'`).join(' or ')}?` : '';
      problems.push({
        ...locate(['waivers', index, 'check']),
        keyPath: `waivers[${index}].check`,
        message: `waiver names '${waiver.check}', which is not a check in this checklist${hint}`,
      });
    }
  });
  return problems;
}

export function isCalendarDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/** Replaces `${VAR}` in every value scalar; `$$` stands for a literal `$`. */
function interpolate(
  document: Document | Node,
  env: LoadOptions['env'],
  secretValues: string[],
  locate: Locate,
  interpolated: Set<string>,
): ChecklistProblem[] {
  const problems: ChecklistProblem[] = [];
  visit(document, {
    Scalar(key, node, ancestors) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      const keyPath = pathOf(ancestors, node);
      node.value = node.value.replace(
        INTERPOLATION,
        (match, name: string | undefined, fallback: string | undefined) => {
          if (name === undefined) return '$';
          const value = env[name] || fallback;
          if (value === undefined || value === '') {
            problems.push({
              ...locate(keyPath),
              keyPath: formatKeyPath(keyPath),
              message: `environment variable ${name} is not set (referenced as ${match})`,
            });
            return match;
          }
          if (SECRET_VARIABLE.test(name) && env[name]) secretValues.push(value);
          interpolated.add(formatKeyPath(keyPath));
          return value;
        },
      );
    },
  });
  return problems;
}

/** Rebuilds the key path of a node from the visitor's ancestors. */
function pathOf(ancestors: readonly unknown[], node: Node): KeyPath {
  const keyPath: KeyPath = [];
  const chain = [...ancestors, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i];
    const child = chain[i + 1];
    if (isSeq(parent)) keyPath.push(parent.items.indexOf(child as Node));
    if (isPair(parent) && isScalar(parent.key)) keyPath.push(String(parent.key.value));
  }
  return keyPath;
}
