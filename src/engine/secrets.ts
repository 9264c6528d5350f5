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

/** `scheme://userinfo@`: whatever stands before the `@` of a URL's authority, token or user:password. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/**
 * Every URL's userinfo replaced by `***`: `https://deploy:pw@host/x` → `https://***@host/x`.
 * A credential in a URL is a credential whether or not its value is known, and a token is
 * often the whole userinfo (`https://TOKEN@host`).
 */
export function redactUrlUserinfo(text: string): string {
  return text.replace(URL_USERINFO, '$1***@');
}

/**
 * Keeps the secret values the run knows about (probe passwords, database
 * passwords, tokens a check obtained) and scrubs them from anything written.
 * It is the last line of defence: checks already put fingerprints, not values,
 * into their observations. Credentials in URLs are scrubbed whether known or not.
 */
export function createSecretRedactor(initial: Iterable<string> = []): SecretRedactor {
  const known = new Set<string>();
  const redactor: SecretRedactor = {
    register(value) {
      if (value.length >= MIN_REDACTABLE_LENGTH) known.add(value);
    },
    fingerprint: fingerprintSecret,
    redact(text) {
      let result = redactUrlUserinfo(text);
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
