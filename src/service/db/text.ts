/**
 * Text PostgreSQL cannot take as sent. A `text` value holds no NUL (the
 * server rejects the whole statement), and node-postgres encodes an unpaired
 * UTF-16 surrogate as U+FFFD, so such a string would be stored, and compared,
 * as a different string. JSON can carry both (`"\u0000"`, `"\ud800"`).
 */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const EVERY_UNPAIRED_SURROGATE = new RegExp(UNPAIRED_SURROGATE.source, 'g');
const NUL = '\u0000';
const REPLACEMENT_CHARACTER = '\uFFFD';

/** True when PostgreSQL would store and compare exactly this string. */
export function isStorableText(value: string): boolean {
  return !value.includes(NUL) && !UNPAIRED_SURROGATE.test(value);
}

/** The string with every NUL and unpaired surrogate replaced by U+FFFD, for an audit row that must be written. */
export function storableText(value: string): string {
  return value.replaceAll(NUL, REPLACEMENT_CHARACTER).replace(EVERY_UNPAIRED_SURROGATE, REPLACEMENT_CHARACTER);
}
