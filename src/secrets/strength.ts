/**
 * Judges one secret value: long enough, not a known default or placeholder,
 * and random-looking. Pure: the check around it turns each verdict into an
 * observation that carries the fingerprint, never the value.
 */
import { distinctCharacters, repeatingUnitLength, shannonEntropy } from './entropy.js';
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
  | 'sequential';

export interface StrengthVerdict {
  problems: StrengthProblem[];
  length: number;
  entropy: number;
  distinct: number;
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
  const unit = repeatingUnitLength(value);
  // A value that is a short unit repeated (abcabcabc…) has only the unit's randomness.
  if (unit < value.length && unit <= value.length / 2) problems.push('repeated-pattern');
  if (sequentialShare(value) > 0.5) problems.push('sequential');
  return { problems, length: value.length, entropy, distinct };
}

export function describeProblem(problem: StrengthProblem, policy: StrengthPolicy): string {
  switch (problem) {
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
