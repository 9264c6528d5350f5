/**
 * http.headers: the browser-facing security headers are present on every
 * response, not only on the happy path. A 401, a 404 and a validation error
 * are responses an attacker can always provoke, so each is checked like the
 * 200 of the health endpoint. Version banners are reported and, by default,
 * fail when they name a version.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { defineCheck, type HttpResponse, type Observation } from '../../src/engine/types.js';
import { attemptRequest, describeFailure, describeRequest, targetUrl } from '../../src/probes/http-attempt.js';
import { httpVerdict } from './outcome.js';

export interface HeaderPolicy {
  hstsMinMaxAge: number;
  hstsIncludeSubdomains: boolean;
  failOnVersionBanner: boolean;
}

export interface HeaderFinding {
  header: string;
  value: string | null;
  /** `undefined` for context only (e.g. a banner without a version). */
  ok: boolean | undefined;
  expected: string;
  note: string;
}

const VERSION_PATTERN = /\d+\.\d+|\/\s*v?\d/;

function allValues(headers: HttpResponse['headers'], name: string): string[] {
  const value = headers[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** `max-age=63072000; includeSubDomains` → { maxAge, includeSubdomains }. */
export function parseHsts(value: string): { maxAge: number | undefined; includeSubdomains: boolean } {
  let maxAge: number | undefined;
  let includeSubdomains = false;
  for (const directive of value.split(';')) {
    const [rawName = '', rawValue] = directive.split('=', 2).map((part) => part.trim());
    const name = rawName.toLowerCase();
    if (name === 'max-age' && rawValue !== undefined) {
      const digits = rawValue.replace(/^"|"$/g, '');
      if (/^\d+$/.test(digits)) maxAge = Number(digits);
    } else if (name === 'includesubdomains') includeSubdomains = true;
  }
  return { maxAge, includeSubdomains };
}

/** The `frame-ancestors` sources of a CSP, or undefined when the directive is absent. */
export function frameAncestors(csp: string): string[] | undefined {
  for (const directive of csp.split(';')) {
    const [name, ...sources] = directive.trim().split(/\s+/);
    if (name?.toLowerCase() === 'frame-ancestors') return sources;
  }
  return undefined;
}

function judgeHsts(values: string[], policy: HeaderPolicy): HeaderFinding {
  const header = 'Strict-Transport-Security';
  const expected = `max-age>=${policy.hstsMinMaxAge}${policy.hstsIncludeSubdomains ? '; includeSubDomains' : ''}`;
  const [first] = values;
  if (first === undefined)
    return { header, value: null, ok: false, expected, note: 'Strict-Transport-Security missing' };
  // Browsers honour only the first HSTS header.
  const hsts = parseHsts(first);
  if (hsts.maxAge === undefined) {
    return { header, value: first, ok: false, expected, note: 'Strict-Transport-Security has no valid max-age' };
  }
  if (hsts.maxAge < policy.hstsMinMaxAge) {
    return {
      header,
      value: first,
      ok: false,
      expected,
      note: `Strict-Transport-Security max-age=${hsts.maxAge} is below ${policy.hstsMinMaxAge}`,
    };
  }
  if (policy.hstsIncludeSubdomains && !hsts.includeSubdomains) {
    return { header, value: first, ok: false, expected, note: 'Strict-Transport-Security lacks includeSubDomains' };
  }
  return { header, value: first, ok: true, expected, note: 'HSTS present and long enough' };
}

function judgeFraming(xfoValues: string[], cspValues: string[]): HeaderFinding {
  const header = 'X-Frame-Options';
  const expected = 'X-Frame-Options DENY or SAMEORIGIN, or CSP frame-ancestors';
  const xfo = xfoValues[0]?.trim();
  if (xfo !== undefined && /^(deny|sameorigin)$/i.test(xfo)) {
    return { header, value: xfo, ok: true, expected, note: 'framing forbidden by X-Frame-Options' };
  }
  for (const csp of cspValues) {
    const sources = frameAncestors(csp);
    if (sources !== undefined && sources.length > 0 && !sources.includes('*')) {
      return {
        header: 'Content-Security-Policy frame-ancestors',
        value: sources.join(' '),
        ok: true,
        expected,
        note: 'framing restricted by CSP frame-ancestors',
      };
    }
  }
  const note =
    xfo === undefined
      ? 'X-Frame-Options missing and no CSP frame-ancestors'
      : `X-Frame-Options ${JSON.stringify(xfo)} is neither DENY nor SAMEORIGIN and no CSP frame-ancestors`;
  return { header, value: xfo ?? null, ok: false, expected, note };
}

function judgeNosniff(values: string[]): HeaderFinding {
  const header = 'X-Content-Type-Options';
  const value = values[0]?.trim();
  if (value?.toLowerCase() === 'nosniff') return { header, value, ok: true, expected: 'nosniff', note: 'nosniff set' };
  return {
    header,
    value: value ?? null,
    ok: false,
    expected: 'nosniff',
    note: value === undefined ? 'X-Content-Type-Options missing' : `X-Content-Type-Options is ${JSON.stringify(value)}`,
  };
}

function judgeCsp(values: string[]): HeaderFinding {
  const header = 'Content-Security-Policy';
  const value = values.join(', ').trim();
  if (value === '') {
    return {
      header,
      value: null,
      ok: false,
      expected: 'a Content-Security-Policy',
      note: 'Content-Security-Policy missing',
    };
  }
  return { header, value, ok: true, expected: 'a Content-Security-Policy', note: 'CSP present' };
}

function judgeBanner(header: string, values: string[], policy: HeaderPolicy): HeaderFinding | undefined {
  const value = values.join(', ').trim();
  if (value === '') return undefined;
  const carriesVersion = VERSION_PATTERN.test(value);
  return {
    header,
    value,
    ok: carriesVersion && policy.failOnVersionBanner ? false : undefined,
    expected: 'no version number',
    note: carriesVersion ? `${header} banner discloses a version: ${value}` : `${header} banner present: ${value}`,
  };
}

/** Pure: every finding for one response's headers. */
export function judgeSecurityHeaders(headers: HttpResponse['headers'], policy: HeaderPolicy): HeaderFinding[] {
  const csp = allValues(headers, 'content-security-policy');
  const findings: (HeaderFinding | undefined)[] = [
    judgeHsts(allValues(headers, 'strict-transport-security'), policy),
    judgeFraming(allValues(headers, 'x-frame-options'), csp),
    judgeNosniff(allValues(headers, 'x-content-type-options')),
    judgeCsp(csp),
    judgeBanner('Server', allValues(headers, 'server'), policy),
    judgeBanner('X-Powered-By', allValues(headers, 'x-powered-by'), policy),
  ];
  return findings.filter((finding): finding is HeaderFinding => finding !== undefined);
}

const responseProbeSchema = z
  .object({
    /** What this response stands for in the evidence, e.g. `unknown path`. */
    label: z.string().min(1),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    path: z.string().regex(/^\//, { message: 'expected a path starting with /' }),
    body: z.string().optional(),
    content_type: z.string().optional(),
  })
  .strict();
type ResponseProbe = z.output<typeof responseProbeSchema>;

function defaultProbes(loginPath: string, mePath: string): ResponseProbe[] {
  // A random path nobody routes, so the 404 is the framework's own not-found answer.
  const unknownPath = `/secgate-not-found-${randomBytes(6).toString('hex')}`;
  return [
    { label: 'health', method: 'GET', path: '/health' },
    { label: 'protected path without credentials', method: 'GET', path: mePath },
    { label: 'unknown path', method: 'GET', path: unknownPath },
    {
      label: 'malformed JSON body',
      method: 'POST',
      path: loginPath,
      body: '{"secgate": malformed',
      content_type: 'application/json',
    },
  ];
}

export default defineCheck({
  id: 'http.headers',
  title: 'Security headers (HSTS, framing, nosniff, CSP) are on every response, with no version banners',
  source: 'seed 002, checklist item "Secure HTTP headers are present on responses"',
  remediation:
    'Set the headers in a hook that runs for every response, errors included (Fastify: onSend; nginx: add_header … always): Strict-Transport-Security max-age=31536000 or more, X-Frame-Options DENY (or CSP frame-ancestors), X-Content-Type-Options nosniff, a Content-Security-Policy; remove version numbers from Server and X-Powered-By.',
  effects: 'none',
  params: z
    .object({
      hsts_min_max_age: z.number().int().nonnegative().default(31_536_000),
      hsts_include_subdomains: z.boolean().default(false),
      /** `fail-on-version`: a Server / X-Powered-By value with a version number fails; `report`: only recorded. */
      banners: z.enum(['fail-on-version', 'report']).default('fail-on-version'),
      /** The responses to inspect; defaults to health, a 401, a 404 and a malformed-JSON error. */
      responses: z.array(responseProbeSchema).min(1).optional(),
    })
    .strict(),
  async run(ctx, params) {
    const policy: HeaderPolicy = {
      hstsMinMaxAge: params.hsts_min_max_age,
      hstsIncludeSubdomains: params.hsts_include_subdomains,
      failOnVersionBanner: params.banners === 'fail-on-version',
    };
    const probes =
      params.responses ??
      defaultProbes(ctx.auth?.login.path ?? '/api/v1/auth/login', ctx.auth?.me_path ?? '/api/v1/users/me');
    const attempts = await Promise.all(
      probes.map(async (probe) => {
        const url = targetUrl(ctx.target.url, probe.path);
        const attempt = await attemptRequest(ctx.http, url, {
          method: probe.method,
          ...(probe.body !== undefined ? { body: probe.body } : {}),
          ...(probe.content_type !== undefined ? { headers: { 'content-type': probe.content_type } } : {}),
        });
        return { probe, request: describeRequest(probe.method, url), attempt };
      }),
    );

    const observations: Observation[] = [];
    const unobserved: string[] = [];
    /** Problem → the responses it was seen on, so the summary names each problem once. */
    const problems = new Map<string, string[]>();
    for (const { probe, request, attempt } of attempts) {
      if (attempt.failure) {
        observations.push({
          probe: `${request} [${probe.label}]`,
          actual: { error: describeFailure(attempt.failure) },
          ok: false,
          note: attempt.failure.message,
        });
        unobserved.push(`${probe.label}: ${describeFailure(attempt.failure)}`);
        continue;
      }
      const status = attempt.response.status;
      for (const finding of judgeSecurityHeaders(attempt.response.headers, policy)) {
        observations.push({
          probe: `${finding.header} on ${request} [${probe.label}]`,
          expected: finding.expected,
          actual: { status, value: finding.value },
          ...(finding.ok === undefined ? {} : { ok: finding.ok }),
          note: `${finding.note} (status ${status})`,
        });
        if (finding.ok === false) {
          const seenOn = problems.get(finding.note) ?? [];
          seenOn.push(String(status));
          problems.set(finding.note, seenOn);
        }
      }
    }

    const failures = [...problems].map(([note, statuses]) => `${note} on ${statuses.join(', ')} responses`);
    return httpVerdict({ failures, unobserved }, observations, {
      pass: `security headers present on all ${probes.length} responses (${attempts
        .map(({ attempt }) => attempt.response?.status)
        .join(', ')})`,
    });
  },
});
