/** Path patterns for `ignore_paths`: kept tiny and explicit rather than a full glob library. */
import { z } from 'zod';

function globToRegex(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern[index] ?? '';
    if (pattern.startsWith('**/', index)) {
      source += '(?:.*/)?'; // zero or more directories
      index += 2;
    } else if (pattern.startsWith('**', index)) {
      source += '.*';
      index += 1;
    } else if (character === '*') source += '[^/]*';
    else source += character.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** `test/`, `fixtures/**`, `**\/*.test.ts`: a directory prefix, or a glob with `*` (one segment) and `**` (any depth). */
export function pathMatches(pattern: string, filePath: string): boolean {
  if (!pattern.includes('*')) {
    return filePath === pattern || filePath.startsWith(pattern.endsWith('/') ? pattern : `${pattern}/`);
  }
  return globToRegex(pattern).test(filePath);
}

/**
 * A path scope entry as written in a checklist (`services/auth`, `./libs/shared/`), relative to
 * the repository's top level: never absolute, never climbing out with `..`.
 */
export const scopePathSchema = z
  .string()
  .min(1)
  .refine((entry) => !entry.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(entry), {
    message: 'expected a path relative to the repository top level, not an absolute path',
  })
  .refine((entry) => !entry.split(/[\\/]/).includes('..'), {
    message: 'expected a path inside the repository (no ".." segments)',
  })
  .transform(normaliseScopePath);

/** `./services/auth/` → `services/auth`; `.` → `` (the whole repository). */
function normaliseScopePath(entry: string): string {
  const segments = entry.split(/[\\/]+/).filter((segment) => segment !== '' && segment !== '.');
  return segments.join('/');
}

/** Whether a path (relative to the top level) lies in the scope: no scope is the whole repository. */
export function inScope(scope: readonly string[] | undefined, filePath: string): boolean {
  if (scope === undefined) return true;
  return scope.some((entry) => entry === '' || filePath === entry || filePath.startsWith(`${entry}/`));
}

/** The "path" of a secret in a commit's message, or an annotated tag's: it lies in no file. */
export const COMMIT_MESSAGE = 'commit message';
export const TAG_MESSAGE = 'tag message';

const DOCUMENT_EXTENSIONS = new Set(['.md', '.markdown', '.rst', '.txt', '.adoc']);

/**
 * Whether text at this path is prose: a commit or tag message, or a documentation file. There a value that
 * reads as words with the sentence going on after it is the sentence, not a secret; in a config file or a
 * script (a database password of joined words, then `docker compose up`) it is a value.
 */
export function isProsePath(filePath: string | undefined): boolean {
  return filePath !== undefined && (isMessagePath(filePath) || DOCUMENT_EXTENSIONS.has(extensionOf(filePath)));
}

/**
 * Prose where a value that reads as words may be the sentence going on (the generic rule's exemption): as
 * isProsePath, but not a `.txt` file, where credentials get dumped (`passwords.txt`, `notes.txt`).
 */
export function isSentenceProsePath(filePath: string | undefined): boolean {
  return isProsePath(filePath) && extensionOf(filePath ?? '') !== '.txt';
}

function isMessagePath(filePath: string): boolean {
  return filePath === COMMIT_MESSAGE || filePath === TAG_MESSAGE;
}

function extensionOf(filePath: string): string {
  const dot = filePath.lastIndexOf('.');
  return dot > filePath.lastIndexOf('/') ? filePath.slice(dot).toLowerCase() : '';
}
