/**
 * Fleets: one checklist, many named deployments. A checklist declares
 * `targets:` (or names an `inventory:` file that does); each target brings its
 * own `target`, `database` and `auth` values and `variables` for `${VAR}`, and
 * inherits everything else — the checks, their parameters, the waivers, the
 * repository. What is pure lives here: the declaration's shape, merging a
 * target over the checklist, and each target's own source-address pool.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Node } from 'yaml';
import { z } from 'zod';
import { isLoopbackTarget } from '../source-addresses.js';
import type { ChecklistProblem } from './errors.js';
import { type KeyPath, type Locate, problemAt, type YamlSource, yamlData } from './yaml-source.js';
import { zodProblems } from './zod-problems.js';

/** A target's name is a file name (`{target}` in --out), a CI matrix value and an evidence subject. */
export const TARGET_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Set to the target's name while its checklist is interpolated. */
export const TARGET_VARIABLE = 'SECGATE_TARGET';

const mapping = z.record(z.string(), z.unknown());

/** The sections a target may set; anything else is the checklist's, shared by every target. */
export const FLEET_SECTIONS = ['target', 'database', 'auth'] as const;

const fleetTargetSchema = z
  .object({
    target: mapping.optional(),
    database: mapping.optional(),
    auth: mapping.optional(),
    variables: z
      .record(
        z.string().regex(VARIABLE_NAME, { message: 'expected a variable name such as SERVICE_HOST' }),
        z.string({ message: 'expected a string (quote numbers)' }),
      )
      .optional(),
  })
  .strict();
export type FleetTargetSection = z.output<typeof fleetTargetSchema>;

// Names are judged apart (see declarationIn): zod's record-key issue cannot say which key or where.
const targetsSchema = z.record(z.string(), fleetTargetSchema.nullable());

const inventoryFileSchema = z
  .object({ version: z.literal(1, { message: 'expected version: 1' }), targets: targetsSchema })
  .strict();

/** A fleet as declared: where its targets are written, their names in order, and each one's section. */
export interface FleetDeclaration {
  /** The file the `targets:` mapping is in: the checklist's, or the inventory's. */
  source: YamlSource;
  names: string[];
  sections: ReadonlyMap<string, FleetTargetSection>;
  /** The inventory file, when the targets come from one: as written in the checklist, and its bytes' sha256. */
  inventory?: { path: string; sha256: string };
}

/** The inventory file as the loader read it (or why it could not). */
export type InventoryBytes = { file: string; bytes: Buffer } | { file: string; error: string };

/** The `inventory:` value of a checklist, as written (undefined when it has none or it is not a string). */
export function inventoryPathOf(checklist: YamlSource): string | undefined {
  const value = checklist.document.get('inventory');
  return typeof value === 'string' ? value : undefined;
}

/**
 * The fleet a checklist declares, or undefined for a one-target checklist.
 * Only the declaration's shape is judged here (no `${VAR}` is read), so a CI
 * planner with none of the targets' secrets can list them.
 */
export function readFleetDeclaration(
  checklist: YamlSource,
  readInventory: (written: string) => InventoryBytes,
  parse: (text: string, file: string) => YamlSource,
): { declaration?: FleetDeclaration; problems: ChecklistProblem[] } {
  const hasTargets = checklist.document.has('targets');
  const hasInventory = checklist.document.has('inventory');
  if (!hasTargets && !hasInventory) return { problems: [] };
  if (hasTargets && hasInventory) {
    return {
      problems: [
        problemAt(
          checklist,
          ['inventory'],
          'a checklist takes targets: or inventory:, not both: move the targets into one place',
          true,
        ),
      ],
    };
  }
  if (hasTargets) return declarationIn(checklist, ['targets'], targetsSchema);
  const written = inventoryPathOf(checklist);
  if (written === undefined || written === '') {
    return {
      problems: [
        problemAt(
          checklist,
          ['inventory'],
          'expected the path of an inventory file (YAML with version: 1 and targets:)',
        ),
      ],
    };
  }
  const read = readInventory(written);
  if ('error' in read) {
    return { problems: [problemAt(checklist, ['inventory'], `cannot read the inventory ${written} (${read.error})`)] };
  }
  const inventory = parse(read.bytes.toString('utf8'), read.file);
  const result = declarationIn(inventory, [], inventoryFileSchema);
  if (!result.declaration) return result;
  const sha256 = createHash('sha256').update(read.bytes).digest('hex');
  return { ...result, declaration: { ...result.declaration, inventory: { path: written, sha256 } } };
}

function declarationIn(
  source: YamlSource,
  prefix: KeyPath,
  schema: z.ZodType,
): { declaration?: FleetDeclaration; problems: ChecklistProblem[] } {
  const data = yamlData(source);
  const parsed = schema.safeParse(prefix.length === 0 ? data : (data as Record<string, unknown>)[String(prefix[0])]);
  if (!parsed.success) {
    return { problems: zodProblems(parsed.error, schema, prefix, data, source.locate, new Set()) };
  }
  const targets = (prefix.length === 0 ? (parsed.data as { targets: unknown }).targets : parsed.data) as Record<
    string,
    FleetTargetSection | null
  >;
  const names = Object.keys(targets);
  if (names.length === 0) {
    return { problems: [problemAt(source, ['targets'], 'expected at least one target')] };
  }
  const badNames = names.filter((name) => !TARGET_NAME.test(name));
  if (badNames.length > 0) {
    return {
      problems: badNames.map((name) =>
        problemAt(
          source,
          ['targets', name],
          'expected a target name of lower-case letters, digits, - and _ (such as eu-staging): it names files and CI matrix entries',
          true,
        ),
      ),
    };
  }
  return {
    declaration: {
      source,
      names,
      sections: new Map(names.map((name) => [name, targets[name] ?? {}])),
    },
    problems: [],
  };
}

/** Where a target's mapping is in its source. */
export function sectionKeyPath(name: string): KeyPath {
  return ['targets', name];
}

/** The yaml node of a target's mapping, for interpolating it on its own. */
export function sectionNode(declaration: FleetDeclaration, name: string): Node | undefined {
  const node = declaration.source.document.getIn(sectionKeyPath(name), true);
  return node && typeof node === 'object' ? (node as Node) : undefined;
}

/**
 * The checklist as one target sees it: each of its sections merged over the
 * checklist's, mapping by mapping (a target that sets `auth.probe_account`
 * keeps the checklist's `auth.login`); a scalar or a list replaces.
 */
export function mergeTarget(base: Record<string, unknown>, section: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...base };
  for (const key of FLEET_SECTIONS) {
    if (section[key] !== undefined) merged[key] = mergeMappings(base[key], section[key]);
  }
  return merged;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function mergeMappings(base: unknown, override: unknown): unknown {
  if (!isMapping(base) || !isMapping(override)) return override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = mergeMappings(base[key], value);
  return merged;
}

function hasPath(data: unknown, keyPath: KeyPath): boolean {
  let current: unknown = data;
  for (const part of keyPath) {
    if (current === null || typeof current !== 'object' || !(String(part) in current)) return false;
    current = (current as Record<string, unknown>)[String(part)];
  }
  return true;
}

/**
 * Positions in the merged checklist: a value the target set is found in the
 * target's mapping (in the inventory file, when it is one), anything else in
 * the checklist.
 */
export function mergedLocate(
  base: Locate,
  sectionData: unknown,
  sectionLocate: Locate,
  inSection: Set<string>,
): Locate {
  return (keyPath, pointAtKey) => {
    if (!hasPath(sectionData, keyPath)) return base(keyPath, pointAtKey);
    const position = sectionLocate(keyPath, pointAtKey);
    inSection.add(positionKey(position));
    return position;
  };
}

export const positionKey = (position: { file: string; line: number; column: number }) =>
  `${position.file}:${position.line}:${position.column}`;

/**
 * Each target's own failure-provoking source addresses: the default loopback
 * pool (127.0.0.128/25) would be shared by every local target run at once, and
 * one service's failure counts would mix with another's. Target k of the
 * inventory gets 127.(1 + k/256).(k mod 256).128/25 instead — disjoint from
 * the default pool, from the addresses checks bind themselves (127.0.0.8–30)
 * and from every other target's, whether the targets run in one `--all` or in
 * shards on one machine. A target elsewhere, or one that lists its own
 * `source_addresses`, keeps them.
 */
export function fleetSourceAddresses(
  target: { url: string; source_addresses?: string[] | undefined },
  index: number,
): string[] | undefined {
  if (target.source_addresses !== undefined || !isLoopbackTarget(target.url)) return target.source_addresses;
  if (!Number.isInteger(index) || index < 0 || index >= 254 * 256) return undefined;
  return [`127.${1 + Math.floor(index / 256)}.${index % 256}.128/25`];
}

/** The inventory path as the loader opens it: relative to the checklist's folder. */
export function inventoryFile(baseDir: string, written: string): string {
  return path.resolve(baseDir, written);
}
