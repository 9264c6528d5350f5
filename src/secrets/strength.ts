/**
 * Judges one secret value: long enough, not a known default or placeholder,
 * and random-looking. Pure: the check around it turns each verdict into an
 * observation that carries the fingerprint, never the value.
 */
import { distinctCharacters, mostlyRepeatingUnitLength, shannonEntropy } from './entropy.js';
import { isKnownDefaultSecret, isPlaceholder } from './placeholders.js';

export interface StrengthPolicy {
  minLength: number;
  /** Shannon entropy floor in bits per character. */
  minEntropy: number;
  /** Fewest distinct characters. */
  minDistinct: number;
}

export type StrengthProblem =
  | 'missing'
  | 'too-short'
  | 'known-default'
  | 'placeholder'
  | 'low-entropy'
  | 'few-distinct-characters'
  | 'repeated-pattern'
  | 'sequential'
  | 'encoded-weak-text';

/** A value that is hex or base64 of printable text, and the verdict on that text. */
export interface EncodedText {
  form: 'hex' | 'base64';
  /** Characters of the decoded text. */
  length: number;
  problems: StrengthProblem[];
}

export interface StrengthVerdict {
  problems: StrengthProblem[];
  length: number;
  entropy: number;
  distinct: number;
  /** Set when the value decodes (hex, base64, base64url) to printable text: the text is the secret. */
  encoded?: EncodedText;
}

/** Printable ASCII, space to tilde: random bytes are all printable with odds of (95/256)^n. */
const PRINTABLE = /^[\x20-\x7e]+$/;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+)$/;
/** Shorter encodings decode to a few characters, whose verdict says no more than the value's own. */
const MIN_ENCODED_CHARACTERS = 16;

/**
 * The text a value encodes, when it is hex or base64(url) of printable ASCII: `openssl rand -hex 32` or
 * `-base64 48` decodes to bytes that are not text, `echo -n my-jwt-secret | base64` to the text itself.
 */
export function encodedText(value: string): { form: EncodedText['form']; text: string } | undefined {
  if (value.length < MIN_ENCODED_CHARACTERS) return undefined;
  const asText = (bytes: Buffer): string | undefined => {
    const text = bytes.toString('latin1');
    return PRINTABLE.test(text) ? text : undefined;
  };
  if (HEX.test(value)) {
    const text = asText(Buffer.from(value, 'hex'));
    return text === undefined ? undefined : { form: 'hex', text };
  }
  if (!BASE64.test(value) || value.replace(/=+$/, '').length % 4 === 1) return undefined;
  const bytes = Buffer.from(value, 'base64');
  // Node's decoder skips what it cannot read: only a value that round-trips is that encoding.
  const canonical = (text: string): string => text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  if (canonical(bytes.toString('base64')) !== canonical(value)) return undefined;
  const text = asText(bytes);
  return text === undefined ? undefined : { form: 'base64', text };
}

/** Share of neighbouring characters that step by exactly +1 or -1 (`abcdef`, `987654`). */
export function sequentialShare(value: string): number {
  if (value.length < 2) return 0;
  let steps = 0;
  for (let index = 1; index < value.length; index++) {
    const difference = value.charCodeAt(index) - value.charCodeAt(index - 1);
    if (difference === 1 || difference === -1) steps++;
  }
  return steps / (value.length - 1);
}

export function judgeSecret(value: string | undefined, policy: StrengthPolicy): StrengthVerdict {
  if (value === undefined || value.length === 0) {
    return { problems: ['missing'], length: 0, entropy: 0, distinct: 0 };
  }
  const problems: StrengthProblem[] = [];
  const entropy = shannonEntropy(value);
  const distinct = distinctCharacters(value);
  if (value.length < policy.minLength) problems.push('too-short');
  if (isKnownDefaultSecret(value)) problems.push('known-default');
  else if (isPlaceholder(value)) problems.push('placeholder');
  if (entropy < policy.minEntropy) problems.push('low-entropy');
  if (distinct < policy.minDistinct) problems.push('few-distinct-characters');
  const unit = mostlyRepeatingUnitLength(value);
  // A value that is a short unit repeated (abcabcabc…, with a character added or changed) has only the unit's randomness.
  if (unit < value.length && unit <= value.length / 2) problems.push('repeated-pattern');
  if (sequentialShare(value) > 0.5) problems.push('sequential');
  const decoded = encodedText(value);
  if (decoded === undefined) return { problems, length: value.length, entropy, distinct };
  // Encoding adds characters, never randomness: the text inside is judged as the secret it is.
  const inner = judgeSecret(decoded.text, policy);
  const encoded: EncodedText = { form: decoded.form, length: inner.length, problems: inner.problems };
  if (inner.problems.length > 0) problems.push('encoded-weak-text');
  return { problems, length: value.length, entropy, distinct, encoded };
}

export function describeProblem(problem: StrengthProblem, policy: StrengthPolicy, encoded?: EncodedText): string {
  switch (problem) {
    case 'encoded-weak-text': {
      if (encoded === undefined) return 'encodes a text that is itself weak';
      const inner = encoded.problems.map((each) => describeProblem(each, policy)).join(', ');
      return `is ${encoded.form} of a ${encoded.length}-character text that ${inner}`;
    }
    case 'missing':
      return 'is not set';
    case 'too-short':
      return `is shorter than ${policy.minLength} characters`;
    case 'known-default':
      return 'is a known default secret';
    case 'placeholder':
      return 'is a placeholder, not a secret';
    case 'low-entropy':
      return `has low entropy (below ${policy.minEntropy} bits per character)`;
    case 'few-distinct-characters':
      return `uses fewer than ${policy.minDistinct} distinct characters`;
    case 'repeated-pattern':
      return 'is a short pattern repeated';
    case 'sequential':
      return 'is mostly a sequential run of characters';
  }
}
