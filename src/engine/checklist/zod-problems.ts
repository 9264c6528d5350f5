/**
 * zod's issues as checklist problems: each at its file:line:column, naming the
 * key path, what was expected and what was found (never a value that came from
 * the environment, never a URL's credentials).
 */
import { z } from 'zod';
import { redactUrlUserinfo } from '../secrets.js';
import type { ChecklistProblem } from './errors.js';
import { closestMatches } from './suggest.js';
import { formatKeyPath, type KeyPath, type Locate } from './yaml-source.js';

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

export function zodProblems(
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

/** Follows a key path through object, array, record, optional, nullable and default wrappers. */
function schemaAt(schema: z.ZodType, keyPath: readonly PropertyKey[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (const part of [...keyPath, undefined]) {
    while (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable) {
      current = current.unwrap() as z.ZodType;
    }
    if (part === undefined || current === undefined) break;
    if (current instanceof z.ZodArray) current = current.element as z.ZodType;
    else if (current instanceof z.ZodRecord) current = current.valueType as z.ZodType;
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
