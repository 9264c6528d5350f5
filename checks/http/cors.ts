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
 * are derived from target.url and sent too. Probing records the CORS headers
 * of each answer; judgeCorsAnswers is pure.
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
  derived: HostileOrigin[];
  answers: CorsAnswer[];
}

/** The verdict on every answer. Pure: a foreign origin granted access fails; a request without an answer is an error. */
export function judgeCorsAnswers(seen: CorsSeen, params: Pick<CorsParams, 'paths'>): CheckOutcome {
  const whyOf = new Map(seen.derived.map((entry) => [entry.origin, entry.why]));
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
    pass: `none of ${seen.origins.length} foreign origins (${seen.derived.length} derived from the target host) granted access on ${params.paths.length} paths (${seen.answers.length} requests)`,
  });
}

/** A preflight and a simple request per path and foreign origin: everything judgeCorsAnswers needs. */
export async function probeCors(ctx: CheckContext, params: CorsParams): Promise<CorsSeen> {
  const derived = params.derived_origins ? derivedHostileOrigins(ctx.target.url) : [];
  const origins = [...new Set([...params.foreign_origins, ...derived.map((entry) => entry.origin)])];
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
  return { origins, derived, answers };
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
  strength: { paths: 'verified', foreign_origins: 'verified', derived_origins: 'requirement' },
  async run(ctx, params) {
    return judgeCorsAnswers(await probeCors(ctx, params), params);
  },
});
