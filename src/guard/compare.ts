/**
 * The checklist-weakening guard, pure: given the checklist on the base branch
 * and the one under verification, list every change that makes the gate
 * weaker — a check removed, a threshold loosened, a waiver added or extended,
 * the scope pointed elsewhere — so that a pull request cannot quietly lower
 * the bar it is judged by.
 *
 * It fails closed: a change is let through only when it is *proven* stronger
 * by the check's own `strength` metadata (per parameter). Any other change —
 * an argv gained arguments, an expected status moved, a parameter whose
 * direction the check does not declare, a check the registry does not know —
 * blocks unless a waiver on `secgate.baseline` accepts it.
 */

import type { CheckEntry, Waiver } from '../engine/checklist/schema.js';
import { redactUrlUserinfo } from '../engine/secrets.js';
import { SEVERITIES } from '../engine/severity.js';
import type { CheckDefinition, Json, Strength } from '../engine/types.js';
import type { BaselineEntry } from '../secrets/baseline.js';

/** The parts of a checklist that decide how strict the gate is. */
export interface ComparableChecklist {
  checks: CheckEntry[];
  waivers: Waiver[];
  /**
   * What the checks verify and how (`target`, `database`, `auth`, `repo`,
   * `settings`), as written — `${VAR}` references uninterpolated, so the
   * same text compares equal whatever the environment holds.
   */
  scope?: Record<string, Json | undefined>;
}

/**
 * Top-level keys that decide what is verified and how: pointing `target.url`
 * at another service, `database` at another database, `auth` at other tables,
 * `repo` at another directory, or changing `settings`, can make every check
 * pass on something else. Every change blocks unless proven stronger.
 */
export const SCOPE_KEYS = ['target', 'database', 'auth', 'repo', 'settings'] as const;

/** Keys whose values are never shown in a message, in case a checklist holds a credential inline. */
const SECRET_KEY = /pass(word)?|secret|token|credential|(^|_)key$/i;

/** The id a waiver uses to accept a weakening on purpose (with a reason and an expiry, like any waiver). */
export const BASELINE_CHECK_ID = 'secgate.baseline';

/**
 * Scope values proven stronger in one direction: shorter deadlines (a missed
 * deadline is an error, which fails the gate too). Everything else blocks.
 */
const SCOPE_STRENGTH: Readonly<Record<string, Strength>> = {
  'target.timeout_ms': 'lower',
  'settings.check_timeout_ms': 'lower',
};

export type WeakeningKind =
  | 'scope-changed'
  | 'check-removed'
  | 'threshold-loosened'
  | 'param-changed'
  | 'waiver-added'
  | 'waiver-extended'
  | 'plugin-changed'
  | 'plugin-added'
  | 'baseline-entry-added';

export interface ChecklistChange {
  kind: WeakeningKind;
  /** The checklist entry (its `id`, or its check id) or the waived check. */
  entry: string;
  /** For parameter changes: the `with:` key. */
  param?: string;
  before?: Json;
  after?: Json;
  /**
   * Whether the change blocks the gate. Every change the guard lists does: it
   * is listed because it was not proven stronger (the guard fails closed).
   */
  blocking: boolean;
  /** One sentence: what changed and why it counts. */
  message: string;
}

export interface ChecklistComparison {
  changes: ChecklistChange[];
  /** The blocking changes: the gate fails unless a `secgate.baseline` waiver accepts them. */
  weakenings: ChecklistChange[];
}

export interface CompareOptions {
  /**
   * The checks the entries name: each declares which way its parameters are stronger (`strength`),
   * and omitted parameters compare by their defaults, so dropping `attempts: 5` is seen. An entry
   * whose check is not here has no known direction: any change to its parameters blocks.
   */
  registry: readonly CheckDefinition[];
}

const entryId = (entry: CheckEntry) => entry.id ?? entry.check;

function toJson(value: unknown): Json | undefined {
  if (value === undefined) return undefined;
  return JSON.parse(JSON.stringify(value)) as Json;
}

/** The entry's parameters as the check will see them: its defaults applied when the registry knows it. */
function effectiveParams(entry: CheckEntry, registry: readonly CheckDefinition[]): Record<string, unknown> {
  const given = entry.with ?? {};
  const check = registry.find((candidate) => candidate.id === entry.check);
  if (!check) return given;
  const parsed = check.params.safeParse(given);
  return parsed.success && parsed.data !== null && typeof parsed.data === 'object'
    ? (parsed.data as Record<string, unknown>)
    : given;
}

const show = (value: unknown) => (value === undefined ? '(not set)' : JSON.stringify(value));

type Judgement = 'weaker' | 'stronger' | 'unknown';

/** Whether `after` is proven weaker or stronger than `before` under a known strength; otherwise unknown. */
export function judgeChange(strength: Strength | undefined, before: unknown, after: unknown): Judgement {
  if (strength === undefined) return 'unknown';
  if (typeof strength !== 'string') {
    if (typeof before !== 'string' || typeof after !== 'string') return 'unknown';
    const from = strength.indexOf(before);
    const to = strength.indexOf(after);
    if (from === -1 || to === -1) return 'unknown';
    return to < from ? 'weaker' : 'stronger';
  }
  switch (strength) {
    case 'higher':
    case 'lower': {
      if (typeof before !== 'number' || typeof after !== 'number') return 'unknown';
      const weaker = strength === 'higher' ? after < before : after > before;
      return weaker ? 'weaker' : 'stronger';
    }
    case 'requirement':
    case 'exception': {
      if (typeof before !== 'boolean' || typeof after !== 'boolean') return 'unknown';
      // Turning a requirement off, or an exception on, loosens the control.
      return after === (strength === 'exception') ? 'weaker' : 'stronger';
    }
    case 'verified':
    case 'accepted': {
      if (!Array.isArray(before) || !Array.isArray(after)) return 'unknown';
      const beforeItems = new Set(before.map((item) => JSON.stringify(item)));
      const afterItems = new Set(after.map((item) => JSON.stringify(item)));
      // Fewer things verified is weaker; more exceptions granted, or more answers accepted, is weaker.
      const loosened =
        strength === 'verified'
          ? [...beforeItems].some((item) => !afterItems.has(item))
          : [...afterItems].some((item) => !beforeItems.has(item));
      return loosened ? 'weaker' : 'stronger';
    }
  }
}

interface ChangedValue {
  entry: string;
  param?: string;
  /** How the value is named in a message: `'attempts'` or `timeout_ms`. */
  label: string;
  before: unknown;
  after: unknown;
  strength: Strength | undefined;
}

/** A changed value as a blocking change, or nothing when it is proven stronger. */
function judgeValue(change: ChangedValue): ChecklistChange | undefined {
  const judgement = judgeChange(change.strength, change.before, change.after);
  if (judgement === 'stronger') return undefined;
  const values = `from ${show(change.before)} to ${show(change.after)}`;
  const common = {
    entry: change.entry,
    ...(change.param ? { param: change.param } : {}),
    before: toJson(change.before),
    after: toJson(change.after),
    blocking: true,
  };
  return judgement === 'weaker'
    ? { ...common, kind: 'threshold-loosened', message: `${change.entry}: ${change.label} loosened ${values}` }
    : {
        ...common,
        kind: 'param-changed',
        message: `${change.entry}: ${change.label} changed ${values}, which secgate cannot prove stronger; treated as a weakening`,
      };
}

function compareParams(base: CheckEntry, head: CheckEntry, options: CompareOptions): ChecklistChange[] {
  const before = effectiveParams(base, options.registry);
  const after = effectiveParams(head, options.registry);
  const id = entryId(head);
  const known: Readonly<Partial<Record<string, Strength>>> =
    options.registry.find((candidate) => candidate.id === head.check)?.strength ?? {};
  const changes: ChecklistChange[] = [];
  for (const name of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const from = before[name];
    const to = after[name];
    if (JSON.stringify(from) === JSON.stringify(to)) continue;
    const change = judgeValue({
      entry: id,
      param: name,
      label: `'${name}'`,
      before: from,
      after: to,
      strength: Object.hasOwn(known, name) ? known[name] : undefined,
    });
    if (change) changes.push(change);
  }
  // The entry's own deadline: shorter is proven stronger (a missed deadline is an error, which fails the gate).
  if (base.timeout_ms !== head.timeout_ms) {
    const change = judgeValue({
      entry: id,
      label: 'timeout_ms',
      before: base.timeout_ms,
      after: head.timeout_ms,
      strength: 'lower',
    });
    if (change) changes.push(change);
  }
  // Severity orders alerts and reports: lowering it hides a control's failure further down, so only raising it passes.
  const severityBefore = effectiveSeverity(base, options.registry);
  const severityAfter = effectiveSeverity(head, options.registry);
  if (severityBefore !== severityAfter) {
    const change = judgeValue({
      entry: id,
      label: 'severity',
      before: severityBefore,
      after: severityAfter,
      strength: SEVERITY_STRENGTH,
    });
    if (change) changes.push(change);
  }
  return changes;
}

/** Weakest first, as judgeChange reads an ordered list. */
const SEVERITY_STRENGTH = [...SEVERITIES].reverse();

function effectiveSeverity(entry: CheckEntry, registry: readonly CheckDefinition[]): string | undefined {
  return entry.severity ?? registry.find((candidate) => candidate.id === entry.check)?.severity;
}

function compareWaivers(base: Waiver[], head: Waiver[]): ChecklistChange[] {
  const changes: ChecklistChange[] = [];
  for (const waiver of head) {
    // A waiver on the guard itself is how a weakening is accepted; it is reported by the engine as a waiver.
    if (waiver.check === BASELINE_CHECK_ID) continue;
    const previous = base.find((candidate) => candidate.check === waiver.check);
    if (!previous) {
      changes.push({
        kind: 'waiver-added',
        entry: waiver.check,
        after: { reason: waiver.reason, expires: waiver.expires },
        blocking: true,
        message: `${waiver.check}: waiver added until ${waiver.expires} (${waiver.reason})`,
      });
    } else if (waiver.expires > previous.expires) {
      changes.push({
        kind: 'waiver-extended',
        entry: waiver.check,
        before: { reason: previous.reason, expires: previous.expires },
        after: { reason: waiver.reason, expires: waiver.expires },
        blocking: true,
        message: `${waiver.check}: waiver extended from ${previous.expires} to ${waiver.expires} (${waiver.reason})`,
      });
    }
  }
  return changes;
}

/** A value as a message may show it: the userinfo of any URL replaced by `***`. */
function withoutUrlCredentials(value: Json | undefined): Json | undefined {
  return typeof value === 'string' ? redactUrlUserinfo(value) : value;
}

/** Leaf values of a JSON tree by dotted path (`target.url`, `auth.tables.ip_blocks`). */
function leaves(value: Json | undefined, prefix: string, into: Map<string, Json | undefined>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value)) leaves(child, `${prefix}.${key}`, into);
    return;
  }
  into.set(prefix, value);
}

function compareScope(
  base: Record<string, Json | undefined> | undefined,
  head: Record<string, Json | undefined> | undefined,
): ChecklistChange[] {
  // Only comparable when both sides were read as written (a caller without the raw text passes none).
  if (!base || !head) return [];
  const changes: ChecklistChange[] = [];
  for (const key of SCOPE_KEYS) {
    const before = new Map<string, Json | undefined>();
    const after = new Map<string, Json | undefined>();
    leaves(base[key], key, before);
    leaves(head[key], key, after);
    for (const path of [...new Set([...before.keys(), ...after.keys()])].sort()) {
      const from = before.get(path);
      const to = after.get(path);
      if (JSON.stringify(from) === JSON.stringify(to)) continue;
      if (judgeChange(SCOPE_STRENGTH[path], from, to) === 'stronger') continue;
      const hidden = SECRET_KEY.test(path.split('.').pop() ?? '');
      const [shownFrom, shownTo] = [withoutUrlCredentials(from), withoutUrlCredentials(to)];
      const values = hidden ? '(values not shown)' : `from ${show(shownFrom)} to ${show(shownTo)}`;
      changes.push({
        kind: 'scope-changed',
        entry: path,
        ...(hidden ? {} : { before: shownFrom, after: shownTo }),
        blocking: true,
        message: `${path} changed ${values}: the checks would verify something other than, or differently from, the base branch's configuration`,
      });
    }
  }
  return changes;
}

/**
 * A plugin entry the base does not have: its module runs inside the gate's own process, with the gate's
 * privileges, before any check — code the pull request brings that could make other checks pass. It blocks
 * until reviewed and accepted with a `secgate.baseline` waiver, however much stronger a new check looks.
 */
function addedPlugins(base: ComparableChecklist, head: ComparableChecklist): ChecklistChange[] {
  return head.checks.flatMap((headEntry) => {
    const id = entryId(headEntry);
    if (headEntry.plugin === undefined || base.checks.some((baseEntry) => entryId(baseEntry) === id)) return [];
    return [
      {
        kind: 'plugin-added' as const,
        entry: id,
        after: headEntry.plugin,
        blocking: true,
        message: `${id}: a new plugin, ${headEntry.plugin}, runs its code inside the gate; review it and accept it with a secgate.baseline waiver`,
      },
    ];
  });
}

/**
 * A plugin check is its module: another `plugin:` (or a built-in id now loaded from a module, or the
 * reverse) is other code judging the control, which nothing proves as strict. It blocks.
 */
function comparePlugin(base: CheckEntry, head: CheckEntry): ChecklistChange | undefined {
  if (base.plugin === head.plugin) return undefined;
  const id = entryId(head);
  const name = (entry: CheckEntry) => entry.plugin ?? 'the built-in check';
  return {
    kind: 'plugin-changed',
    entry: id,
    ...(base.plugin !== undefined ? { before: base.plugin } : {}),
    ...(head.plugin !== undefined ? { after: head.plugin } : {}),
    blocking: true,
    message: `${id}: the check is now loaded from ${name(head)} instead of ${name(base)}, other code that nothing proves as strict`,
  };
}

/** The checks whose `baseline:` file accepts findings: each entry in it turns a finding into a pass. */
export const BASELINE_FILE_CHECKS: readonly string[] = ['repo.history', 'repo.committed-secrets'];

export interface BaselineFileVersions {
  /** The checklist entry that names the file, and the file as it names it. */
  entry: string;
  file: string;
  /** The file's entries as the check will read them (the work tree). */
  head: readonly BaselineEntry[];
  /** Its entries at the base ref, or why there are none to compare with (absent, unreadable). */
  base: readonly BaselineEntry[] | { none: string };
}

/** What an entry accepts: reasons may be reworded, but any other difference accepts something else. */
const acceptance = (entry: BaselineEntry) =>
  JSON.stringify([entry.fingerprint, entry.rule ?? null, entry.path ?? null]);

/**
 * A baseline entry the base ref's file does not have accepts a finding the base branch would fail on,
 * like a new waiver that never expires: it blocks. Entries removed are stronger; an entry narrowed or
 * widened (another rule or path) is another acceptance, so it blocks too.
 */
export function addedBaselineEntries(versions: BaselineFileVersions, ref: string): ChecklistChange[] {
  const base = 'none' in versions.base ? [] : versions.base;
  const where = 'none' in versions.base ? ` (${versions.base.none})` : '';
  const accepted = new Set(base.map(acceptance));
  return versions.head
    .filter((entry) => !accepted.has(acceptance(entry)))
    .map((entry) => {
      const scope = [entry.rule, entry.path].filter((part) => part !== undefined).join(' in ');
      return {
        kind: 'baseline-entry-added' as const,
        entry: versions.entry,
        after: { file: versions.file, ...entry },
        blocking: true,
        message: `${versions.entry}: ${versions.file} accepts finding ${entry.fingerprint}${scope ? ` (${scope})` : ''}, which it does not accept at ${ref}${where} (${entry.reason})`,
      };
    });
}

export function compareChecklists(
  base: ComparableChecklist,
  head: ComparableChecklist,
  options: CompareOptions,
): ChecklistComparison {
  const changes: ChecklistChange[] = compareScope(base.scope, head.scope);
  for (const baseEntry of base.checks) {
    const id = entryId(baseEntry);
    const headEntry = head.checks.find((candidate) => entryId(candidate) === id);
    if (!headEntry || headEntry.check !== baseEntry.check) {
      const replaced = headEntry ? ` (the id now runs ${headEntry.check} instead of ${baseEntry.check})` : '';
      changes.push({
        kind: 'check-removed',
        entry: id,
        before: toJson(baseEntry),
        blocking: true,
        message: `${id}: check ${baseEntry.check} removed from the checklist${replaced}`,
      });
      continue;
    }
    const pluginChange = comparePlugin(baseEntry, headEntry);
    if (pluginChange) changes.push(pluginChange);
    changes.push(...compareParams(baseEntry, headEntry, options));
  }
  changes.push(...addedPlugins(base, head));
  changes.push(...compareWaivers(base.waivers, head.waivers));
  return { changes, weakenings: changes.filter((change) => change.blocking) };
}
