/**
 * Loads checklist.yaml: YAML with source positions → `${VAR}` interpolation →
 * zod validation (unknown keys rejected everywhere) → each check's own params.
 * Every problem names file:line:column, the key path and what was expected.
 * Nothing here touches the network: a checklist is fully validated before
 * anything is probed.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from 'yaml';
import { z } from 'zod';
import { redactUrlUserinfo } from '../secrets.js';
import type { Severity } from '../severity.js';
import type { CheckDefinition, ChecklistRequirement } from '../types.js';
import { ChecklistError, type ChecklistProblem } from './errors.js';
import { namedFileProblems } from './named-files.js';
import { readAtMost } from './read-bounded.js';
import { type Checklist, checklistSchema } from './schema.js';
import { closestMatches } from './suggest.js';

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
}

export interface LoadOptions {
  env: Readonly<Record<string, string | undefined>>;
  registry: readonly CheckDefinition[];
  /** Where relative paths resolve; the checklist file's directory by default. */
  baseDir?: string;
}

/**
 * A checklist is a page or two. The bound keeps a hostile or mistaken file (a
 * log, a dump, a generated monster) from costing minutes and gigabytes before
 * it is rejected: it is read no further than this.
 */
export const MAX_CHECKLIST_BYTES = 1024 * 1024;
/** YAML aliases (`*defaults`) a checklist may expand: a few reused mappings, never a billion laughs. */
const MAX_ALIAS_COUNT = 100;
/** Problems listed one by one; a checklist with thousands of bad entries gets a count for the rest. */
const MAX_LISTED_PROBLEMS = 20;

type KeyPath = (string | number)[];

/** Variable names whose values must never be shown. */
const SECRET_VARIABLE = /PASS|SECRET|TOKEN|KEY|CREDENTIAL|DATABASE_URL|TOTP/i;
/** `${VAR}`, `${VAR:-default}` (default when unset or empty), and `$$` for a literal dollar. */
const INTERPOLATION = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Values of every environment variable whose name marks it as a secret. */
export function secretLookingValues(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env).flatMap(([name, value]) => (value && SECRET_VARIABLE.test(name) ? [value] : []));
}

export async function loadChecklist(file: string, options: LoadOptions): Promise<LoadedChecklist> {
  const absolute = path.resolve(file);
  let bytes: Buffer;
  try {
    bytes = await readAtMost(absolute, MAX_CHECKLIST_BYTES + 1);
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new ChecklistError([
      { file: absolute, line: 1, column: 1, keyPath: '', message: `cannot read the checklist (${reason})` },
    ]);
  }
  return checklistFromBytes(bytes, absolute, options);
}

/**
 * A checklist from its bytes (a file's, or standard input's): bounded in size,
 * parsed, validated, and every file it names (trust anchor, baselines) read
 * and checked, so that a wrong file is exit 2 now rather than an error mid-run.
 */
export async function checklistFromBytes(bytes: Buffer, file: string, options: LoadOptions): Promise<LoadedChecklist> {
  if (bytes.length > MAX_CHECKLIST_BYTES) {
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
  // The evidence names the file's bytes, not their decoding (a BOM or an invalid sequence would differ).
  const loaded = { ...parseChecklist(bytes.toString('utf8'), file, options), sha256: sha256Hex(bytes) };
  const problems = await namedFileProblems(loaded);
  if (problems.length > 0) throw new ChecklistError(problems);
  return loaded;
}

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export function parseChecklist(text: string, file: string, options: LoadOptions): LoadedChecklist {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { file, line, column: col };
  };

  const lines = text.split('\n');
  const syntaxProblems = [...document.errors].map((error) => {
    const position = at(error.pos[0]);
    const sourceLine = lines[position.line - 1] ?? '';
    // `{ url: ${VAR} }` is not valid YAML: the braces of ${...} end the flow mapping.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the hint quotes checklist syntax, not a JS template
    const hint = /\{[^}]*\$\{/.test(sourceLine) ? ' (inside { }, quote values that use ${VAR}: "${VAR}")' : '';
    return { ...position, keyPath: '', message: describeYamlError(error.code, error.message) + hint };
  });
  if (syntaxProblems.length > 1) syntaxProblems.splice(1); // Later YAML errors are usually echoes of the first.
  if (syntaxProblems.length > 0) throw new ChecklistError(syntaxProblems);

  const locate = (keyPath: KeyPath, pointAtKey = false) => at(offsetOf(document, keyPath, pointAtKey));
  const secretValues: string[] = [];
  // Key paths whose value came from the environment: error messages never echo those values.
  const interpolated = new Set<string>();
  const interpolationProblems = interpolate(document, options.env, secretValues, locate, interpolated);
  if (interpolationProblems.length > 0) throw new ChecklistError(interpolationProblems);

  const data = documentData(document, at);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ChecklistError([
      { ...at(0), keyPath: '', message: 'expected a mapping with version, target and checks' },
    ]);
  }
  const parsed = checklistSchema.safeParse(data);
  if (!parsed.success) {
    throw checklistError(zodProblems(parsed.error, checklistSchema, [], data, locate, interpolated));
  }
  const checklist = parsed.data;
  const problems: ChecklistProblem[] = [];
  const entries = planEntries(checklist, options, data, locate, problems, interpolated);
  problems.push(...waiverProblems(checklist, entries, locate));
  if (problems.length > 0) throw checklistError(problems);

  return {
    file,
    baseDir: options.baseDir ?? path.dirname(file),
    sha256: sha256Hex(text),
    text,
    checklist,
    entries,
    secretValues,
    locate,
  };
}

/**
 * The document as plain data. Aliases are expanded with a bound: an alias bomb
 * is a checklist error at its first alias, not an exhausted process.
 */
function documentData(
  document: Document,
  at: (offset: number | undefined) => Omit<ChecklistProblem, 'keyPath' | 'message'>,
): unknown {
  try {
    return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    let firstAlias: number | undefined;
    visit(document, {
      Alias(_key, node) {
        firstAlias ??= node.range?.[0];
        return visit.BREAK;
      },
    });
    throw new ChecklistError([
      {
        ...at(firstAlias),
        keyPath: '',
        message: `YAML aliases expand to too much data (more than ${MAX_ALIAS_COUNT} expansions): reuse a few mappings at most`,
      },
    ]);
  }
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

export type Locate = (keyPath: KeyPath, pointAtKey?: boolean) => { file: string; line: number; column: number };

function planEntries(
  checklist: Checklist,
  { registry, env }: LoadOptions,
  data: object,
  locate: Locate,
  problems: ChecklistProblem[],
  interpolated: ReadonlySet<string>,
): PlannedEntry[] {
  const entries: PlannedEntry[] = [];
  const seen = new Map<string, number>();
  const knownIds = registry.map((check) => check.id);
  checklist.checks.forEach((entry, index) => {
    const check = registry.find((candidate) => candidate.id === entry.check);
    if (!check) {
      const suggestions = closestMatches(entry.check, knownIds);
      const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((id) => `'${id}'`).join(' or ')}?` : '';
      problems.push({
        ...locate(['checks', index, 'check']),
        keyPath: `checks[${index}].check`,
        message: `unknown check '${entry.check}'${hint} (secgate list shows them all)`,
      });
      return;
    }
    const id = entry.id ?? entry.check;
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
    for (const requirement of check.requires?.(params.data) ?? []) {
      if (isProvided(checklist, requirement, env)) continue;
      problems.push({
        ...locate(['checks', index, 'check']),
        keyPath: `checks[${index}]`,
        message: requirementMessage(id, requirement),
      });
    }
    entries.push({
      id,
      check,
      params: params.data,
      timeoutMs: entry.timeout_ms ?? checklist.settings.check_timeout_ms,
      ...(entry.severity ? { severity: entry.severity } : {}),
      line: locate(['checks', index]).line,
    });
  });
  return entries;
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
  document: Document,
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

/** Offset of the node at keyPath, or of its nearest existing ancestor. */
function offsetOf(document: Document, keyPath: KeyPath, pointAtKey: boolean): number {
  for (let length = keyPath.length; length >= 0; length--) {
    const prefix = keyPath.slice(0, length);
    if (pointAtKey && length === keyPath.length && length > 0) {
      const parent = prefix.length > 1 ? document.getIn(prefix.slice(0, -1), true) : document.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === prefix[prefix.length - 1]);
        const keyNode = pair?.key;
        if (isScalar(keyNode) && keyNode.range) return keyNode.range[0];
      }
    }
    const node = prefix.length === 0 ? document.contents : document.getIn(prefix, true);
    if (node && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
      return node.range[0] as number;
    }
  }
  return 0;
}

function formatKeyPath(keyPath: KeyPath): string {
  return keyPath.reduce<string>((text, part) => {
    if (typeof part === 'number') return `${text}[${part}]`;
    return text ? `${text}.${part}` : part;
  }, '');
}

function valueAt(data: unknown, keyPath: KeyPath): unknown {
  let current: unknown = data;
  for (const part of keyPath) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    // A URL's userinfo is a credential even in an error message; it is cut before it is shown.
    const shown = redactUrlUserinfo(value);
    return `the string '${shown.length > 40 ? `${shown.slice(0, 40)}…` : shown}'`;
  }
  return `${typeof value} ${String(value)}`;
}

function zodProblems(
  error: z.ZodError,
  schema: z.ZodType,
  prefix: KeyPath,
  data: unknown,
  locate: Locate,
  interpolated: ReadonlySet<string>,
): ChecklistProblem[] {
  const problems: ChecklistProblem[] = [];
  for (const issue of error.issues) {
    const keyPath: KeyPath = [...prefix, ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const keyPathOfKey = [...keyPath, key];
        problems.push({
          ...locate(keyPathOfKey, true),
          keyPath: formatKeyPath(keyPathOfKey),
          message: `unknown key '${key}'${allowedKeysHint(key, schemaAt(schema, issue.path))}`,
        });
      }
      continue;
    }
    const value = valueAt(data, keyPath);
    const message =
      value === undefined && issue.code === 'invalid_type'
        ? `missing required key '${String(keyPath[keyPath.length - 1])}' (expected ${issue.expected})`
        : `${cleanZodMessage(issue.message)}, got ${
            interpolated.has(formatKeyPath(keyPath)) ? 'a value from the environment (not shown)' : describeValue(value)
          }`;
    problems.push({ ...locate(keyPath), keyPath: formatKeyPath(keyPath), message });
  }
  return problems;
}

/** Follows a key path through object, array, optional and default wrappers. */
function schemaAt(schema: z.ZodType, keyPath: readonly PropertyKey[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (const part of [...keyPath, undefined]) {
    while (current instanceof z.ZodOptional || current instanceof z.ZodDefault) {
      current = current.unwrap() as z.ZodType;
    }
    if (part === undefined || current === undefined) break;
    if (current instanceof z.ZodArray) current = current.element as z.ZodType;
    else if (current instanceof z.ZodObject) current = (current.shape as Record<string, z.ZodType>)[String(part)];
    else return undefined;
  }
  return current;
}

function allowedKeysHint(key: string, schema: z.ZodType | undefined): string {
  if (!(schema instanceof z.ZodObject)) return '';
  const allowed = Object.keys(schema.shape);
  const suggestions = closestMatches(key, allowed, 1);
  const didYouMean = suggestions.length > 0 ? `did you mean '${suggestions[0]}'? ` : '';
  return ` (${didYouMean}expected one of: ${allowed.join(', ')})`;
}

function cleanZodMessage(message: string): string {
  // zod says "Invalid input: expected string, received number"; we say what was expected, then what we got.
  return message.replace(/^Invalid input: /, '').replace(/, received \w+$/, '');
}

function describeYamlError(code: string, message: string): string {
  if (code === 'DUPLICATE_KEY') return 'duplicate key: each key may appear only once in a mapping';
  const firstLine = message.split('\n')[0] ?? message;
  return `invalid YAML: ${firstLine.replace(/ at line \d+, column \d+:?$/, '')}`;
}
