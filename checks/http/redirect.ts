/**
 * http.redirect: the plain-HTTP endpoint never serves content. It either
 * redirects permanently to the configured HTTPS origin (same host and port as
 * target.url) with the same path and query, or refuses the connection. Besides
 * the checklist's paths, a path that cannot exist and the login path are
 * requested (a listener that redirects only the routes it knows serves the
 * rest), and one POST, which may also be redirected temporarily or refused
 * with a 4xx, but never taken. The
 * redirect itself carries no page: a body that holds what the HTTPS endpoint
 * serves for that path has sent it in clear text. A timeout proves nothing (a
 * firewall that drops packets and a hung listener look alike), so it is `error`.
 * Probing records each answer (its body only as facts); judgeRedirects is pure.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  type CheckContext,
  type CheckOutcome,
  defineCheck,
  type Json,
  type Observation,
} from '../../src/engine/types.js';
import { headerValue } from '../../src/probes/http.js';
import {
  attemptFailureRequest,
  attemptRequest,
  describeFailure,
  describeRequest,
  type HttpAttempt,
  type HttpFailure,
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

/** What the judge needs of a redirect's body, never the body: its size, and whether it holds the HTTPS page. */
export interface RedirectBodyFacts {
  bytes: number;
  /** Only the first part of the body was read. */
  truncated: boolean;
  /** The size of the HTTPS endpoint's page for the same path when the redirect's body holds it, else undefined. */
  carriesHttpsPageBytes: number | undefined;
}

/** Pure: reads the facts of a redirect's body against the HTTPS page for the same path (whole, or undefined). */
export function redirectBodyFacts(
  redirect: { body: string; bodyTruncated: boolean },
  httpsBody: string | undefined,
): RedirectBodyFacts {
  const trimmedHttps = httpsBody?.trim() ?? '';
  return {
    bytes: Buffer.byteLength(redirect.body),
    truncated: redirect.bodyTruncated,
    carriesHttpsPageBytes:
      trimmedHttps.length > 0 && redirect.body.includes(trimmedHttps) ? Buffer.byteLength(trimmedHttps) : undefined,
  };
}

/**
 * Pure: does a redirect's body carry content? It holds what the HTTPS endpoint
 * serves for the same path (then that was sent in clear text), or it is longer
 * than a "moved" page needs to be.
 */
export function judgeRedirectBodyFacts(facts: RedirectBodyFacts, maxBytes: number): RedirectJudgement | undefined {
  if (facts.carriesHttpsPageBytes !== undefined) {
    return {
      ok: false,
      note: `the redirect's body carries the page the HTTPS endpoint serves for this path (${facts.carriesHttpsPageBytes} bytes) in clear text`,
    };
  }
  if (facts.truncated) {
    return {
      ok: false,
      note: `the redirect's body is longer than the ${facts.bytes} bytes the probe reads: a redirect carries no page`,
    };
  }
  if (facts.bytes > maxBytes) {
    return {
      ok: false,
      note: `the redirect's body is ${facts.bytes} bytes (at most ${maxBytes}): a redirect carries no page`,
    };
  }
  return undefined;
}

/** Pure: judgeRedirectBodyFacts on the bodies themselves. */
export function judgeRedirectBody(
  redirect: { body: string; bodyTruncated: boolean },
  httpsBody: string | undefined,
  maxBytes: number,
): RedirectJudgement | undefined {
  return judgeRedirectBodyFacts(redirectBodyFacts(redirect, httpsBody), maxBytes);
}

export const redirectParams = z
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
  .strict();
type RedirectParams = z.output<typeof redirectParams>;

/** One plain-HTTP request, and its answer (status, Location, the facts of its body) or why there was none. */
export interface RedirectProbe {
  /** GET, or POST for the one request with a body. */
  method: string;
  /** The request as the evidence names it: `/health`, `POST /api/v1/auth/login`, or `/ on standard port 80`. */
  path: string;
  url: string;
  answer: { status: number; location: string | undefined; body: RedirectBodyFacts } | undefined;
  failure: HttpFailure | undefined;
}

/** What the probe saw: where plain HTTP and HTTPS are, and every plain-HTTP answer. */
export type RedirectSeen =
  | { httpUrl: undefined }
  | {
      httpUrl: string;
      /** target.url: where a redirect must land. */
      httpsUrl: string;
      answers: RedirectProbe[];
    };

/** Pure: one plain-HTTP answer against the control; pushes its observation and what it breaks or left unseen. */
function judgeOne(
  probe: RedirectProbe,
  expected: { [key: string]: Json },
  destination: RedirectDestination,
  params: Pick<RedirectParams, 'statuses' | 'allow_refused' | 'max_body_bytes'>,
  findings: { observations: Observation[]; failures: string[]; unobserved: string[] },
): void {
  const { observations, failures, unobserved } = findings;
  const described = describeRequest(probe.method, probe.url);
  const { answer, path } = probe;
  if (!answer) {
    const failure = probe.failure;
    const why = failure ? describeFailure(failure) : 'no answer';
    const refusedOk = failure?.kind === 'refused' && params.allow_refused;
    observations.push({
      probe: described,
      expected,
      actual: { error: why },
      ok: refusedOk,
      note: refusedOk
        ? 'connection refused: nothing listens for plain HTTP'
        : failure?.kind === 'refused'
          ? 'connection refused, but allow_refused is false'
          : `no answer to judge: ${failure?.message ?? why}`,
    });
    if (failure?.kind === 'refused' && !params.allow_refused) failures.push(`${path}: connection refused`);
    else if (!refusedOk) unobserved.push(`${path}: ${why}`);
    return;
  }
  const actual = { status: answer.status, location: answer.location ?? null };
  if (probe.method !== 'GET') {
    judgeOneWithBody(probe, answer, { described, expected, actual, destination, params }, findings);
    return;
  }
  if (!params.statuses.includes(answer.status)) {
    const note =
      answer.status >= 300 && answer.status < 400
        ? `redirect status ${answer.status} is not one of ${params.statuses.join(', ')}`
        : `served ${answer.status} over plain HTTP instead of redirecting`;
    observations.push({ probe: described, expected, actual, ok: false, note });
    failures.push(`${path}: ${note}`);
    return;
  }
  const judgement =
    judgeRedirectBodyFacts(answer.body, params.max_body_bytes) ??
    judgeRedirect(new URL(probe.url), answer.location, destination);
  observations.push({
    probe: described,
    expected,
    actual: { ...actual, body_bytes: answer.body.bytes },
    ok: judgement.ok,
    note: judgement.note,
  });
  if (!judgement.ok) failures.push(`${path}: ${judgement.note}`);
}

/** Statuses that redirect a request with a body without turning it into a GET (303 does, after processing it). */
const BODY_REDIRECT_STATUSES = [301, 302, 307, 308];

/**
 * Pure: a request with a body over plain HTTP (a form or an API call) may be redirected to the HTTPS
 * endpoint, or refused with a 4xx; a 2xx, a 303 or a 5xx means the service took it in clear text.
 * Whether clients cache the redirect does not matter here, so the temporary statuses count too
 * (whatever `statuses` says for a GET).
 */
function judgeOneWithBody(
  probe: RedirectProbe,
  answer: NonNullable<RedirectProbe['answer']>,
  given: {
    described: string;
    expected: { [key: string]: Json };
    actual: { status: number; location: string | null };
    destination: RedirectDestination;
    params: Pick<RedirectParams, 'max_body_bytes'>;
  },
  findings: { observations: Observation[]; failures: string[] },
): void {
  const { described, expected, actual, destination, params } = given;
  const redirected = BODY_REDIRECT_STATUSES.includes(answer.status);
  const refused = answer.status >= 400 && answer.status < 500;
  const judgement: RedirectJudgement =
    !redirected && !refused
      ? {
          ok: false,
          note: `served ${answer.status} to a ${probe.method} over plain HTTP instead of redirecting or refusing it`,
        }
      : (judgeRedirectBodyFacts(answer.body, params.max_body_bytes) ??
        (redirected
          ? judgeRedirect(new URL(probe.url), answer.location, destination)
          : { ok: true, note: `refused (${answer.status}) over plain HTTP` }));
  findings.observations.push({
    probe: described,
    expected: { ...expected, status: BODY_REDIRECT_STATUSES, refusal: 'a 4xx' },
    actual: { ...actual, body_bytes: answer.body.bytes },
    ok: judgement.ok,
    note: judgement.note,
  });
  if (!judgement.ok) findings.failures.push(`${probe.path}: ${judgement.note}`);
}

/**
 * The verdict on plain HTTP. Pure: every answer is a permanent redirect to the HTTPS endpoint with
 * the same path and no page, or (with allow_refused) the connection is refused; a timeout is an error.
 */
export function judgeRedirects(
  seen: RedirectSeen,
  params: Pick<RedirectParams, 'paths' | 'statuses' | 'allow_refused' | 'allowed_hosts' | 'max_body_bytes'>,
): CheckOutcome {
  if (seen.httpUrl === undefined) {
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
  const { httpUrl } = seen;
  const allowedHosts = [new URL(httpUrl).hostname, new URL(seen.httpsUrl).hostname, ...params.allowed_hosts].filter(
    (host, index, hosts) => hosts.indexOf(host) === index,
  );
  const destination: RedirectDestination = { hosts: allowedHosts, port: effectivePort(new URL(seen.httpsUrl)) };
  const expected = {
    status: params.statuses,
    location: `https://{${allowedHosts.join('|')}}:${destination.port}<same path and query>`,
    body: `no page content, at most ${params.max_body_bytes} bytes`,
    ...(params.allow_refused ? { or: 'connection refused' } : {}),
  };
  const findings = { observations: [] as Observation[], failures: [] as string[], unobserved: [] as string[] };
  for (const probe of seen.answers) judgeOne(probe, expected, destination, params, findings);
  if (seen.answers.length === 0) findings.unobserved.push('no path was requested');
  const { observations, failures, unobserved } = findings;
  const refused = observations.every((observation) => observation.note?.startsWith('connection refused'));
  const gets = seen.answers.filter((probe) => probe.method === 'GET').length;
  const withBody = seen.answers.length - gets;
  return findingsVerdict({ failures, unobserved }, observations, {
    pass: refused
      ? `plain HTTP refused on ${httpUrl}`
      : `plain HTTP redirects to HTTPS on the same host and path (${gets} paths${
          withBody > 0 ? `; a request with a body redirected or refused` : ''
        })`,
    failPrefix: 'plain HTTP is not safely redirected: ',
    unobservedPrefix: 'could not observe the plain-HTTP endpoint: ',
  });
}

/** A plain-HTTP answer as the judge needs it: no body, its facts against the HTTPS page. */
function redirectProbe(
  path: string,
  url: URL,
  attempt: HttpAttempt,
  httpsBody: string | undefined,
  method = 'GET',
): RedirectProbe {
  if (attempt.failure) return { method, path, url: url.toString(), answer: undefined, failure: attempt.failure };
  const { response } = attempt;
  return {
    method,
    path,
    url: url.toString(),
    answer: {
      status: response.status,
      location: headerValue(response, 'location'),
      body: redirectBodyFacts(response, httpsBody),
    },
    failure: undefined,
  };
}

/**
 * Pure: the paths requested with GET over plain HTTP: the checklist's, a path that cannot exist (a
 * listener that redirects only the routes it knows serves the rest in clear text) and the login path
 * when the checklist's auth mapping names one; and the one path a POST goes to (the login, else the
 * unknown path).
 */
export function plainHttpRequests(
  paths: readonly string[],
  unknownPath: string,
  loginPath: string | undefined,
): { gets: string[]; post: string } {
  return {
    gets: [...new Set([...paths, unknownPath, ...(loginPath === undefined ? [] : [loginPath])])],
    post: loginPath ?? unknownPath,
  };
}

/**
 * Requests each path over plain HTTP, and over HTTPS for what a redirect's body must not carry; a POST
 * with a body to one path; when every plain-HTTP connection was refused on a non-standard port (and
 * refusal is allowed), the standard port too. Everything judgeRedirects needs.
 */
export async function probeRedirects(ctx: CheckContext, params: RedirectParams): Promise<RedirectSeen> {
  const httpUrl = ctx.target.http_url;
  if (httpUrl === undefined) return { httpUrl: undefined };
  const requests = plainHttpRequests(
    params.paths,
    `/secgate-${randomBytes(6).toString('hex')}`,
    ctx.auth === undefined ? undefined : ctx.auth.login.path,
  );
  // In parallel: a listener that never answers costs one timeout, not one per path. The same paths over
  // HTTPS give what a redirect's body must not carry; without a credential they may be refused and counted
  // as failures, so they leave from the source-address pool, never from the operator's own address. So
  // does the POST, which a service that takes it would count as a failed login.
  const postUrl = targetUrl(httpUrl, requests.post);
  const [attempts, httpsBodies, post] = await Promise.all([
    Promise.all(
      requests.gets.map(async (path) => {
        const url = targetUrl(httpUrl, path);
        return { path, url, attempt: await attemptRequest(ctx.http, url) };
      }),
    ),
    Promise.all(
      requests.gets.map(async (path) => (await attemptFailureRequest(ctx, targetUrl(ctx.target.url, path))).response),
    ),
    attemptFailureRequest(ctx, postUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    }),
  ]);
  const answers = attempts.map(({ path, url, attempt }, index) => {
    const https = httpsBodies[index];
    return redirectProbe(path, url, attempt, https && !https.bodyTruncated ? https.body : undefined);
  });
  answers.push(redirectProbe(`POST ${requests.post}`, postUrl, post, undefined, 'POST'));

  const configuredPort = new URL(httpUrl).port;
  const allRefused =
    post.failure?.kind === 'refused' && attempts.every(({ attempt }) => attempt.failure?.kind === 'refused');
  if (params.allow_refused && allRefused && configuredPort !== '' && Number(configuredPort) !== params.standard_port) {
    const standard = new URL(httpUrl);
    standard.port = String(params.standard_port);
    const url = targetUrl(standard.origin, '/');
    answers.push(
      redirectProbe(`/ on standard port ${params.standard_port}`, url, await attemptRequest(ctx.http, url), undefined),
    );
  }
  return { httpUrl, httpsUrl: ctx.target.url, answers };
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
  params: redirectParams,
  strength: {
    paths: 'verified',
    statuses: 'accepted',
    allow_refused: 'exception',
    allowed_hosts: 'accepted',
    max_body_bytes: 'lower',
  },
  requires: () => ['target.http_url'],
  async run(ctx, params) {
    return judgeRedirects(await probeRedirects(ctx, params), params);
  },
});
