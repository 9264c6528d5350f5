import { createHash } from 'node:crypto';
import type { SecretFingerprint, SecretRedactor } from './types.js';

/** Shortest value worth scrubbing: shorter strings would redact ordinary words. */
const MIN_REDACTABLE_LENGTH = 6;

export function fingerprintSecret(value: string): SecretFingerprint {
  return { length: value.length, sha256: createHash('sha256').update(value).digest('hex').slice(0, 12) };
}

export function describeFingerprint(fingerprint: SecretFingerprint): string {
  return `[redacted len=${fingerprint.length} sha256=${fingerprint.sha256}]`;
}

/**
 * Keeps the secret values the run knows about (probe passwords, database
 * passwords, tokens a check obtained) and scrubs them from anything written.
 * It is the last line of defence: checks already put fingerprints, not values,
 * into their observations.
 */
export function createSecretRedactor(initial: Iterable<string> = []): SecretRedactor {
  const known = new Set<string>();
  const redactor: SecretRedactor = {
    register(value) {
      if (value.length >= MIN_REDACTABLE_LENGTH) known.add(value);
    },
    fingerprint: fingerprintSecret,
    redact(text) {
      let result = text;
      // Longest first, so a secret that contains another is scrubbed whole.
      for (const secret of [...known].sort((a, b) => b.length - a.length)) {
        if (result.includes(secret)) {
          result = result.split(secret).join(describeFingerprint(fingerprintSecret(secret)));
        }
      }
      return result;
    },
  };
  for (const value of initial) redactor.register(value);
  return redactor;
}
