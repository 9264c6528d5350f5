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
 * are derived from target.url and sent too.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { defineCheck, type HttpResponse, type Observation } from '../../src/engine/types.js';
import { headerValue } from '../../src/probes/http.js';
import { attemptFailureRequest, describeFailure, describeRequest, targetUrl } from '../../src/probes/http-attempt.js';
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

export default defineCheck({
  id: 'http.cors',
  title: 'CORS never reflects a foreign origin and never combines * with credentials',
  source: 'control S4 (docs/controls.md#S4): Cross-origin access only for known frontends',
  docs: 'docs/controls.md#S4',
  remediation:
    'Configure CORS with an explicit allow-list of your own frontends (or none at all); never echo the request Origin, never allow the null origin, and never send Access-Control-Allow-Credentials: true with a wildcard.',
  effects: 'none',
  severity: 'high',
  params: z
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
    .strict(),
  strength: { paths: 'verified', foreign_origins: 'verified', derived_origins: 'requirement' },
  async run(ctx, params) {
    const derived = params.derived_origins ? derivedHostileOrigins(ctx.target.url) : [];
    const whyOf = new Map(derived.map((entry) => [entry.origin, entry.why]));
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
    const results = await Promise.all(
      requests.map(async (request) => {
        const url = targetUrl(ctx.target.url, request.path);
        // Foreign origins on a protected path: requests the service may count as failures.
        const attempt = await attemptFailureRequest(ctx, url, { method: request.method, headers: request.headers });
        return { request, label: describeRequest(request.method, url), attempt };
      }),
    );

    const observations: Observation[] = [];
    const failures: string[] = [];
    const unobserved: string[] = [];
    for (const { request, label, attempt } of results) {
      const probe = `${label} [${request.kind}, Origin: ${request.origin}]`;
      const expected = `no Access-Control-Allow-Origin for ${request.origin}; never * with credentials`;
      if (attempt.failure) {
        observations.push({ probe, expected, actual: { error: describeFailure(attempt.failure) }, ok: false });
        unobserved.push(`${label}: ${describeFailure(attempt.failure)}`);
        continue;
      }
      const response: HttpResponse = attempt.response;
      const allowOrigin = headerValue(response, 'access-control-allow-origin');
      const allowCredentials = headerValue(response, 'access-control-allow-credentials');
      const judgement = judgeCors(request.origin, allowOrigin, allowCredentials);
      const why = whyOf.get(request.origin);
      const note = !judgement.ok && why !== undefined ? `${judgement.note}: ${why}` : judgement.note;
      observations.push({
        probe,
        expected,
        actual: {
          status: response.status,
          'access-control-allow-origin': allowOrigin ?? null,
          'access-control-allow-credentials': allowCredentials ?? null,
        },
        ok: judgement.ok,
        note,
      });
      if (!judgement.ok) failures.push(`${request.kind} ${request.method} ${request.path}: ${note}`);
    }

    return findingsVerdict({ failures, unobserved }, observations, {
      pass: `none of ${origins.length} foreign origins (${derived.length} derived from the target host) granted access on ${params.paths.length} paths (${requests.length} requests)`,
    });
  },
});
