/**
 * http.cors: a foreign origin gets no cross-origin read access. Neither a
 * preflight nor a simple request from https://evil.example (or the opaque
 * `null` origin of sandboxed frames and file: pages) may come back with that
 * origin in Access-Control-Allow-Origin, and `*` is never combined with
 * Access-Control-Allow-Credentials: true.
 *
 * Allow-lists are usually checked with a string test or a regex, and the
 * sloppy ones let in origins built from the target's own host name: the host
 * with an attacker's domain after it (a prefix test), an attacker's name in
 * front of it (a suffix test), the same host over plain http (a test that
 * ignores the scheme) or a sibling subdomain (a loose regex). Those origins
 * are derived from target.url and sent too. The frontend a service really
 * allows is usually another host (the SPA at https://app.example in front of
 * https://api.example), so the same sloppy tests are aimed at it too: from
 * each of `allowed_origins` the origins those tests confuse with it are
 * derived and sent. The allowed origins themselves are never sent and nothing
 * is exempted for them, so listing more origins only adds probes. Probing
 * records the CORS headers of each answer; judgeCorsAnswers is pure.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { type CheckContext, type CheckOutcome, defineCheck, type Observation } from '../../src/engine/types.js';
import { headerValue } from '../../src/probes/http.js';
import {
  attemptFailureRequest,
  describeFailure,
  describeRequest,
  type HttpFailure,
  targetUrl,
} from '../../src/probes/http-attempt.js';
import { findingsVerdict } from '../outcome.js';

interface CorsProbe {
  kind: 'preflight' | 'simple request';
  method: string;
  path: string;
  origin: string;
  headers: Record<string, string>;
}

export interface CorsJudgement {
  ok: boolean;
  note: string;
}

/** Pure: judges the CORS answer to a request that carried `origin`. */
export function judgeCors(
  origin: string,
  allowOrigin: string | undefined,
  allowCredentials: string | undefined,
): CorsJudgement {
  const credentials = allowCredentials?.trim().toLowerCase() === 'true';
  const allowed = allowOrigin?.trim();
  if (allowed === undefined || allowed === '') return { ok: true, note: 'no Access-Control-Allow-Origin' };
  if (allowed === '*') {
    return credentials
      ? { ok: false, note: 'Access-Control-Allow-Origin * with Access-Control-Allow-Credentials: true' }
      : { ok: true, note: 'Access-Control-Allow-Origin * without credentials (public read only)' };
  }
  if (allowed.toLowerCase() === origin.toLowerCase()) {
    return {
      ok: false,
      note: `reflects foreign origin ${origin} in Access-Control-Allow-Origin${credentials ? ' with credentials' : ''}`,
    };
  }
  return { ok: true, note: `allows only ${allowed}` };
}

export interface HostileOrigin {
  origin: string;
  /** Which sloppy allow-list test would let it in. */
  why: string;
}

/** Pure: origins an attacker can own that sloppy allow-list tests confuse with the target's own. */
export function derivedHostileOrigins(targetUrl: string): HostileOrigin[] {
  const target = new URL(targetUrl);
  const host = target.hostname;
  const port = target.port ? `:${target.port}` : '';
  const origins: HostileOrigin[] = [
    { origin: `https://${host}.evil.example`, why: 'the target host with a foreign domain after it (prefix test)' },
    { origin: `https://evil${host}`, why: 'a foreign name ending in the target host (suffix test)' },
    { origin: `http://${host}${port}`, why: 'the target host over plain http (a test that ignores the scheme)' },
  ];
  const labels = host.split('.');
  // Sibling subdomains only exist for DNS names with a parent domain (not for IP addresses or `localhost`).
  if (isIP(host.replace(/^\[|\]$/g, '')) === 0 && labels.length >= 3) {
    origins.push({
      origin: `https://secgate-evil.${labels.slice(1).join('.')}`,
      why: 'a sibling subdomain of the target (a loose regex over the parent domain)',
    });
  }
  return origins;
}

/** An entry of allowed_origins: `https://app.example`, or `https://*.app.example` for every subdomain of app.example. */
export interface AllowedOrigin {
  scheme: 'http' | 'https';
  hostname: string;
  /** `''` for the scheme's default port. */
  port: string;
  /** `https://*.app.example`: any subdomain is allowed on purpose; `hostname` is then the parent, `app.example`. */
  wildcard: boolean;
}

/** Pure: `value` as an allowed origin; undefined when it is not exactly an origin (a path, a user, upper case, another scheme). */
export function parseAllowedOrigin(value: string): AllowedOrigin | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  // An Origin header is scheme, host and port in canonical form: anything the URL parser rewrote is not one.
  if (url.origin !== value || (url.protocol !== 'https:' && url.protocol !== 'http:')) return undefined;
  const wildcard = url.hostname.startsWith('*.');
  const hostname = wildcard ? url.hostname.slice(2) : url.hostname;
  if (hostname.includes('*')) return undefined;
  return { scheme: url.protocol === 'https:' ? 'https' : 'http', hostname, port: url.port, wildcard };
}

/** A port the allowed origin does not use: a test that compares only the host lets it in. */
function otherPort(port: string): string {
  return port === '65535' ? '65534' : '65535';
}

/** Pure: origins an attacker can own (or reach) that sloppy allow-list tests confuse with one allowed origin. */
function hostileVariants(value: string): HostileOrigin[] {
  const allowed = parseAllowedOrigin(value);
  if (!allowed) return [];
  const { scheme, hostname, port, wildcard } = allowed;
  // For a wildcard parent, the sloppy tests are aimed at one of its subdomains, which is legitimately allowed.
  const host = wildcard ? `secgate.${hostname}` : hostname;
  const withPort = port ? `:${port}` : '';
  const of = `the allowed origin ${value}`;
  // The prefix variants drop the port (a foreign domain follows the host, where a port would be); a suffix
  // test reads the end of the origin, so those keep it.
  const variants: HostileOrigin[] = [
    { origin: `${scheme}://${host}.evil.example`, why: `${of} with a foreign domain after it (prefix test)` },
    {
      origin: `${scheme}://${host}-evil.example`,
      why: `${of} with a foreign name after it (prefix test or unanchored regex)`,
    },
    {
      origin: `${scheme}://evil${hostname}${withPort}`,
      why: `a foreign name ending in the host of ${of} (suffix test)`,
    },
  ];
  // A subdomain of a wildcard parent is allowed on purpose, and an IP address has none.
  if (!wildcard && isIP(hostname.replace(/^\[|\]$/g, '')) === 0) {
    variants.push({
      origin: `${scheme}://evil.${hostname}${withPort}`,
      why: `a subdomain of ${of} (a test that accepts any subdomain)`,
    });
  }
  if (scheme === 'https') {
    variants.push({
      origin: `http://${host}${withPort}`,
      why: `${of} over plain http (a test that ignores the scheme)`,
    });
  }
  variants.push({
    origin: `${scheme}://${host}:${otherPort(port)}`,
    why: `${of} on another port (a test that ignores the port)`,
  });
  return variants;
}

/** Pure: the hostile variants of every allowed origin, and the opaque `null` origin an allow-list built for a frontend often lets in. */
export function allowedHostileOrigins(allowedOrigins: readonly string[]): HostileOrigin[] {
  if (allowedOrigins.length === 0) return [];
  const variants = [
    ...allowedOrigins.flatMap(hostileVariants),
    { origin: 'null', why: 'the opaque origin of a sandboxed frame or a file: page, not an allowed origin' },
  ];
  return variants.filter((entry, index) => variants.findIndex((other) => other.origin === entry.origin) === index);
}

const ALLOWED_ORIGIN_MESSAGE =
  'expected an origin such as https://app.example (scheme, lower-case host and port only, no path or trailing slash), or https://*.app.example for every subdomain';

export const corsParams = z
  .object({
    paths: z
      .array(z.string().regex(/^\//, { message: 'expected a path starting with /' }))
      .min(1)
      .default(['/health', '/api/v1/users/me'])
      .describe('paths to probe: a public one and a protected one by default'),
    foreign_origins: z
      .array(z.string().min(1))
      .min(1)
      .default(['https://evil.example', 'null'])
      .describe('origins that must not be granted access'),
    derived_origins: z
      .boolean()
      .default(true)
      .describe("also send origins derived from the target's host name (see the module comment)"),
    allowed_origins: z
      .array(z.string().refine((value) => parseAllowedOrigin(value) !== undefined, { message: ALLOWED_ORIGIN_MESSAGE }))
      .default([])
      .describe(
        'origins the service legitimately allows, e.g. its SPA https://app.example (https://*.app.example: every subdomain). Never sent themselves; the origins sloppy allow-list tests confuse with each are sent instead (a foreign domain after it, a foreign name ending in its host, a subdomain, plain http, another port, null) and must not be granted access: up to 6 origins each, 2 requests per origin and path',
      ),
  })
  .strict();
type CorsParams = z.output<typeof corsParams>;

/** One request from a foreign origin, and the CORS headers of its answer (or why there was none). */
export interface CorsAnswer {
  kind: CorsProbe['kind'];
  method: string;
  path: string;
  origin: string;
  /** `OPTIONS https://host/health`. */
  request: string;
  answer: { status: number; allowOrigin: string | undefined; allowCredentials: string | undefined } | undefined;
  failure: HttpFailure | undefined;
}

/** What the probe saw: the origins it sent (the derived ones with the test they fool) and every answer. */
export interface CorsSeen {
  origins: string[];
  /** Derived from the target's host. */
  derived: HostileOrigin[];
  /** Derived from allowed_origins, none of them already among the foreign or target-derived origins. */
  allowedDerived: HostileOrigin[];
  answers: CorsAnswer[];
}

/** The verdict on every answer. Pure: a foreign origin granted access fails; a request without an answer is an error. */
export function judgeCorsAnswers(seen: CorsSeen, params: Pick<CorsParams, 'paths'>): CheckOutcome {
  const whyOf = new Map([...seen.derived, ...seen.allowedDerived].map((entry) => [entry.origin, entry.why]));
  const observations: Observation[] = [];
  const failures: string[] = [];
  const unobserved: string[] = [];
  for (const request of seen.answers) {
    const probe = `${request.request} [${request.kind}, Origin: ${request.origin}]`;
    const expected = `no Access-Control-Allow-Origin for ${request.origin}; never * with credentials`;
    const { answer } = request;
    if (!answer) {
      const why = request.failure ? describeFailure(request.failure) : 'no answer';
      observations.push({ probe, expected, actual: { error: why }, ok: false });
      unobserved.push(`${request.request}: ${why}`);
      continue;
    }
    const judgement = judgeCors(request.origin, answer.allowOrigin, answer.allowCredentials);
    const why = whyOf.get(request.origin);
    const note = !judgement.ok && why !== undefined ? `${judgement.note}: ${why}` : judgement.note;
    observations.push({
      probe,
      expected,
      actual: {
        status: answer.status,
        'access-control-allow-origin': answer.allowOrigin ?? null,
        'access-control-allow-credentials': answer.allowCredentials ?? null,
      },
      ok: judgement.ok,
      note,
    });
    if (!judgement.ok) failures.push(`${request.kind} ${request.method} ${request.path}: ${note}`);
  }
  if (seen.answers.length === 0) unobserved.push('no request was sent');
  return findingsVerdict({ failures, unobserved }, observations, {
    pass: `none of ${seen.origins.length} foreign origins (${seen.derived.length} derived from the target host${seen.allowedDerived.length > 0 ? `, ${seen.allowedDerived.length} from allowed_origins` : ''}) granted access on ${params.paths.length} paths (${seen.answers.length} requests)`,
  });
}

/** A preflight and a simple request per path and foreign origin: everything judgeCorsAnswers needs. */
export async function probeCors(ctx: CheckContext, params: CorsParams): Promise<CorsSeen> {
  const derived = params.derived_origins ? derivedHostileOrigins(ctx.target.url) : [];
  const earlier = new Set([...params.foreign_origins, ...derived.map((entry) => entry.origin)]);
  const allowedDerived = allowedHostileOrigins(params.allowed_origins).filter((entry) => !earlier.has(entry.origin));
  const origins = [...earlier, ...allowedDerived.map((entry) => entry.origin)];
  const requests = params.paths.flatMap((path) =>
    origins.flatMap((origin): CorsProbe[] => [
      {
        kind: 'preflight',
        method: 'OPTIONS',
        path,
        origin,
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization, content-type',
        },
      },
      { kind: 'simple request', method: 'GET', path, origin, headers: { origin } },
    ]),
  );
  const answers = await Promise.all(
    requests.map(async ({ headers, ...request }): Promise<CorsAnswer> => {
      const url = targetUrl(ctx.target.url, request.path);
      // Foreign origins on a protected path: requests the service may count as failures.
      const attempt = await attemptFailureRequest(ctx, url, { method: request.method, headers });
      const sent = { ...request, request: describeRequest(request.method, url) };
      if (attempt.failure) return { ...sent, answer: undefined, failure: attempt.failure };
      const { response } = attempt;
      return {
        ...sent,
        answer: {
          status: response.status,
          allowOrigin: headerValue(response, 'access-control-allow-origin'),
          allowCredentials: headerValue(response, 'access-control-allow-credentials'),
        },
        failure: undefined,
      };
    }),
  );
  return { origins, derived, allowedDerived, answers };
}

export default defineCheck({
  id: 'http.cors',
  title: 'CORS never reflects a foreign origin and never combines * with credentials',
  source: 'control S4 (docs/controls.md#S4): Cross-origin access only for known frontends',
  docs: 'docs/controls.md#S4',
  remediation:
    'Configure CORS with an explicit allow-list of your own frontends (or none at all); never echo the request Origin, never allow the null origin, and never send Access-Control-Allow-Credentials: true with a wildcard.',
  effects: 'none',
  severity: 'high',
  params: corsParams,
  // allowed_origins exempts nothing, it only adds probes: more entries is stronger, as for foreign_origins.
  strength: {
    paths: 'verified',
    foreign_origins: 'verified',
    derived_origins: 'requirement',
    allowed_origins: 'verified',
  },
  async run(ctx, params) {
    return judgeCorsAnswers(await probeCors(ctx, params), params);
  },
});
