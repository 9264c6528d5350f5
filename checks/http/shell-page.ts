/**
 * The page an app serves on any unknown path (a single-page app's shell), as checks compare it: a page that
 * differs from it only in per-response tokens is the same page. Pure.
 */

/**
 * Runs of base64/base64url/hex characters long enough to be a per-response token (a CSP nonce, a CSRF
 * token), `=` padding included. Words of 16 letters are caught too, harmlessly: both pages are
 * normalised alike, and everything between the runs must still match.
 */
const OPAQUE_TOKEN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const OPAQUE_PLACEHOLDER = '\u0000token\u0000';

/** Pure: `text` with each long opaque token replaced by one placeholder, so two renderings of one shell compare equal. */
export function withoutOpaqueTokens(text: string): string {
  return text.replace(OPAQUE_TOKEN, OPAQUE_PLACEHOLDER);
}
