/**
 * Finds values given to configured secret names in a file: `NAME=value`
 * (.env, shell), `NAME: value` (YAML, compose), `"NAME": "value"` (JSON),
 * `NAME = "value"` (code) and code defaults such as
 * `os.getenv("NAME", "default_secret")` or `process.env.NAME ?? 'dev'`
 * (seed 000 item 1). Pure and line-aware.
 */
import path from 'node:path';
import { isProsePath } from './paths.js';
import { positionIn } from './scanner.js';

export interface NamedAssignment {
  name: string;
  line: number;
  column: number;
  /** The assigned value (never leaves the process; callers fingerprint it). */
  value: string;
  form: 'assignment' | 'code-default';
}

const CODE_EXTENSIONS = new Set([
  '.ts',
  '.tsx',
  '.js',
  '.jsx',
  '.mjs',
  '.cjs',
  '.py',
  '.go',
  '.java',
  '.kt',
  '.rb',
  '.rs',
  '.cs',
  '.php',
  '.swift',
  '.scala',
]);

/** In code an unquoted right-hand side is an expression (a variable, a call), not a literal secret. */
export function isCodeFile(filePath: string): boolean {
  return CODE_EXTENSIONS.has(path.extname(filePath).toLowerCase());
}

/**
 * Words that continue a sentence in documentation (`AUTH_SECRET: now required at startup`): after a name in
 * prose they are the sentence going on, not a value. A bare value only, in prose files only; a quoted value or
 * any other word is judged as a value.
 */
const PROSE_WORDS = new Set(
  (
    'a an the now is are was be must should will can may not no required optional needed see set unset ' +
    'to in on of for from with as if when where which that this it its default defaults also only'
  ).split(' '),
);

/** Whether a bare value after a name in a documentation file is the sentence going on (see PROSE_WORDS). */
function continuesProse(filePath: string, value: string, following: string): boolean {
  return isProsePath(filePath) && PROSE_WORDS.has(value.toLowerCase()) && /^[ \t]+[A-Za-z]/.test(following);
}

const EXAMPLE_BASENAME = /(?:^|[._-])(?:example|sample|template|dist|defaults?)(?:$|[._-])/i;

/** `.env.example`, `.env.sample`, `example.env`, `config.example.yml`: files meant to hold placeholders. */
export function isExampleFile(filePath: string): boolean {
  return EXAMPLE_BASENAME.test(path.basename(filePath));
}

/** `.env`, `.env.production`, `prod.env`, but not `.env.example` and friends. */
export function isEnvFile(filePath: string): boolean {
  const base = path.basename(filePath).toLowerCase();
  const envLike = base === '.env' || base.startsWith('.env.') || base.endsWith('.env');
  return envLike && !isExampleFile(base);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
  return starts;
}

export function findNamedAssignments(text: string, names: readonly string[], filePath: string): NamedAssignment[] {
  return findAssignments(text, names, filePath, false).map(({ start: _start, offset: _offset, ...found }) => found);
}

/** A named assignment found in bytes: where its match starts and where its value starts, in bytes. */
export interface NamedAssignmentInBytes extends NamedAssignment {
  /** Byte offset of the match (the name, or the quote or `env` before it): the window that holds it reports it. */
  start: number;
  /** Byte offset of the value. */
  offset: number;
}

/**
 * findNamedAssignments over bytes that are not held as one string (a window of
 * content streamed past, the printable runs of binary content): read as latin1,
 * one byte one character, so offsets and columns count bytes, as the secret
 * rules' do there. Values are turned back into the UTF-8 they were, and a bare
 * value ends where the decoded text has whitespace, so each value is the one
 * findNamedAssignments finds in the decoded text.
 */
export function findNamedAssignmentsInBytes(
  bytes: Uint8Array,
  names: readonly string[],
  filePath: string,
): NamedAssignmentInBytes[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!names.some((name) => buffer.includes(name))) return [];
  return findAssignments(buffer.toString('latin1'), names, filePath, true);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the test is "any byte >= 0x80"
const NON_ASCII = /[^\x00-\x7f]/;
/** A latin1 string's characters are the original bytes: the UTF-8 text they were. */
function utf8Of(value: string): string {
  return NON_ASCII.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value;
}

/**
 * The one finder of both: `latin1` text is bytes, where a bare value runs to ASCII whitespace (a latin1 0xA0 may
 * be the middle of a UTF-8 character) and is then cut where its UTF-8 text has whitespace.
 */
function findAssignments(
  text: string,
  names: readonly string[],
  filePath: string,
  latin1: boolean,
): NamedAssignmentInBytes[] {
  if (names.length === 0) return [];
  const present = names.filter((name) => text.includes(name));
  if (present.length === 0) return [];
  const alternation = present.map(escapeRegex).join('|');
  const code = isCodeFile(filePath);
  const found: NamedAssignmentInBytes[] = [];
  let starts: number[] | undefined;
  const record = (name: string, raw: string, offset: number, start: number, form: NamedAssignment['form']): void => {
    const value = latin1 ? utf8Of(raw) : raw;
    starts ??= lineStarts(text);
    found.push({ name, value, form, start, offset, ...positionIn(starts, offset) });
  };
  const bareValue = latin1 ? String.raw`[^\t\n\v\f\r ;,]*` : String.raw`[^\s;,]*`;

  // NAME = value | NAME: value | "NAME": "value" | export NAME=value; quoted values may hold spaces. A `#` opens a
  // comment only after whitespace (YAML, shell, dotenv, compose): `Kx7#qp2Lm` is one value, `: # set later` none.
  const assignment = new RegExp(
    String.raw`(?<![A-Za-z0-9_])(${alternation})(?![A-Za-z0-9_])["']?[ \t]*(?::=|=>|=|:)[ \t]*(?:"([^"\n]*)"|'([^'\n]*)'|\x60([^\x60\n]*)\x60|(?!#)(${bareValue}))`,
    'g',
  );
  for (let match = assignment.exec(text); match !== null; match = assignment.exec(text)) {
    const name = match[1] ?? '';
    const quoted = match[2] ?? match[3] ?? match[4];
    // In bytes, the bare value as the decoded text would end it: at its first whitespace, `;` or `,`.
    const bare = latin1 && match[5] !== undefined ? cutAtUtf8Space(match[5]) : match[5];
    if (quoted === undefined && (code || bare === undefined || bare === '')) continue;
    const value = quoted ?? bare ?? '';
    if (value === '') continue;
    const end = match.index + match[0].length - (match[5] ?? '').length + (bare ?? '').length;
    if (quoted === undefined && continuesProse(filePath, latin1 ? utf8Of(value) : value, text.slice(end, end + 2)))
      continue;
    record(name, value, end - value.length - (quoted === undefined ? 0 : 1), match.index, 'assignment');
  }

  // getenv("NAME", "fallback"), environ.get('NAME', 'fallback'), process.env.NAME ?? 'fallback', || "fallback".
  const codeDefault = new RegExp(
    String.raw`(?:["'](${alternation})["']\s*,\s*(?:default\s*=\s*)?["']([^"'\n]+)["']|env(?:\.|\[["'])(${alternation})(?:["']\])?\s*(?:\?\?|\|\|)\s*["']([^"'\n]+)["'])`,
    'g',
  );
  for (let match = codeDefault.exec(text); match !== null; match = codeDefault.exec(text)) {
    const name = match[1] ?? match[3] ?? '';
    const value = match[2] ?? match[4] ?? '';
    record(name, value, match.index + match[0].lastIndexOf(value), match.index, 'code-default');
  }
  return found.sort((left, right) => left.line - right.line || left.column - right.column);
}

/** The latin1 text of a bare value up to where its UTF-8 text has whitespace (U+00A0, U+2003 …), `;` or `,`. */
function cutAtUtf8Space(raw: string): string {
  if (!NON_ASCII.test(raw)) return raw;
  const cut = /[\s;,]/.exec(Buffer.from(raw, 'latin1').toString('utf8'));
  if (cut === null) return raw;
  return Buffer.from(Buffer.from(raw, 'latin1').toString('utf8').slice(0, cut.index), 'utf8').toString('latin1');
}

/** A variable named for a location (`DATABASE_URL`, `REDIS_URI`, `SENTRY_DSN`): its secret, if any, is a credential inside. */
const LOCATION_NAME = /(?:^|_)(?:URL|URI|DSN)$/i;
const URL_SHAPED = /^[a-z][a-z0-9+.-]*:\/\//i;
/** `scheme://user:password@`, for a URL the WHATWG parser refuses. */
const USERINFO_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]+@/i;
/** A libpq keyword string (`host=db password=…`) or a query parameter naming a credential. */
const CREDENTIAL_PARAMETER =
  /(?:^|[\s?&;])(?:password|passwd|pwd|secret|token|api_?key|access_?key|sslpassword)=[^\s&;]+/i;
/** A user name that is a token (`https://<token>@git.example`): long and drawn from a large alphabet. */
const TOKEN_USERNAME = /^[A-Za-z0-9_-]{20,}$/;

/** Whether a URL-shaped or location value carries a credential: a password, a token as user name, a secret parameter. */
export function holdsCredentials(value: string): boolean {
  if (CREDENTIAL_PARAMETER.test(value)) return true;
  if (!URL_SHAPED.test(value)) return false;
  try {
    const url = new URL(value);
    return url.password !== '' || (TOKEN_USERNAME.test(url.username) && /\d/.test(url.username));
  } catch {
    return USERINFO_WITH_PASSWORD.test(value);
  }
}

/**
 * A value that holds no secret although its variable is a secret name: a URL
 * without credentials (`postgresql://postgres@127.0.0.1:5432/app`), or
 * anything but a URL with credentials under a location name (`DATABASE_URL:
 * the suite starts…` is prose in a comment, not a committed value).
 */
export function isCredentialFree(name: string, value: string): boolean {
  return (URL_SHAPED.test(value) || LOCATION_NAME.test(name)) && !holdsCredentials(value);
}
