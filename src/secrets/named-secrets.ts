/**
 * The named-secret rule both repository checks apply: a configured secret
 * name (`POSTGRES_PASSWORD`) given a value. Under its own name a short or
 * low-entropy password is as much a secret as a long one, and the generic
 * rule (12 characters or more, high entropy) lets it pass. Pure: the checks
 * read the files and blobs, assignments.ts finds the values, this judges them.
 */
import { findNamedAssignments, isCredentialFree, isExampleFile, type NamedAssignment } from './assignments.js';
import type { ContentKind } from './content.js';
import { isKnownDefaultSecret, isPlaceholder } from './placeholders.js';
import { type SecretRule, secretRules } from './rules.js';

/** The rule id of a named secret's value, in findings and baseline entries of both checks. */
export const NAMED_SECRET_RULE = 'named-secret-value';
/** The id of the marker rule (namedSecretRules): its matches say where a name is, they are never findings. */
export const NAMED_SECRET_MARKER = 'named-secret-marker';

/** The secret names both checks look for unless a checklist names others. */
export const DEFAULT_SECRET_NAMES: readonly string[] = [
  'JWT_SECRET_KEY',
  'POSTGRES_PASSWORD',
  'AUTH_SECRET',
  'DATABASE_URL',
  'AUTH_BASIC_PASSWORD',
];

/**
 * What a value assigned to a secret's name is, found where the value is read: the
 * value itself stays there, and the judge weighs these facts with the file's path.
 */
export interface AssignedValue {
  placeholder: boolean;
  knownDefault: boolean;
  /** Another variable's name (`SECRET_KEY`), not a value. */
  variableName: boolean;
  /** No URL with a password or token, for a name that may hold a plain URL (DATABASE_URL). */
  credentialFree: boolean;
}

export function assignedValueFacts(name: string, value: string): AssignedValue {
  return {
    placeholder: isPlaceholder(value),
    knownDefault: isKnownDefaultSecret(value),
    variableName: /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(value),
    credentialFree: isCredentialFree(name, value),
  };
}

/**
 * Why a named value is fine (`placeholder`, `credential-free`) or a finding
 * (`known-default`, a real value in an example file, any other value).
 */
export type NamedVerdict =
  | { ok: true; why: 'placeholder' | 'credential-free' }
  | { ok: false; why: 'known-default' | 'example-value' | 'value' };

/**
 * One named value judged with its file's path: a placeholder, a value without
 * credentials or a known default in an example file is fine; any other value
 * is a finding.
 */
export function judgeNamedValue(form: NamedAssignment['form'], facts: AssignedValue, file: string): NamedVerdict {
  const example = isExampleFile(file);
  // `changeme` is a fine placeholder in .env.example, but a live default in code or compose files.
  const knownDefault = facts.knownDefault && !(example && facts.placeholder);
  // In code, a default is live (getenv("X", "changeme")) unless it is only another variable's name.
  const placeholder = !knownDefault && facts.placeholder && (form === 'assignment' || facts.variableName);
  if (placeholder) return { ok: true, why: 'placeholder' };
  if (!knownDefault && facts.credentialFree) return { ok: true, why: 'credential-free' };
  return { ok: false, why: knownDefault ? 'known-default' : example ? 'example-value' : 'value' };
}

/** The named values in a text that the judge does not accept, each with why (values never leave the process). */
export function namedSecretFindings(
  text: string,
  names: readonly string[],
  file: string,
): (NamedAssignment & { verdict: NamedVerdict })[] {
  return unacceptedAssignments(findNamedAssignments(text, names, file), file);
}

/** The assignments found in a file (as text or as bytes) that the judge does not accept, each with why. */
export function unacceptedAssignments<Found extends NamedAssignment>(
  assignments: readonly Found[],
  file: string,
): (Found & { verdict: NamedVerdict })[] {
  return assignments
    .map((assignment) => ({
      ...assignment,
      verdict: judgeNamedValue(assignment.form, assignedValueFacts(assignment.name, assignment.value), file),
    }))
    .filter((assignment) => !assignment.verdict.ok);
}

const withMarkers = new Map<string, readonly SecretRule[]>();

/**
 * The secret rules plus one that only marks where a name occurs, for the
 * keyword prefilter: the names ride along in its one pass over every blob, so
 * only content holding a name (case-sensitively, as assignments.ts looks for
 * it) is decoded and searched for assignments. One list per name list, so that
 * the scanner builds its filters for it once.
 */
export function namedSecretRules(names: readonly string[]): readonly SecretRule[] {
  if (names.length === 0) return secretRules;
  const key = names.join('\n');
  let rules = withMarkers.get(key);
  if (!rules) {
    const marker: SecretRule = {
      id: NAMED_SECRET_MARKER,
      description: 'where a configured secret name occurs (its values are judged by namedSecretFindings)',
      keywords: [...new Set(names.map((name) => name.toLowerCase()))],
      // Names are identifiers (the parameter's schema): nothing to escape.
      regex: new RegExp(names.join('|'), 'g'),
      secretGroup: 0,
      // The match is the name itself, which reads as a placeholder (an upper-case variable's name).
      placeholdersAllowed: false,
      startsAtKeyword: true,
    };
    rules = [...secretRules, marker];
    withMarkers.set(key, rules);
  }
  return rules;
}

/**
 * The text of content read whole, decoded as it was scanned; none for binary content and UTF-32, whose
 * scan looks for the names itself (ContentScan.assignments).
 */
export function decodedText(content: Uint8Array, kind: ContentKind): string | undefined {
  switch (kind) {
    case 'text':
      return Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8');
    case 'utf-16le':
    case 'utf-16be':
      return new TextDecoder(kind).decode(content);
    default:
      return undefined;
  }
}
