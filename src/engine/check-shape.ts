/**
 * What makes a value a check: the contract of `defineCheck` (src/engine/types.ts) verified at run
 * time. TypeScript proves it for the built-in checks when they compile; a plugin arrives as a
 * JavaScript module the compiler never saw, so the loader judges it with these rules before it is
 * trusted with anything — and a test holds every built-in check to the same rules, so a plugin is
 * asked for nothing a built-in is not.
 */
import { CHECK_ID_PATTERN } from './checklist/schema.js';
import { SEVERITIES } from './severity.js';
import type { CheckEffect, ChecklistRequirement } from './types.js';

export const CHECK_EFFECTS = [
  'none',
  'locks-account',
  'blocks-ip',
  'runs-commands',
] as const satisfies readonly CheckEffect[];

/**
 * Every key of the check contract. An unknown key is a mistake (`requries`, `remediaton`) that
 * would silently drop a requirement or a text; it is refused, as unknown checklist keys are.
 */
const CONTRACT_KEYS = new Set([
  'id',
  'title',
  'source',
  'remediation',
  'effects',
  'severity',
  'params',
  'rationale',
  'requires',
  'probeAddresses',
  'docs',
  'strength',
  'slow',
  'deadlineMs',
  'run',
]);

/** Requirements a check may declare; anything else would be read as an environment variable by mistake. */
const FIXED_REQUIREMENTS: readonly string[] = [
  'database',
  'target.http_url',
  'auth.probe_account',
  'auth.no_mfa_account',
  'auth.logout',
  'auth.sessions.expire_sql',
] satisfies readonly ChecklistRequirement[];

/** A key no `with:` mapping has: a strict params schema must refuse it. */
const UNKNOWN_PARAM_PROBE = '__secgate_unknown_key__';

const isText = (value: unknown) => typeof value === 'string' && value.trim().length > 0;

/** What is wrong with `value` as a check (empty when it is one), each problem one phrase naming the key. */
export function checkShapeProblems(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [`expected a check (the value of defineCheck({...})), got ${describe(value)}`];
  }
  const check = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(check)) {
    if (!CONTRACT_KEYS.has(key)) problems.push(`unknown key '${key}' (expected ${[...CONTRACT_KEYS].join(', ')})`);
  }
  if (typeof check.id !== 'string' || !CHECK_ID_PATTERN.test(check.id)) {
    problems.push(`id: expected a dotted id such as example.cookie-flags, got ${describe(check.id)}`);
  }
  for (const key of ['title', 'source', 'remediation'] as const) {
    if (!isText(check[key])) problems.push(`${key}: expected a non-empty string, got ${describe(check[key])}`);
  }
  if (!(CHECK_EFFECTS as readonly unknown[]).includes(check.effects)) {
    problems.push(`effects: expected one of ${CHECK_EFFECTS.join(', ')}, got ${describe(check.effects)}`);
  }
  if (check.severity !== undefined && !(SEVERITIES as readonly unknown[]).includes(check.severity)) {
    problems.push(`severity: expected one of ${SEVERITIES.join(', ')}, got ${describe(check.severity)}`);
  }
  if (check.rationale !== undefined && !isText(check.rationale)) {
    problems.push(`rationale: expected a non-empty string, got ${describe(check.rationale)}`);
  }
  for (const key of ['run', 'requires', 'probeAddresses', 'deadlineMs'] as const) {
    const optional = key !== 'run';
    if ((optional && check[key] === undefined) || typeof check[key] === 'function') continue;
    problems.push(`${key}: expected a function, got ${describe(check[key])}`);
  }
  const paramsProblem = paramsSchemaProblem(check.params);
  if (paramsProblem) problems.push(paramsProblem);
  return problems;
}

/**
 * The `with:` schema must be zod's (the loader reports its issues at file:line:column) and strict:
 * a schema that ignores unknown keys would let a misspelt parameter weaken the control unnoticed.
 */
function paramsSchemaProblem(params: unknown): string | undefined {
  const schema = params as { safeParse?: unknown; _zod?: unknown } | null | undefined;
  if (typeof schema?.safeParse !== 'function' || typeof schema._zod !== 'object') {
    return `params: expected a zod schema (z from 'secgate'), got ${describe(params)}`;
  }
  let refused = false;
  try {
    const result = (
      schema.safeParse as (input: unknown) => { success: boolean; error?: { issues: { code: string }[] } }
    )({ [UNKNOWN_PARAM_PROBE]: true });
    refused = !result.success && (result.error?.issues ?? []).some((issue) => issue.code === 'unrecognized_keys');
  } catch {
    refused = false;
  }
  return refused
    ? undefined
    : 'params: expected a strict object schema (z.object({...}).strict()), so that an unknown with: key is an error';
}

/** What is wrong with the requirements a check declared for its parameters (a function of the check's). */
export function requirementProblems(requirements: unknown): string[] {
  if (!Array.isArray(requirements)) return [`requires() returned ${describe(requirements)}, expected a list`];
  return requirements.flatMap((requirement) =>
    typeof requirement === 'string' &&
    (FIXED_REQUIREMENTS.includes(requirement) || /^(account|env|env\?):\S+$/.test(requirement))
      ? []
      : [
          `requires() returned ${describe(requirement)}, expected one of ${FIXED_REQUIREMENTS.join(', ')}, account:<name>, env:<NAME> or env?:<NAME>`,
        ],
  );
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  return `${typeof value} ${String(value)}`;
}
