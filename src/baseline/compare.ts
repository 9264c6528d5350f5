/**
 * The checklist-weakening guard, pure: given the checklist on the base branch
 * and the one under verification, list every change that makes the gate
 * weaker — a check removed, a threshold loosened, a waiver added or extended —
 * so that a pull request cannot quietly lower the bar it is judged by.
 *
 * Thresholds are judged per parameter name from a direction table (is a higher
 * value stronger or weaker?). A numeric parameter the table does not know is
 * reported as a possible loosening: the guard fails closed.
 */
import type { CheckEntry, Waiver } from '../engine/checklist/schema.js';
import type { CheckDefinition, Json } from '../engine/types.js';

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
 * Top-level keys that decide what is verified: pointing `target.url` at
 * another service, `database` at another database, `auth` at other tables or
 * `repo` at another directory makes every check pass on something else.
 * `settings` (concurrency, default timeout) only changes how fast: listed, not
 * blocking.
 */
export const SCOPE_KEYS = ['target', 'database', 'auth', 'repo', 'settings'] as const;
const NON_BLOCKING_SCOPE = new Set<string>(['settings']);

/** Keys whose values are never shown in a message, in case a checklist holds a credential inline. */
const SECRET_KEY = /pass(word)?|secret|token|credential|(^|_)key$/i;

/** The id a waiver uses to accept a weakening on purpose (with a reason and an expiry, like any waiver). */
export const BASELINE_CHECK_ID = 'secgate.baseline';

export type Direction = 'higher-is-stronger' | 'lower-is-stronger';

/**
 * Which way each known numeric parameter gets stronger. `min_length` down,
 * `max_age` down and `attempts` up all loosen the control.
 */
export const PARAM_DIRECTIONS: Readonly<Record<string, Direction>> = {
  // Lengths, key sizes and lifetimes that a control requires at least.
  min_length: 'higher-is-stronger',
  min_secret_length: 'higher-is-stronger',
  min_bits: 'higher-is-stronger',
  min_key_bits: 'higher-is-stronger',
  min_entropy: 'higher-is-stronger',
  min_days_valid: 'higher-is-stronger',
  min_days_remaining: 'higher-is-stronger',
  max_age: 'higher-is-stronger',
  min_max_age: 'higher-is-stronger',
  hsts_max_age: 'higher-is-stronger',
  lockout_seconds: 'higher-is-stronger',
  lockout_minutes: 'higher-is-stronger',
  block_seconds: 'higher-is-stronger',
  block_minutes: 'higher-is-stronger',
  min_rows: 'higher-is-stronger',
  min_events: 'higher-is-stronger',
  min_distinct: 'higher-is-stronger',
  hsts_min_max_age: 'higher-is-stronger',
  fail_days: 'higher-is-stronger',
  warn_days: 'higher-is-stronger',
  samples: 'higher-is-stronger',
  locked_samples: 'higher-is-stronger',
  // Counts and durations that a control allows at most.
  attempts: 'lower-is-stronger',
  max_attempts: 'lower-is-stronger',
  failures: 'lower-is-stronger',
  max_failures: 'lower-is-stronger',
  threshold: 'lower-is-stronger',
  lockout_attempts: 'lower-is-stronger',
  ip_block_threshold: 'lower-is-stronger',
  max_difference_ratio: 'lower-is-stronger',
  tolerance_ms: 'lower-is-stronger',
  max_ttl_seconds: 'lower-is-stronger',
  max_ttl_minutes: 'lower-is-stronger',
  max_access_ttl_seconds: 'lower-is-stronger',
  max_refresh_ttl_seconds: 'lower-is-stronger',
  max_lifetime_seconds: 'lower-is-stronger',
  max_token_age_seconds: 'lower-is-stronger',
  max_findings: 'lower-is-stronger',
  max_severity_count: 'lower-is-stronger',
  max_vulnerabilities: 'lower-is-stronger',
  max_skew_seconds: 'lower-is-stronger',
  grace_seconds: 'lower-is-stronger',
  leeway_seconds: 'lower-is-stronger',
};

/** Parameters whose values are ordered names, weakest first. */
export const ORDERED_PARAMS: Readonly<Record<string, readonly string[]>> = {
  minimum: ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'],
  min_version: ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'],
  severity: ['critical', 'high', 'moderate', 'low', 'info'],
  audit_level: ['critical', 'high', 'moderate', 'low', 'info'],
};

/**
 * Numbers that are not thresholds: expected status codes, timeouts and polling
 * intervals. A change is listed for review, not treated as a loosening.
 */
const NOT_A_THRESHOLD = /(^|_)status$|(^|_)(timeout|interval)_ms$/;

/** Names of lists and switches that grant exceptions: more of them, or `true`, is weaker. */
const EXCEPTION_NAME = /(^|_)(allow|allowed|ignore|ignored|skip|exclude|excluded|except|exempt|disable|insecure)(_|$)/;

/** Lists of answers the check accepts (`rejection_statuses`, `statuses`, `public`): growing them lets more pass. */
const ACCEPTED_LIST_NAME = /(^|_)(status|statuses|public|trusted|accepted?)(_|$)/;

export type WeakeningKind =
  | 'scope-changed'
  | 'check-removed'
  | 'threshold-loosened'
  | 'param-changed'
  | 'waiver-added'
  | 'waiver-extended';

export interface ChecklistChange {
  kind: WeakeningKind;
  /** The checklist entry (its `id`, or its check id) or the waived check. */
  entry: string;
  /** For parameter changes: the `with:` key. */
  param?: string;
  before?: Json;
  after?: Json;
  /**
   * Whether the change weakens the gate (or may: fails closed). Non-blocking
   * changes are listed for review only (e.g. a path renamed).
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
  /** With the registry, omitted parameters compare by their defaults, so dropping `attempts: 5` is seen. */
  registry?: readonly CheckDefinition[];
  directions?: Readonly<Record<string, Direction>>;
  orderedParams?: Readonly<Record<string, readonly string[]>>;
}

const entryId = (entry: CheckEntry) => entry.id ?? entry.check;

function toJson(value: unknown): Json | undefined {
  if (value === undefined) return undefined;
  return JSON.parse(JSON.stringify(value)) as Json;
}

/** The entry's parameters as the check will see them: its defaults applied when the registry knows it. */
function effectiveParams(entry: CheckEntry, registry: readonly CheckDefinition[] | undefined): Record<string, unknown> {
  const given = entry.with ?? {};
  const check = registry?.find((candidate) => candidate.id === entry.check);
  if (!check) return given;
  const parsed = check.params.safeParse(given);
  return parsed.success && parsed.data !== null && typeof parsed.data === 'object'
    ? (parsed.data as Record<string, unknown>)
    : given;
}

const show = (value: unknown) => (value === undefined ? '(not set)' : JSON.stringify(value));

type Judgement = 'weaker' | 'stronger' | 'unknown' | 'other';

function judgeParam(name: string, before: unknown, after: unknown, options: CompareOptions): Judgement {
  const order = (options.orderedParams ?? ORDERED_PARAMS)[name];
  if (order && typeof before === 'string' && typeof after === 'string') {
    const from = order.indexOf(before);
    const to = order.indexOf(after);
    if (from !== -1 && to !== -1) return to < from ? 'weaker' : 'stronger';
    return 'unknown';
  }
  if (typeof before === 'number' && typeof after === 'number') {
    const direction = (options.directions ?? PARAM_DIRECTIONS)[name];
    if (!direction) return NOT_A_THRESHOLD.test(name) ? 'other' : 'unknown';
    const weaker = direction === 'higher-is-stronger' ? after < before : after > before;
    return weaker ? 'weaker' : 'stronger';
  }
  const grantsExceptions = EXCEPTION_NAME.test(name);
  if (typeof before === 'boolean' && typeof after === 'boolean') {
    // Turning a requirement off, or an exception on, loosens the control.
    return after === grantsExceptions ? 'weaker' : 'stronger';
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const beforeItems = new Set(before.map((item) => JSON.stringify(item)));
    const afterItems = new Set(after.map((item) => JSON.stringify(item)));
    const removed = [...beforeItems].some((item) => !afterItems.has(item));
    const added = [...afterItems].some((item) => !beforeItems.has(item));
    // Fewer things verified is weaker; more exceptions granted, or more answers accepted, is weaker.
    if (grantsExceptions || ACCEPTED_LIST_NAME.test(name)) return added ? 'weaker' : 'stronger';
    return removed ? 'weaker' : 'stronger';
  }
  // Anything else (a mode, a path, an object, a parameter appearing or disappearing without the
  // registry's defaults) cannot be judged by its type: fail closed, a waiver accepts it.
  return 'unknown';
}

function compareParams(base: CheckEntry, head: CheckEntry, options: CompareOptions): ChecklistChange[] {
  const before = effectiveParams(base, options.registry);
  const after = effectiveParams(head, options.registry);
  const id = entryId(head);
  const changes: ChecklistChange[] = [];
  for (const name of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const from = before[name];
    const to = after[name];
    if (JSON.stringify(from) === JSON.stringify(to)) continue;
    const judgement = judgeParam(name, from, to, options);
    if (judgement === 'stronger') continue;
    const values = `from ${show(from)} to ${show(to)}`;
    const common = { entry: id, param: name, before: toJson(from), after: toJson(to) };
    if (judgement === 'weaker') {
      changes.push({
        ...common,
        kind: 'threshold-loosened',
        blocking: true,
        message: `${id}: '${name}' loosened ${values}`,
      });
    } else if (judgement === 'unknown') {
      changes.push({
        ...common,
        kind: 'threshold-loosened',
        blocking: true,
        message: `${id}: '${name}' changed ${values}, and secgate does not know which way is stronger; treated as loosened`,
      });
    } else {
      changes.push({
        ...common,
        kind: 'param-changed',
        blocking: false,
        message: `${id}: '${name}' changed ${values}`,
      });
    }
  }
  return changes;
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

/**
 * A value as a message may show it: the password of any `scheme://user:password@host` URL
 * replaced by `***`. An inline credential under a plain key (`database.url`) is a credential too.
 */
function withoutUrlPasswords(value: Json | undefined): Json | undefined {
  return typeof value === 'string' ? value.replace(/(\/\/[^/@:\s]*:)[^@/\s]+@/g, '$1***@') : value;
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
      const hidden = SECRET_KEY.test(path.split('.').pop() ?? '');
      const [shownFrom, shownTo] = [withoutUrlPasswords(from), withoutUrlPasswords(to)];
      const values = hidden ? '(values not shown)' : `from ${show(shownFrom)} to ${show(shownTo)}`;
      const blocking = !NON_BLOCKING_SCOPE.has(key);
      changes.push({
        kind: 'scope-changed',
        entry: path,
        ...(hidden ? {} : { before: shownFrom, after: shownTo }),
        blocking,
        message: blocking
          ? `${path} changed ${values}: the checks would verify something other than the base branch's configuration`
          : `${path} changed ${values}`,
      });
    }
  }
  return changes;
}

export function compareChecklists(
  base: ComparableChecklist,
  head: ComparableChecklist,
  options: CompareOptions = {},
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
    changes.push(...compareParams(baseEntry, headEntry, options));
  }
  changes.push(...compareWaivers(base.waivers, head.waivers));
  return { changes, weakenings: changes.filter((change) => change.blocking) };
}
