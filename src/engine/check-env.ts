/**
 * The environment a check sees: only the variables its checklist entry names,
 * declared as `env:NAME` (must be set) or `env?:NAME` (read when set) by the
 * check's `requires`. The gate's own environment (PATH, tokens, a CI's
 * secrets) stays out of every check that does not ask for a variable by name.
 */
import type { CheckContext, CheckDefinition, ChecklistRequirement } from './types.js';

/** The variable names the requirements declare, in order, each once. */
export function declaredEnvNames(requirements: readonly ChecklistRequirement[]): string[] {
  const names = requirements.flatMap((requirement) => {
    if (requirement.startsWith('env:')) return [requirement.slice('env:'.length)];
    if (requirement.startsWith('env?:')) return [requirement.slice('env?:'.length)];
    return [];
  });
  return [...new Set(names)];
}

/** The declared variables of `env` that are set, frozen. */
export function declaredEnv(
  requirements: readonly ChecklistRequirement[],
  env: Readonly<Record<string, string | undefined>>,
): Readonly<Record<string, string | undefined>> {
  const visible: Record<string, string> = {};
  for (const name of declaredEnvNames(requirements)) {
    // Own keys only: a name such as `constructor` must not find Object.prototype's.
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    if (value !== undefined) visible[name] = value;
  }
  return Object.freeze(visible);
}

/** The context one check runs with: the shared one, its environment narrowed to what the entry declares. */
export function contextForCheck(context: CheckContext, check: CheckDefinition, params: unknown): CheckContext {
  return { ...context, env: declaredEnv(check.requires?.(params) ?? [], context.env) };
}
