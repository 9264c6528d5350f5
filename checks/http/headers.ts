/**
 * http.headers: the browser-facing security headers are present on every
 * response, not only on the happy path. A 401, a 404 and a validation error
 * are responses an attacker can always provoke, so each is checked like the
 * 200 of the health endpoint. Version banners are reported and, by default,
 * fail when they name a version.
 */
import { randomBytes } from 'node:crypto';
import { parse as parseDomain } from 'tldts';
import { z } from 'zod';
import {
  type CheckContext,
  type CheckOutcome,
  defineCheck,
  type HttpResponse,
  type Observation,
} from '../../src/engine/types.js';
import { authMapping } from '../../src/probes/auth-client.js';
import {
  attemptFailureRequest,
  attemptRequest,
  describeFailure,
  describeRequest,
  targetUrl,
} from '../../src/probes/http-attempt.js';
import { findingsVerdict } from '../outcome.js';

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

export interface ParsedHsts {
  maxAge: number | undefined;
  includeSubdomains: boolean;
  /** Why a browser ignores this header (RFC 6797 §6.1: every directive at most once, max-age required). */
  invalid: string | undefined;
}

/** `max-age=63072000; includeSubDomains` → { maxAge, includeSubdomains, invalid }. */
export function parseHsts(value: string): ParsedHsts {
  let maxAge: number | undefined;
  let includeSubdomains = false;
  const seen = new Set<string>();
  let invalid: string | undefined;
  for (const directive of value.split(';')) {
    // Only the first `=` separates name from value: `max-age=31536000=0` has the value `31536000=0`.
    const separator = directive.indexOf('=');
    const rawName = (separator < 0 ? directive : directive.slice(0, separator)).trim();
    const rawValue = separator < 0 ? undefined : directive.slice(separator + 1).trim();
    const name = rawName.toLowerCase();
    if (name === '') continue;
    if (seen.has(name)) invalid ??= `the directive ${rawName} appears twice`;
    seen.add(name);
    if (name === 'max-age') {
      // delta-seconds, bare or as a whole quoted-string; anything else (`"31536000`, `1e9`) voids the header.
      const digits = /^(\d+)$|^"(\d+)"$/.exec(rawValue ?? '');
      if (digits) maxAge = Number(digits[1] ?? digits[2]);
      else invalid ??= `its max-age value ${JSON.stringify(rawValue ?? '')} is not a number of seconds`;
    } else if (name === 'includesubdomains') includeSubdomains = true;
  }
  if (maxAge === undefined) invalid ??= 'it has no valid max-age';
  return { maxAge, includeSubdomains, invalid };
}

/** The policies of CSP header values: one header may carry several, separated by commas. */
function cspPolicies(cspValues: readonly string[]): string[] {
  return cspValues.flatMap((value) => value.split(',')).map((policy) => policy.trim());
}

/** One CSP policy as directive name (lower-cased) → its sources. */
function cspDirectives(policy: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const directive of policy.split(';')) {
    const [name = '', ...sources] = directive.trim().split(/\s+/);
    // A repeated directive is ignored by browsers: the first one counts.
    if (name !== '' && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), sources);
  }
  return directives;
}

/** The `frame-ancestors` sources of one CSP policy, or undefined when the directive is absent. */
export function frameAncestors(csp: string): string[] | undefined {
  return cspDirectives(csp).get('frame-ancestors');
}

/** A host-source whose host is `*`: `*`, `https://*`, `*:*`, `https://*:443/path` match every host. */
const ANY_HOST_SOURCE = /^([a-z][a-z0-9+.-]*:\/\/)?\*(:[0-9*]+)?(\/.*)?$/i;

/**
 * Sources that match any site (so, in frame-ancestors, let any site frame the
 * page): a wildcard host (`*`, `https://*`, `*:*`), and scheme-only sources
 * (`https:`, `http:`, `data:` …) that match every origin of their scheme.
 */
function anyOriginSources(sources: readonly string[]): string[] {
  return sources.filter((source) => ANY_HOST_SOURCE.test(source) || /^[a-z][a-z0-9+.-]*:$/i.test(source));
}

/** A host-source with a wildcard subdomain (`*.example.com`, `https://*.com:443/app`): its host after `*.`. */
const WILDCARD_SUBDOMAIN_SOURCE = /^(?:[a-z][a-z0-9+.-]*:\/\/)?\*\.([^:/]+)(?::[0-9*]+)?(?:\/.*)?$/i;

/**
 * Sources whose wildcard stands directly under a public suffix — `*.com`,
 * `*.co.uk`, `*.github.io`, `*.herokuapp.com` — so they match every site anyone
 * can register there, not one owner's subdomains. The Public Suffix List with
 * its private section (hosting platforms) decides, through tldts; a name it
 * does not list is a suffix by the list's default rule, as browsers treat it.
 */
function publicSuffixWildcards(sources: readonly string[]): string[] {
  return sources.filter((source) => {
    const host = WILDCARD_SUBDOMAIN_SOURCE.exec(source)?.[1]?.toLowerCase().replace(/\.$/, '');
    if (host === undefined) return false;
    // The host is itself a suffix; a host that is no valid name (browsers drop that source) is not.
    const parsed = parseDomain(host, { allowPrivateDomains: true });
    return parsed.hostname !== null && parsed.publicSuffix === parsed.hostname;
  });
}

/** Sources that let sites nobody reviewed frame the page: any site, or any site under a public suffix. */
function openFramingSources(sources: readonly string[]): { anySite: string[]; underSuffix: string[] } {
  return { anySite: anyOriginSources(sources), underSuffix: publicSuffixWildcards(sources) };
}

function judgeHsts(values: string[], policy: HeaderPolicy): HeaderFinding {
  const header = 'Strict-Transport-Security';
  const expected = `max-age>=${policy.hstsMinMaxAge}${policy.hstsIncludeSubdomains ? '; includeSubDomains' : ''}`;
  const [first] = values;
  if (first === undefined)
    return { header, value: null, ok: false, expected, note: 'Strict-Transport-Security missing' };
  // Browsers honour only the first HSTS header, and ignore it entirely when it breaks the grammar.
  const hsts = parseHsts(first);
  if (hsts.invalid !== undefined || hsts.maxAge === undefined) {
    return {
      header,
      value: first,
      ok: false,
      expected,
      note: `Strict-Transport-Security is invalid (${hsts.invalid}), so browsers ignore it: as good as missing`,
    };
  }
  if (hsts.maxAge === 0) {
    return {
      header,
      value: first,
      ok: false,
      expected,
      note: 'Strict-Transport-Security max-age=0 tells browsers to forget HSTS for this host',
    };
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

/**
 * Framing as browsers decide it: when an enforced CSP carries frame-ancestors,
 * X-Frame-Options is ignored (CSP Level 2 §7.7.2), so XFO DENY next to
 * `frame-ancestors *` allows framing. Every enforced policy must allow a frame,
 * so one restrictive frame-ancestors among several policies is enough.
 */
function judgeFraming(xfoValues: string[], cspValues: string[]): HeaderFinding {
  const expected =
    'CSP frame-ancestors without a wildcard host, a wildcard directly under a public suffix (*.com, *.github.io) or scheme-only sources, or (without it) X-Frame-Options DENY/SAMEORIGIN';
  const ancestorLists = cspPolicies(cspValues)
    .map(frameAncestors)
    .filter((sources): sources is string[] => sources !== undefined);
  if (ancestorLists.length > 0) {
    const header = 'Content-Security-Policy frame-ancestors';
    const value = ancestorLists.map((sources) => sources.join(' ')).join(', ');
    const open = ancestorLists.map(openFramingSources);
    // An empty source list matches nothing, like 'none'.
    const restrictive = open.some(({ anySite, underSuffix }) => anySite.length === 0 && underSuffix.length === 0);
    if (restrictive) return { header, value, ok: true, expected, note: 'framing restricted by CSP frame-ancestors' };
    const anySite = [...new Set(open.flatMap((sources) => sources.anySite))];
    const underSuffix = [...new Set(open.flatMap((sources) => sources.underSuffix))];
    const allows = [
      ...(anySite.length > 0 ? [`any site (${anySite.join(' ')})`] : []),
      ...(underSuffix.length > 0 ? [`any site under a public suffix (${underSuffix.join(' ')})`] : []),
    ].join(' and ');
    const xfo = xfoValues[0]?.trim();
    return {
      header,
      value,
      ok: false,
      expected,
      note: `CSP frame-ancestors allows ${allows}${xfo === undefined ? '' : `, and browsers then ignore X-Frame-Options ${JSON.stringify(xfo)}`}`,
    };
  }
  const header = 'X-Frame-Options';
  const xfo = xfoValues[0]?.trim();
  if (xfo !== undefined && /^(deny|sameorigin)$/i.test(xfo)) {
    return { header, value: xfo, ok: true, expected, note: 'framing forbidden by X-Frame-Options' };
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

/**
 * Directives that restrict what a page may load, run, submit or be framed by
 * (CSP Level 3 and the directives browsers ship beside it). `report-uri` and
 * `report-to` only report, and browsers skip names they do not know, so a
 * policy with none of these enforces nothing.
 */
const RESTRICTING_DIRECTIVES = new Set([
  'default-src',
  'script-src',
  'script-src-elem',
  'script-src-attr',
  'style-src',
  'style-src-elem',
  'style-src-attr',
  'img-src',
  'font-src',
  'connect-src',
  'media-src',
  'object-src',
  'frame-src',
  'child-src',
  'worker-src',
  'manifest-src',
  'prefetch-src',
  'fenced-frame-src',
  'base-uri',
  'sandbox',
  'form-action',
  'frame-ancestors',
  'navigate-to',
  'upgrade-insecure-requests',
  'block-all-mixed-content',
  'require-trusted-types-for',
  'trusted-types',
]);

/** Why a policy's scripts are barely restricted, if they are: recorded, not judged (control S3 asks for a policy). */
function laxScripts(directives: Map<string, string[]>): string | undefined {
  const sources = directives.get('script-src') ?? directives.get('default-src');
  if (sources === undefined) return 'no script-src or default-src, so scripts may come from anywhere';
  const anyHost = anyOriginSources(sources);
  if (anyHost.length > 0) return `scripts may come from any host (${anyHost.join(' ')})`;
  const lower = sources.map((source) => source.toLowerCase());
  const pinned = lower.some((source) => /^'(nonce-|sha(256|384|512)-|strict-dynamic')/.test(source));
  if (lower.includes("'unsafe-inline'") && !pinned) return "'unsafe-inline' scripts without a nonce or hash";
  return undefined;
}

function judgeCsp(values: string[]): HeaderFinding {
  const header = 'Content-Security-Policy';
  const expected = 'a Content-Security-Policy with at least one fetch, document or navigation directive';
  // Untrimmed: two empty headers show as `", "`, which is what the service sent.
  const value = values.join(', ');
  if (value.trim() === '') return { header, value: null, ok: false, expected, note: 'Content-Security-Policy missing' };
  // Several policies are all enforced, so one that restricts something is enough; empty ones are skipped.
  const enforcing = cspPolicies(values)
    .map(cspDirectives)
    .filter((directives) => [...directives.keys()].some((name) => RESTRICTING_DIRECTIVES.has(name)));
  if (enforcing.length === 0) {
    return {
      header,
      value,
      ok: false,
      expected,
      note: `Content-Security-Policy ${JSON.stringify(value)} has no fetch, document or navigation directive: it restricts nothing`,
    };
  }
  const lax = enforcing.map(laxScripts);
  const laxNote = lax.every((reason) => reason !== undefined) ? ` (not judged: ${lax.join('; ')})` : '';
  return { header, value, ok: true, expected, note: `CSP present${laxNote}` };
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
    label: z.string().min(1).describe('what this response stands for in the evidence, e.g. `unknown path`'),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    path: z.string().regex(/^\//, { message: 'expected a path starting with /' }),
    body: z.string().optional(),
    content_type: z.string().optional(),
    expect_status: z
      .number()
      .int()
      .min(100)
      .max(599)
      .optional()
      .describe(
        'the status this request is meant to provoke (e.g. 404 for an unknown path). When another comes back, the evidence says that class of response was not observed',
      ),
  })
  .strict();
type ResponseProbe = z.output<typeof responseProbeSchema>;

function defaultProbes(loginPath: string, mePath: string): ResponseProbe[] {
  // A random path nobody routes, so the 404 is the framework's own not-found answer.
  const unknownPath = `/secgate-not-found-${randomBytes(6).toString('hex')}`;
  return [
    { label: 'health', method: 'GET', path: '/health', expect_status: 200 },
    { label: 'protected path without credentials', method: 'GET', path: mePath, expect_status: 401 },
    { label: 'unknown path', method: 'GET', path: unknownPath, expect_status: 404 },
    {
      label: 'malformed JSON body',
      method: 'POST',
      path: loginPath,
      body: '{"secgate": malformed',
      content_type: 'application/json',
      expect_status: 400,
    },
  ];
}

/**
 * Names only what was seen: each response's status, and the classes of
 * response that were meant to be provoked but never came back.
 */
export function passSummary(seen: readonly { probe: ResponseProbe; status: number | undefined }[]): string {
  const statuses = seen.map(({ probe, status }) => `${probe.label} ${status}`);
  const observed = new Set(seen.map(({ status }) => status));
  const missing = [
    ...new Set(
      seen.flatMap(({ probe }) =>
        probe.expect_status !== undefined && !observed.has(probe.expect_status) ? [probe.expect_status] : [],
      ),
    ),
  ];
  return `security headers present on all ${seen.length} responses observed (${statuses.join(', ')})${
    missing.length > 0 ? `; no ${missing.join(' or ')} response was produced, so none was checked` : ''
  }`;
}

export const headersParams = z
  .object({
    hsts_min_max_age: z
      .number()
      .int()
      .nonnegative()
      .default(31_536_000)
      .describe('the least Strict-Transport-Security max-age accepted, in seconds (default: one year)'),
    hsts_include_subdomains: z
      .boolean()
      .default(false)
      .describe('also require includeSubDomains in Strict-Transport-Security'),
    banners: z
      .enum(['fail-on-version', 'report'])
      .default('fail-on-version')
      .describe(
        '`fail-on-version`: a Server / X-Powered-By value with a version number fails; `report`: only recorded',
      ),
    responses: z
      .array(responseProbeSchema)
      .min(1)
      .optional()
      .describe('the responses to inspect; defaults to health, a 401, a 404 and a malformed-JSON error'),
  })
  .strict();
type HeadersParams = z.output<typeof headersParams>;

export default defineCheck({
  id: 'http.headers',
  title: 'Security headers (HSTS, framing, nosniff, CSP) are on every response, with no version banners',
  source: 'control S3 (docs/controls.md#S3): Security headers on every response',
  docs: 'docs/controls.md#S3',
  remediation:
    'Set the headers in a hook that runs for every response, errors included (Fastify: onSend; nginx: add_header … always): Strict-Transport-Security max-age=31536000 or more, X-Frame-Options DENY (or CSP frame-ancestors), X-Content-Type-Options nosniff, a Content-Security-Policy with at least default-src; remove version numbers from Server and X-Powered-By.',
  effects: 'none',
  severity: 'medium',
  params: headersParams,
  strength: {
    hsts_min_max_age: 'higher',
    hsts_include_subdomains: 'requirement',
    banners: ['report', 'fail-on-version'],
  },
  async run(ctx, params) {
    return judgeHeaders(await probeHeaders(ctx, params), params);
  },
});

/** One response the check asked for: what it was meant to provoke, and the answer (headers) or why none came. */
export interface HeadersAnswer {
  probe: ResponseProbe;
  /** `GET https://host/path`: how observations name the request. */
  request: string;
  answer: { status: number; headers: HttpResponse['headers'] } | { failure: string; message: string };
}

/** Sends the response probes (the checklist's or the defaults) at once and records each answer's headers. */
export async function probeHeaders(ctx: CheckContext, params: HeadersParams): Promise<HeadersAnswer[]> {
  const probes = params.responses ?? defaultProbes(authMapping(ctx).login.path, authMapping(ctx).me_path);
  return Promise.all(
    probes.map(async (probe): Promise<HeadersAnswer> => {
      const url = targetUrl(ctx.target.url, probe.path);
      const options = {
        method: probe.method,
        ...(probe.body !== undefined ? { body: probe.body } : {}),
        ...(probe.content_type !== undefined ? { headers: { 'content-type': probe.content_type } } : {}),
      };
      // A request meant to be refused (401, 404, 400) may count as a failure at the service.
      const meantToSucceed = probe.expect_status !== undefined && probe.expect_status < 300;
      const attempt = meantToSucceed
        ? await attemptRequest(ctx.http, url, options)
        : await attemptFailureRequest(ctx, url, options);
      const request = describeRequest(probe.method, url);
      return attempt.failure
        ? { probe, request, answer: { failure: describeFailure(attempt.failure), message: attempt.failure.message } }
        : { probe, request, answer: { status: attempt.response.status, headers: attempt.response.headers } };
    }),
  );
}

/**
 * The verdict. Pure: every answer's headers judged against the policy (judgeSecurityHeaders), each problem
 * named once with the statuses it was seen on; a response that never came is an error, not a pass.
 */
export function judgeHeaders(answers: readonly HeadersAnswer[], params: HeadersParams): CheckOutcome {
  const policy: HeaderPolicy = {
    hstsMinMaxAge: params.hsts_min_max_age,
    hstsIncludeSubdomains: params.hsts_include_subdomains,
    failOnVersionBanner: params.banners === 'fail-on-version',
  };
  const observations: Observation[] = [];
  const unobserved: string[] = [];
  /** Problem → the responses it was seen on, so the summary names each problem once. */
  const problems = new Map<string, string[]>();
  for (const { probe, request, answer } of answers) {
    if ('failure' in answer) {
      observations.push({
        probe: `${request} [${probe.label}]`,
        actual: { error: answer.failure },
        ok: false,
        note: answer.message,
      });
      unobserved.push(`${probe.label}: ${answer.failure}`);
      continue;
    }
    const { status } = answer;
    if (probe.expect_status !== undefined && status !== probe.expect_status) {
      observations.push({
        probe: `${request} [${probe.label}]`,
        expected: { status: probe.expect_status },
        actual: { status },
        note: `answered ${status}, not ${probe.expect_status}: headers on ${probe.expect_status} responses were not observed through this request`,
      });
    }
    for (const finding of judgeSecurityHeaders(answer.headers, policy)) {
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
  if (answers.length === 0) unobserved.push('no response was asked for');
  const failures = [...problems].map(([note, statuses]) => `${note} on ${statuses.join(', ')} responses`);
  return findingsVerdict({ failures, unobserved }, observations, {
    pass: passSummary(
      answers.map(({ probe, answer }) => ({ probe, status: 'status' in answer ? answer.status : undefined })),
    ),
  });
}
