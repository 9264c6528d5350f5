/**
 * http.cors: a foreign origin gets no cross-origin read access. Neither a
 * preflight nor a simple request from https://evil.example (or the opaque
 * `null` origin of sandboxed frames and file: pages) may come back with that
 * origin in Access-Control-Allow-Origin, and `*` is never combined with
 * Access-Control-Allow-Credentials: true.
 */
import { z } from 'zod';
import { defineCheck, type HttpResponse, type Observation } from '../../src/engine/types.js';
import { headerValue } from '../../src/probes/http.js';
import { attemptRequest, describeFailure, describeRequest, targetUrl } from '../../src/probes/http-attempt.js';
import { httpVerdict } from './outcome.js';

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

export default defineCheck({
  id: 'http.cors',
  title: 'CORS never reflects a foreign origin and never combines * with credentials',
  source: 'seed 002, CORS restricted to known frontends (CORSMiddleware allow_origins)',
  remediation:
    'Configure CORS with an explicit allow-list of your own frontends (or none at all); never echo the request Origin, never allow the null origin, and never send Access-Control-Allow-Credentials: true with a wildcard.',
  effects: 'none',
  params: z
    .object({
      /** Paths to probe: a public one and a protected one by default. */
      paths: z
        .array(z.string().regex(/^\//, { message: 'expected a path starting with /' }))
        .min(1)
        .default(['/health', '/api/v1/users/me']),
      /** Origins that must not be granted access. */
      foreign_origins: z.array(z.string().min(1)).min(1).default(['https://evil.example', 'null']),
    })
    .strict(),
  async run(ctx, params) {
    const requests = params.paths.flatMap((path) =>
      params.foreign_origins.flatMap((origin): CorsProbe[] => [
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
        const attempt = await attemptRequest(ctx.http, url, { method: request.method, headers: request.headers });
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
      observations.push({
        probe,
        expected,
        actual: {
          status: response.status,
          'access-control-allow-origin': allowOrigin ?? null,
          'access-control-allow-credentials': allowCredentials ?? null,
        },
        ok: judgement.ok,
        note: judgement.note,
      });
      if (!judgement.ok) failures.push(`${request.kind} ${request.method} ${request.path}: ${judgement.note}`);
    }

    return httpVerdict({ failures, unobserved }, observations, {
      pass: `no foreign origin granted access on ${params.paths.length} paths (${requests.length} requests)`,
    });
  },
});
