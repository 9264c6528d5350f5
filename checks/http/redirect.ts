/**
 * http.redirect: the plain-HTTP endpoint never serves content. It either
 * redirects permanently to the configured HTTPS origin (same host and port as
 * target.url) with the same path and query, or refuses the connection. The
 * redirect itself carries no page: a body that holds what the HTTPS endpoint
 * serves for that path has sent it in clear text. A timeout proves nothing (a
 * firewall that drops packets and a hung listener look alike), so it is `error`.
 */
import { z } from 'zod';
import { defineCheck, type Observation } from '../../src/engine/types.js';
import { headerValue } from '../../src/probes/http.js';
import {
  attemptFailureRequest,
  attemptRequest,
  describeFailure,
  describeRequest,
  targetUrl,
} from '../../src/probes/http-attempt.js';
import { findingsVerdict } from '../outcome.js';

export interface RedirectJudgement {
  ok: boolean;
  note: string;
}

/** Where a redirect may land: one of these hosts, on the HTTPS endpoint's port. */
export interface RedirectDestination {
  hosts: string[];
  /** The port of target.url; '' for the scheme's default (443). */
  port: string;
}

const effectivePort = (url: URL): string => url.port || (url.protocol === 'https:' ? '443' : '80');

/**
 * Pure: is `location` (as answered to `requested`) a redirect to the HTTPS
 * endpoint (an allowed host, its port) with the same path and query?
 */
export function judgeRedirect(
  requested: URL,
  location: string | undefined,
  destination: RedirectDestination,
): RedirectJudgement {
  const allowedHosts = destination.hosts;
  if (location === undefined || location === '') return { ok: false, note: 'redirect without a Location header' };
  let target: URL;
  try {
    target = new URL(location, requested);
  } catch {
    return { ok: false, note: `Location ${JSON.stringify(location)} is not a URL` };
  }
  if (target.protocol !== 'https:') {
    return { ok: false, note: `redirects to ${target.protocol}// instead of https://` };
  }
  if (!allowedHosts.includes(target.hostname)) {
    return {
      ok: false,
      note: `redirects to another host: ${target.hostname} (expected ${allowedHosts.join(' or ')})`,
    };
  }
  const wantedPort = destination.port || '443';
  if (effectivePort(target) !== wantedPort) {
    return {
      ok: false,
      note: `redirects to port ${effectivePort(target)}, not the HTTPS endpoint's port ${wantedPort}`,
    };
  }
  const wanted = `${requested.pathname}${requested.search}`;
  const got = `${target.pathname}${target.search}`;
  if (got !== wanted) return { ok: false, note: `redirect changes the path: ${wanted} became ${got}` };
  return { ok: true, note: 'redirects to the HTTPS endpoint, path and query kept' };
}

/**
 * Pure: does a redirect's body carry content? It holds what the HTTPS endpoint
 * serves for the same path (then that was sent in clear text), or it is longer
 * than a "moved" page needs to be.
 */
export function judgeRedirectBody(
  redirect: { body: string; bodyTruncated: boolean },
  httpsBody: string | undefined,
  maxBytes: number,
): RedirectJudgement | undefined {
  const { body } = redirect;
  const trimmedHttps = httpsBody?.trim() ?? '';
  if (trimmedHttps.length > 0 && body.includes(trimmedHttps)) {
    return {
      ok: false,
      note: `the redirect's body carries the page the HTTPS endpoint serves for this path (${Buffer.byteLength(trimmedHttps)} bytes) in clear text`,
    };
  }
  const size = Buffer.byteLength(body);
  if (redirect.bodyTruncated) {
    return {
      ok: false,
      note: `the redirect's body is longer than the ${size} bytes the probe reads: a redirect carries no page`,
    };
  }
  if (size > maxBytes) {
    return {
      ok: false,
      note: `the redirect's body is ${size} bytes (at most ${maxBytes}): a redirect carries no page`,
    };
  }
  return undefined;
}

export default defineCheck({
  id: 'http.redirect',
  title: 'Plain HTTP redirects permanently to HTTPS on the same host and path, or is refused',
  source: 'control T1 (docs/controls.md#T1): HTTPS answers; plain HTTP never serves content',
  docs: 'docs/controls.md#T1',
  remediation:
    'Serve nothing over plain HTTP: answer every request on the HTTP port with 301 or 308 to https://<same host><same path and query>, or close the port entirely.',
  effects: 'none',
  severity: 'medium',
  params: z
    .object({
      paths: z
        .array(z.string().regex(/^\//, { message: 'expected a path starting with /' }))
        .min(1)
        .default(['/', '/health', '/api/v1/users/me?secgate-probe=1'])
        .describe('paths requested over plain HTTP; include one with a query string'),
      statuses: z
        .array(z.number().int().min(300).max(399))
        .min(1)
        .default([301, 308])
        .describe('redirect statuses that count; 302/307 are temporary and not cached by clients'),
      allow_refused: z
        .boolean()
        .default(true)
        .describe('a refused connection (no plain-HTTP listener at all) satisfies the control'),
      standard_port: z
        .number()
        .int()
        .min(1)
        .max(65535)
        .default(80)
        .describe(
          'when http_url names another port and refuses, this port is probed too: a refusal on a port nobody uses proves nothing about the port browsers actually try',
        ),
      allowed_hosts: z
        .array(z.string().min(1))
        .default([])
        .describe("hosts a redirect may point to besides the http_url and url hosts (always on target.url's port)"),
      max_body_bytes: z
        .number()
        .int()
        .min(0)
        .max(1_048_576)
        .default(4096)
        .describe('a redirect\'s body may be a short "moved" page, never more than this'),
    })
    .strict(),
  strength: {
    paths: 'verified',
    statuses: 'accepted',
    allow_refused: 'exception',
    allowed_hosts: 'accepted',
    max_body_bytes: 'lower',
  },
  requires: () => ['target.http_url'],
  async run(ctx, params) {
    const httpUrl = ctx.target.http_url;
    if (httpUrl === undefined) {
      return {
        status: 'error',
        summary: 'target.http_url is not set, so the plain-HTTP endpoint cannot be probed',
        observations: [
          {
            probe: 'checklist target.http_url',
            expected: 'the plain-HTTP URL of the deployment (e.g. http://host:80)',
            actual: null,
            ok: false,
          },
        ],
      };
    }
    const allowedHosts = [new URL(httpUrl).hostname, new URL(ctx.target.url).hostname, ...params.allowed_hosts].filter(
      (host, index, hosts) => hosts.indexOf(host) === index,
    );
    const destination: RedirectDestination = { hosts: allowedHosts, port: effectivePort(new URL(ctx.target.url)) };
    const expected = {
      status: params.statuses,
      location: `https://{${allowedHosts.join('|')}}:${destination.port}<same path and query>`,
      body: `no page content, at most ${params.max_body_bytes} bytes`,
      ...(params.allow_refused ? { or: 'connection refused' } : {}),
    };

    const observations: Observation[] = [];
    const unobserved: string[] = [];
    const failures: string[] = [];
    // In parallel: a listener that never answers costs one timeout, not one per path. The same paths over
    // HTTPS give what a redirect's body must not carry; without a credential they may be refused and counted
    // as failures, so they leave from the source-address pool, never from the operator's own address.
    const [attempts, httpsBodies] = await Promise.all([
      Promise.all(
        params.paths.map(async (path) => {
          const url = targetUrl(httpUrl, path);
          return { path, url, attempt: await attemptRequest(ctx.http, url) };
        }),
      ),
      Promise.all(
        params.paths.map(async (path) => (await attemptFailureRequest(ctx, targetUrl(ctx.target.url, path))).response),
      ),
    ]);
    const httpsBodyOf = new Map(
      params.paths.map((path, index) => {
        const response = httpsBodies[index];
        return [path, response && !response.bodyTruncated ? response.body : undefined];
      }),
    );
    const record = (path: string, url: URL, attempt: (typeof attempts)[number]['attempt']) => {
      const probe = describeRequest('GET', url);
      if (attempt.failure) {
        const refusedOk = attempt.failure.kind === 'refused' && params.allow_refused;
        observations.push({
          probe,
          expected,
          actual: { error: describeFailure(attempt.failure) },
          ok: refusedOk,
          note: refusedOk
            ? 'connection refused: nothing listens for plain HTTP'
            : attempt.failure.kind === 'refused'
              ? 'connection refused, but allow_refused is false'
              : `no answer to judge: ${attempt.failure.message}`,
        });
        if (attempt.failure.kind === 'refused' && !params.allow_refused) failures.push(`${path}: connection refused`);
        else if (!refusedOk) unobserved.push(`${path}: ${describeFailure(attempt.failure)}`);
        return;
      }
      const { response } = attempt;
      const location = headerValue(response, 'location');
      const actual = { status: response.status, location: location ?? null };
      if (!params.statuses.includes(response.status)) {
        const note =
          response.status >= 300 && response.status < 400
            ? `redirect status ${response.status} is not one of ${params.statuses.join(', ')}`
            : `served ${response.status} over plain HTTP instead of redirecting`;
        observations.push({ probe, expected, actual, ok: false, note });
        failures.push(`${path}: ${note}`);
        return;
      }
      const judgement =
        judgeRedirectBody(response, httpsBodyOf.get(path), params.max_body_bytes) ??
        judgeRedirect(url, location, destination);
      observations.push({
        probe,
        expected,
        actual: { ...actual, body_bytes: Buffer.byteLength(response.body) },
        ok: judgement.ok,
        note: judgement.note,
      });
      if (!judgement.ok) failures.push(`${path}: ${judgement.note}`);
    };
    for (const { path, url, attempt } of attempts) record(path, url, attempt);

    const configuredPort = new URL(httpUrl).port;
    const allRefused = attempts.every(({ attempt }) => attempt.failure?.kind === 'refused');
    if (
      params.allow_refused &&
      allRefused &&
      configuredPort !== '' &&
      Number(configuredPort) !== params.standard_port
    ) {
      const standard = new URL(httpUrl);
      standard.port = String(params.standard_port);
      const url = targetUrl(standard.origin, '/');
      record(`/ on standard port ${params.standard_port}`, url, await attemptRequest(ctx.http, url));
    }

    const refused = observations.every((observation) => observation.note?.startsWith('connection refused'));
    return findingsVerdict({ failures, unobserved }, observations, {
      pass: refused
        ? `plain HTTP refused on ${httpUrl}`
        : `plain HTTP redirects to HTTPS on the same host and path (${params.paths.length} paths)`,
      failPrefix: 'plain HTTP is not safely redirected: ',
      unobservedPrefix: 'could not observe the plain-HTTP endpoint: ',
    });
  },
});
