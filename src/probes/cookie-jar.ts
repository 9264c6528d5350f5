/**
 * A cookie jar for one probe session, as a browser keeps one: cookies are
 * stored per origin (scheme, host and port: the gate talks to one target and
 * never lets a cookie cross to another), replaced by name, dropped when the
 * service expires them (Max-Age=0 or an Expires in the past, an empty value),
 * and sent back on every request to that origin whose path they cover. Pure
 * data in, data out: the auth client feeds it responses and asks it for the
 * Cookie header.
 */

export interface StoredCookie {
  name: string;
  value: string;
  path: string;
  /** The Set-Cookie attributes as sent (lower-cased names), for checks that judge the flags. */
  attributes: string[];
}

export interface CookieJar {
  /** Stores the cookies a response from `url` set (its Set-Cookie lines). */
  store(url: URL, setCookie: readonly string[]): void;
  /** The Cookie header for a request to `url`, or undefined when nothing applies. */
  header(url: URL): string | undefined;
  /** A cookie by name for `url`'s origin. */
  get(url: URL, name: string): StoredCookie | undefined;
  /** Every cookie held for `url`'s origin. */
  all(url: URL): StoredCookie[];
}

/** `name=value; Path=/; HttpOnly` → the cookie, or undefined for a line without a name. */
export function parseSetCookie(line: string): (StoredCookie & { expired: boolean }) | undefined {
  const [pair = '', ...rest] = line.split(';');
  const equals = pair.indexOf('=');
  if (equals <= 0) return undefined;
  const name = pair.slice(0, equals).trim();
  const value = pair.slice(equals + 1).trim();
  const attributes = rest.map((attribute) => attribute.trim()).filter(Boolean);
  const lower = attributes.map((attribute) => attribute.toLowerCase());
  const path = attributes.find((attribute) => attribute.toLowerCase().startsWith('path='))?.slice(5) || '/';
  const maxAge = lower.find((attribute) => attribute.startsWith('max-age='));
  const expires = attributes.find((attribute) => attribute.toLowerCase().startsWith('expires='));
  const expired =
    value === '' ||
    (maxAge !== undefined && Number(maxAge.slice('max-age='.length)) <= 0) ||
    (expires !== undefined && Date.parse(expires.slice('expires='.length)) < Date.now());
  return { name, value, path: path.startsWith('/') ? path : '/', attributes: lower, expired };
}

/** RFC 6265 path-match: `/api` covers `/api`, `/api/` and `/api/x`, not `/apix`. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

export function createCookieJar(): CookieJar {
  const byOrigin = new Map<string, Map<string, StoredCookie>>();
  const cookiesOf = (url: URL): Map<string, StoredCookie> => {
    let cookies = byOrigin.get(url.origin);
    if (!cookies) {
      cookies = new Map();
      byOrigin.set(url.origin, cookies);
    }
    return cookies;
  };
  return {
    store(url, setCookie) {
      const cookies = cookiesOf(url);
      for (const line of setCookie) {
        const parsed = parseSetCookie(line);
        if (!parsed) continue;
        const key = `${parsed.name}\n${parsed.path}`;
        if (parsed.expired) cookies.delete(key);
        else
          cookies.set(key, {
            name: parsed.name,
            value: parsed.value,
            path: parsed.path,
            attributes: parsed.attributes,
          });
      }
    },
    header(url) {
      const pairs = [...cookiesOf(url).values()]
        .filter((cookie) => pathMatches(url.pathname, cookie.path))
        // Longer paths first, as browsers send them.
        .sort((a, b) => b.path.length - a.path.length)
        .map((cookie) => `${cookie.name}=${cookie.value}`);
      return pairs.length > 0 ? pairs.join('; ') : undefined;
    },
    get(url, name) {
      return [...cookiesOf(url).values()]
        .filter((cookie) => cookie.name === name && pathMatches(url.pathname, cookie.path))
        .sort((a, b) => b.path.length - a.path.length)[0];
    },
    all(url) {
      return [...cookiesOf(url).values()];
    },
  };
}
