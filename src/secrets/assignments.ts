/**
 * Finds values given to configured secret names in a file: `NAME=value`
 * (.env, shell), `NAME: value` (YAML, compose), `"NAME": "value"` (JSON),
 * `NAME = "value"` (code) and code defaults such as
 * `os.getenv("NAME", "default_secret")` or `process.env.NAME ?? 'dev'`
 * (seed 000 item 1). Pure and line-aware.
 */
import path from 'node:path';
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

const PROSE_EXTENSIONS = new Set(['.md', '.markdown', '.rst', '.txt', '.adoc']);
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
  return (
    PROSE_EXTENSIONS.has(path.extname(filePath).toLowerCase()) &&
    PROSE_WORDS.has(value.toLowerCase()) &&
    /^[ \t]+[A-Za-z]/.test(following)
  );
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
  if (names.length === 0) return [];
  const present = names.filter((name) => text.includes(name));
  if (present.length === 0) return [];
  const alternation = present.map(escapeRegex).join('|');
  const code = isCodeFile(filePath);
  const found: NamedAssignment[] = [];
  let starts: number[] | undefined;
  const record = (name: string, value: string, offset: number, form: NamedAssignment['form']): void => {
    starts ??= lineStarts(text);
    found.push({ name, value, form, ...positionIn(starts, offset) });
  };

  // NAME = value | NAME: value | "NAME": "value" | export NAME=value; quoted values may hold spaces. A `#` opens a
  // comment only after whitespace (YAML, shell, dotenv, compose): `Kx7#qp2Lm` is one value, `: # set later` none.
  const assignment = new RegExp(
    String.raw`(?<![A-Za-z0-9_])(${alternation})(?![A-Za-z0-9_])["']?[ \t]*(?::=|=>|=|:)[ \t]*(?:"([^"\n]*)"|'([^'\n]*)'|\x60([^\x60\n]*)\x60|(?!#)([^\s;,]*))`,
    'g',
  );
  for (let match = assignment.exec(text); match !== null; match = assignment.exec(text)) {
    const name = match[1] ?? '';
    const quoted = match[2] ?? match[3] ?? match[4];
    const bare = match[5];
    if (quoted === undefined && (code || bare === undefined || bare === '')) continue;
    const value = quoted ?? bare ?? '';
    if (value === '') continue;
    if (
      quoted === undefined &&
      continuesProse(filePath, value, text.slice(assignment.lastIndex, assignment.lastIndex + 2))
    )
      continue;
    record(name, value, match.index + match[0].length - value.length - (quoted === undefined ? 0 : 1), 'assignment');
  }

  // getenv("NAME", "fallback"), environ.get('NAME', 'fallback'), process.env.NAME ?? 'fallback', || "fallback".
  const codeDefault = new RegExp(
    String.raw`(?:["'](${alternation})["']\s*,\s*(?:default\s*=\s*)?["']([^"'\n]+)["']|env(?:\.|\[["'])(${alternation})(?:["']\])?\s*(?:\?\?|\|\|)\s*["']([^"'\n]+)["'])`,
    'g',
  );
  for (let match = codeDefault.exec(text); match !== null; match = codeDefault.exec(text)) {
    const name = match[1] ?? match[3] ?? '';
    const value = match[2] ?? match[4] ?? '';
    record(name, value, match.index + match[0].lastIndexOf(value), 'code-default');
  }
  return found.sort((left, right) => left.line - right.line || left.column - right.column);
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
