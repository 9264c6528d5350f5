/**
 * The registry: a plain list of every check module. Adding a check is adding
 * one import and one entry here.
 */
import type { CheckDefinition } from '../src/engine/types.js';

export const allChecks: readonly CheckDefinition[] = [];

export function findCheck(id: string): CheckDefinition | undefined {
  return allChecks.find((check) => check.id === id);
}
