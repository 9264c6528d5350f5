/**
 * Pure rules of the HTTP surface: which paths are public, which are API
 * documentation that must not exist, the security headers every response
 * carries, and the CORS decision.
 */
import { isIP } from 'node:net';

/** Paths that need no bearer token. Exact matches only: any variant falls back to "protected". */
export const PUBLIC_ROUTES: ReadonlyArray<{ method: string; path: string }> = [
  { method: 'GET', path: '/health' },
  { method: 'HEAD', path: '/health' },
  { method: 'POST', path: '/api/v1/auth/login' },
  { method: 'POST', path: '/api/v1/auth/mfa/verify' },
  { method: 'POST', path: '/api/v1/auth/refresh' },
];

export function isPublicRoute(method: string, path: string): boolean {
  return PUBLIC_ROUTES.some((route) => route.method === method && route.path === path);
}

/**
 * Public routes that check a credential (a password, a TOTP code): each such request needs an
 * admission under the IP-block policy before any auth work (auth/admission.ts).
 */
export const CREDENTIAL_ROUTES: ReadonlyArray<{ method: string; path: string }> = [
  { method: 'POST', path: '/api/v1/auth/login' },
  { method: 'POST', path: '/api/v1/auth/mfa/verify' },
];

export function isCredentialRoute(method: string, path: string): boolean {
  return CREDENTIAL_ROUTES.some((route) => route.method === method && route.path === path);
}

/** Interactive API documentation is an endpoint inventory for attackers; these paths answer 404. */
const API_DOCUMENTATION =
  /^\/(?:api\/(?:v\d+\/)?)?(?:docs|redoc|openapi|swagger|api-docs|v\d+\/api-docs|graphiql|playground)(?:[./-].*|\/.*)?$/i;

export function isApiDocumentationPath(path: string): boolean {
  return API_DOCUMENTATION.test(path);
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  // Every response may carry tokens or personal data; nothing is cacheable.
  'cache-control': 'no-store',
  'cross-origin-resource-policy': 'same-origin',
};

export const CORS_ALLOWED_METHODS = 'GET, POST';
export const CORS_ALLOWED_HEADERS = 'Authorization, Content-Type, X-Request-ID';

/** The value of Access-Control-Allow-Origin for this request, or undefined: never reflected, never `*`. */
export function allowedOrigin(origin: string | undefined, configured: ReadonlySet<string>): string | undefined {
  if (origin === undefined || origin === 'null') return undefined;
  return configured.has(origin) ? origin : undefined;
}

/**
 * JSON schema format of a stored text field: no NUL, no unpaired surrogate (db/text.ts), so such
 * a value is a 400 at validation instead of a database error.
 */
export const STORABLE_TEXT_FORMAT = 'storable-text';

/** Client IPs as stored: IPv4-mapped IPv6 addresses become plain IPv4. */
export function normaliseIp(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

/**
 * The client address as stored, or undefined when there is none to store: a socket already gone,
 * or an X-Forwarded-For entry from a trusted proxy that is not a plain IP address ("unknown",
 * "1.2.3.4:80", a zone index PostgreSQL's inet rejects). Such a request has no address to count
 * its failures against, so it is answered before any other work.
 */
export function clientAddress(raw: string | undefined): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const address = normaliseIp(raw);
  return isIP(address) !== 0 && !address.includes('%') ? address : undefined;
}
