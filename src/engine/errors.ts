/**
 * How a caught value becomes text, written once. A `catch` receives `unknown`: an Error
 * speaks through its message, anything else thrown (a string, a number) through String().
 * Callers redact the result themselves where it may quote a secret.
 */

/** The error's own message, or the thrown value as text when it is not an Error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The message and, when the error has one, its system code (`EACCES`): one line for the user. */
export function errorMessageWithCode(error: unknown): string {
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? ` (${error.code})` : '';
  return `${errorMessage(error)}${code}`;
}
