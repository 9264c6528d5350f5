/**
 * Whether two rejections are the same answer, as a client sees it: status,
 * headers and body — not only status and body. A service can tell a real
 * account apart in a header (`x-ratelimit-remaining` on wrong passwords only,
 * `retry-after` when locked, a cookie set for known users) while status and
 * body are identical. It can also put a per-request id in every body (a trace
 * id, as ASP.NET's ProblemDetails does by default), which differs between any
 * two answers and says nothing about the account.
 *
 * So an answer is reduced to its shape: every header and every JSON field,
 * with the values that are per-request noise masked. A value is noise only
 * when the samples prove it: it differs within one class of answers, is
 * constant within none, is present in every answer, and every value of it
 * looks like an identifier (no words: "wrong password (req 7)" is compared
 * whole); a header's value may also be a number (a rate-limit count, a
 * response time) or an HTTP date. A body's short number (attempts left) is
 * never noise. Anything else is compared exactly, so a field or header
 * that only one class carries, or that one class holds constant, tells the
 * classes apart. Pure functions, no I/O.
 */

/** A rejection as the shape needs it: status, headers (lower-cased names), body (scrubbed). */
export interface AnswerParts {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Headers that differ between any two answers of the same code path, or follow from the body: when it was sent,
 * the connection it went over, the body's length and hash. Never compared.
 */
const UNCOMPARED_HEADERS = new Set(['date', 'content-length', 'etag', 'connection', 'keep-alive', 'age']);

/** A value that may be a per-request id or time: one token, no spaces, at least 8 characters. */
const IDENTIFIER_LIKE = /^[A-Za-z0-9._:+/=-]{8,200}$/;
/**
 * What else a header's value may be when it changes per request: a number with an optional unit (a rate-limit
 * counter shared by every request, `X-Response-Time: 97.42ms`), a `Server-Timing` list, or an HTTP date.
 */
const HEADER_NOISE_LIKE = [
  /^\d{1,15}(\.\d+)?(ms|s)?$/,
  /^[a-z0-9_-]+(;\s*(dur|desc)=[^,;]*)*(,\s*[a-z0-9_-]+(;\s*(dur|desc)=[^,;]*)*)*$/i,
  /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
];

/**
 * Pure: the headers of a response as the shape compares them. Set-Cookie keeps each cookie's name and attributes,
 * not its value (a fresh session id per answer; also a secret). Every value goes through `redact`.
 */
export function comparableHeaders(
  headers: Record<string, string | string[]>,
  redact: (value: string) => string,
): Record<string, string> {
  const comparable: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (UNCOMPARED_HEADERS.has(lower)) continue;
    const values = Array.isArray(value) ? value : [value];
    comparable[lower] =
      lower === 'set-cookie'
        ? values.map(cookieWithoutValue).sort().join(' | ')
        : values.map((single) => redact(single)).join(', ');
  }
  return comparable;
}

/**
 * `name=value; Path=/; HttpOnly` → `name; path=/; httponly`. Expires and Max-Age go too: a cookie set with a
 * lifetime carries a date that moves with every answer.
 */
function cookieWithoutValue(setCookie: string): string {
  const [pair = '', ...attributes] = setCookie.split(';');
  const name = pair.split('=')[0]?.trim() ?? '';
  const kept = attributes
    .map((attribute) => attribute.trim().toLowerCase())
    .filter((attribute) => !/^(expires|max-age)=/.test(attribute));
  return [name, ...kept].join('; ');
}

/** Every comparable part of an answer by a path: `status`, `header:<name>`, `body` or `body:<json path>`. */
function partsOf(answer: AnswerParts): Map<string, string> {
  const parts = new Map<string, string>([['status', String(answer.status)]]);
  for (const [name, value] of Object.entries(answer.headers)) parts.set(`header:${name}`, value);
  const json = parseJsonObject(answer.body);
  if (json === undefined) parts.set('body', answer.body);
  else flatten(json, 'body:', parts);
  return parts;
}

function parseJsonObject(body: string): object | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function flatten(value: unknown, prefix: string, into: Map<string, string>): void {
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    // An empty object or array is a leaf of its own: {} and [] must not read as "absent".
    if (entries.length === 0) into.set(prefix, JSON.stringify(value));
    for (const [key, inner] of entries) flatten(inner, `${prefix}${prefix.endsWith(':') ? '' : '.'}${key}`, into);
    return;
  }
  into.set(prefix, JSON.stringify(value));
}

/**
 * Pure: the parts that are per-request noise across these classes of answers (see the header comment). Needs a
 * class of at least two answers to prove anything: with one answer per class nothing is noise.
 */
export function noiseParts(classes: readonly (readonly AnswerParts[])[]): Set<string> {
  const partsByClass = classes.map((answers) => answers.map(partsOf));
  const allAnswers = partsByClass.flat();
  const paths = new Set(allAnswers.flatMap((parts) => [...parts.keys()]));
  const noise = new Set<string>();
  for (const path of paths) {
    if (path === 'status' || path === 'body') continue;
    if (!allAnswers.every((parts) => parts.has(path))) continue;
    const values = allAnswers.map((parts) => parts.get(path) ?? '');
    const header = path.startsWith('header:');
    const noiseLike = (value: string) =>
      IDENTIFIER_LIKE.test(value.replace(/^"|"$/g, '')) ||
      (header && HEADER_NOISE_LIKE.some((shape) => shape.test(value)));
    if (!values.every(noiseLike)) continue;
    const multiSample = partsByClass.filter((answers) => answers.length >= 2);
    const varies = (answers: Map<string, string>[]) => new Set(answers.map((parts) => parts.get(path))).size > 1;
    if (multiSample.some(varies) && multiSample.every(varies)) noise.add(path);
  }
  return noise;
}

/** Pure: an answer's shape with the noise masked; equal shapes are the same answer to a client. */
export function answerShape(answer: AnswerParts, noise: ReadonlySet<string>): string {
  const parts = [...partsOf(answer)]
    .map(([path, value]) => `${path}=${noise.has(path) ? '(varies per request)' : value}`)
    .sort();
  return parts.join('\n');
}

/**
 * Pure: in words, how two shapes differ (the first few differing parts), for the evidence: e.g.
 * `header:x-ratelimit-remaining: "4" against (absent)`.
 */
export function shapeDifference(first: string, second: string, limit = 3): string {
  const byPath = (shape: string) =>
    new Map(
      shape.split('\n').map((line) => {
        const at = line.indexOf('=');
        return [line.slice(0, at), line.slice(at + 1)] as const;
      }),
    );
  const a = byPath(first);
  const b = byPath(second);
  const differing = [...new Set([...a.keys(), ...b.keys()])]
    .filter((path) => a.get(path) !== b.get(path))
    .sort((x, y) => rank(x) - rank(y) || x.localeCompare(y));
  // An opaque value (a session id in a header the run never learnt was a secret) is shown by its length only.
  const shown = (value: string | undefined) =>
    value === undefined
      ? '(absent)'
      : OPAQUE_VALUE.test(value.replace(/^"|"$/g, ''))
        ? `(a ${value.replace(/^"|"$/g, '').length}-character value)`
        : JSON.stringify(value.slice(0, 60));
  const listed = differing
    .slice(0, limit)
    .map((path) => `${path}: ${shown(a.get(path))} against ${shown(b.get(path))}`);
  return differing.length > limit ? `${listed.join('; ')}; and ${differing.length - limit} more` : listed.join('; ');
}

/** A value that may be a credential: one long run of token characters. */
const OPAQUE_VALUE = /^[A-Za-z0-9+/=_.~-]{20,}$/;

/** Status first, then headers, then the body: the order a reader looks for the difference. */
function rank(path: string): number {
  if (path === 'status') return 0;
  return path.startsWith('header:') ? 1 : 2;
}
