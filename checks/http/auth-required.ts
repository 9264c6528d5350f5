/**
 * http.auth-required: authentication is enforced centrally (seed 000 item 5),
 * so every protected path rejects a request with no credentials, a garbage
 * bearer token and a tampered JWT; an unknown path under a protected prefix is
 * also 401 (a 404 there means routing runs before authentication and the API
 * surface can be enumerated); and the public paths stay reachable.
 *
 * A gate that matches only the exact method and spelling is a common bypass:
 * the router may serve `HEAD`, a trailing slash or another letter case of a
 * protected path while the auth rule does not match it, or route a spelling
 * the auth rule's prefix match never sees (`//api/v1/…`, `/%61pi/v1/…`,
 * `/api%2Fv1/…`, `/api;x/v1/…`, `/./api/v1/…`: the router merges slashes, decodes,
 * drops matrix parameters, resolves dot segments). Those variants, sent
 * without credentials and exactly as written, must never answer 2xx (a 404,
 * 405 or a redirect is fine: the variant need not exist) — unless the 2xx is
 * byte for byte the page a path that cannot exist also gets, an HTML page
 * rather than JSON (a single-page app's catch-all serving its shell: no data),
 * but for its long opaque tokens (a CSP nonce, a CSRF token: new on every
 * response). The protected path's own spelling never earns that exemption.
 *
 * A rejection status is not enough either: a 401 whose body is the resource
 * has served it. Each rejection's body is measured against the rejection of
 * an unknown path under a protected prefix with the same credential (a path
 * that holds nothing), so the service's own error format never counts
 * against it; a page of another content type than that rejection (a proxy's
 * or a WAF's own 403 page before a JSON API) was answered by another layer,
 * not the app, and is noted, not measured. Probing records each request's status and body;
 * judgeAuthRequired is pure.
 */
import { createHmac, randomBytes } from 'node:crypto';
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
  type HttpFailure,
} from '../../src/probes/http-attempt.js';
import { findingsVerdict } from '../outcome.js';
import { withoutOpaqueTokens } from './shell-page.js';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);
const methodSchema = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
const pathSchema = z.string().regex(/^\//, { message: 'expected a path starting with /' });

export interface Credential {
  /** What the credential is, for evidence: never the token itself. */
  label: string;
  authorization: string | undefined;
}

function base64urlJson(value: Record<string, Json>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * The tokens a gate that checks signatures must refuse: random garbage, a
 * well-formed HS256 JWT signed with a key the service cannot know (a token
 * whose payload was modified after signing looks exactly like this to the
 * verifier), and an unsigned `alg: none` JWT.
 */
export function forgedCredentials(now: Date): Credential[] {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const claims = { sub: 'secgate-probe', role: 'admin', iat: issuedAt, exp: issuedAt + 600 };
  const signedPart = `${base64urlJson({ alg: 'HS256', typ: 'JWT' })}.${base64urlJson(claims)}`;
  const signature = createHmac('sha256', randomBytes(32)).update(signedPart).digest('base64url');
  const unsigned = `${base64urlJson({ alg: 'none', typ: 'JWT' })}.${base64urlJson(claims)}.`;
  return [
    { label: 'no credentials', authorization: undefined },
    { label: 'garbage bearer token', authorization: `Bearer secgate-garbage-${randomBytes(12).toString('hex')}` },
    {
      label: 'tampered JWT (HS256, signature from an unknown key)',
      authorization: `Bearer ${signedPart}.${signature}`,
    },
    { label: 'tampered JWT (alg none, no signature)', authorization: `Bearer ${unsigned}` },
  ];
}

export const PATH_VARIANTS = [
  'head',
  'trailing-slash',
  'case',
  'double-slash',
  'percent-encoding',
  'matrix-parameter',
  'dot-segment',
] as const;
export type PathVariant = (typeof PATH_VARIANTS)[number];

/** The spellings that differ in the path alone: one method each tells whether the auth rule sees them. */
const PATH_ONLY_VARIANTS: readonly PathVariant[] = [
  'double-slash',
  'percent-encoding',
  'matrix-parameter',
  'dot-segment',
];

/**
 * Pure: what a router that merges slashes, decodes percent-escapes, drops `;` parameters or resolves
 * dot segments routes to `path`, while an auth rule matching the raw path does not see it (`//api/v1/…`,
 * `/api//v1/…`, `/%61pi/v1/…`, `/api%2Fv1/…`, `/api;x/v1/…`, `…/me;x`, `/./api/v1/…`). The query is kept.
 */
export function pathSpellings(path: string, variant: PathVariant): string[] {
  const queryAt = path.indexOf('?');
  const pathname = queryAt === -1 ? path : path.slice(0, queryAt);
  const query = queryAt === -1 ? '' : path.slice(queryAt);
  // The slash between the first and the second segment, when there is a second one.
  const inner = pathname.indexOf('/', 1);
  const hasInner = inner > 0 && inner < pathname.length - 1;
  const spellings: string[] = [];
  if (variant === 'double-slash') {
    spellings.push(`/${pathname}`);
    if (hasInner) spellings.push(`${pathname.slice(0, inner)}/${pathname.slice(inner)}`);
  } else if (variant === 'percent-encoding') {
    const letter = pathname.search(/[a-z]/i);
    if (letter !== -1) {
      const escaped = `%${pathname.charCodeAt(letter).toString(16).toUpperCase()}`;
      spellings.push(`${pathname.slice(0, letter)}${escaped}${pathname.slice(letter + 1)}`);
    }
    if (hasInner) spellings.push(`${pathname.slice(0, inner)}%2F${pathname.slice(inner + 1)}`);
  } else if (variant === 'matrix-parameter') {
    // On the first segment a prefix match misses it, on the last an exact or suffix match; Tomcat-style routers drop both.
    if (hasInner) spellings.push(`${pathname.slice(0, inner)};x${pathname.slice(inner)}`);
    if (/[^/]\/?$/.test(pathname)) spellings.push(pathname.replace(/([^/])(\/?)$/, '$1;x$2'));
  } else if (variant === 'dot-segment') {
    spellings.push(`/.${pathname}`);
  }
  return spellings.map((spelling) => `${spelling}${query}`);
}

/** The requests that spell a protected route differently: same route for a lax router, maybe not for the auth rule. */
export function variantRequests(
  path: string,
  methods: readonly string[],
  variants: readonly PathVariant[],
): { variant: PathVariant; method: string; path: string }[] {
  const requests: { variant: PathVariant; method: string; path: string }[] = [];
  if (variants.includes('head') && methods.includes('GET')) requests.push({ variant: 'head', method: 'HEAD', path });
  if (variants.includes('trailing-slash')) {
    const slashed = path.endsWith('/') ? path.replace(/\/+$/, '') : `${path}/`;
    if (slashed !== '')
      for (const method of methods) requests.push({ variant: 'trailing-slash', method, path: slashed });
  }
  if (variants.includes('case')) {
    const capitalised = path.replace(/\/([a-z])/g, (_match, letter: string) => `/${letter.toUpperCase()}`);
    for (const spelling of new Set([path.toUpperCase(), capitalised])) {
      if (spelling === path) continue;
      for (const method of methods) requests.push({ variant: 'case', method, path: spelling });
    }
  }
  // These test the path handling, not the method: the route's first method alone keeps the request count modest.
  const [method] = methods;
  if (method === undefined) return requests;
  for (const variant of PATH_ONLY_VARIANTS) {
    if (!variants.includes(variant)) continue;
    for (const spelling of pathSpellings(path, variant)) requests.push({ variant, method, path: spelling });
  }
  return requests;
}

interface PlannedProbe {
  /** `catch-all`: a path that cannot exist, the yardstick for a variant's 2xx page (judged by nothing else). */
  kind: 'protected' | 'unknown-sub-path' | 'public' | 'variant' | 'catch-all';
  method: string;
  path: string;
  credential: Credential;
  expected: number[];
}

export const authRequiredParams = z
  .object({
    protected: z
      .array(z.object({ path: pathSchema, methods: z.array(methodSchema).min(1).default(['GET']) }).strict())
      .min(1)
      .default([
        { path: '/api/v1/users/me', methods: ['GET'] },
        { path: '/api/v1/notes', methods: ['GET', 'POST'] },
      ])
      .describe(
        'protected routes (path and methods): each must refuse no credentials, garbage and forged tokens with a rejection status',
      ),
    prefixes: z
      .array(pathSchema.regex(/\/$/, { message: 'expected a prefix ending with /' }))
      .default(['/api/v1/'])
      .describe(
        'prefixes under which every path, even one that does not exist, must demand authentication; the rejection of such a path is the yardstick for rejection bodies, so at least one is needed',
      ),
    public: z.array(pathSchema).default(['/health']).describe('paths that must stay reachable without credentials'),
    rejection_statuses: z
      .array(z.number().int().min(400).max(499))
      .min(1)
      .default([401])
      .describe('statuses that count as a rejection'),
    variants: z
      .array(z.enum(PATH_VARIANTS))
      .default([...PATH_VARIANTS])
      .describe(
        "spellings of each protected path probed without credentials, sent as written; none of them may answer 2xx but with the non-JSON page a path that cannot exist gets (an app's shell) (the path-only ones, double-slash to dot-segment, with the route's first method)",
      ),
  })
  .strict();
type AuthRequiredParams = z.output<typeof authRequiredParams>;

/** One request of the plan, and what it got: its status, or why there was none. */
export interface AuthProbeSeen {
  kind: PlannedProbe['kind'];
  method: string;
  path: string;
  /** `GET https://host/api/v1/notes`. */
  request: string;
  /** What was presented: `no credentials`, `garbage bearer token`. */
  credentialLabel: string;
  /** The credential as evidence: its label, or its kind and fingerprint. */
  credential: Json;
  /** The statuses that satisfy the control (none listed for a variant: anything but 2xx). */
  expected: number[];
  status: number | undefined;
  /**
   * The answer's body and Content-Type, for the judge only (never in the evidence): a rejection must
   * not carry the resource, a variant's 2xx is measured against the catch-all's page.
   */
  body: { text: string; truncated: boolean; contentType: string | undefined } | undefined;
  failure: HttpFailure | undefined;
}

/** A catch-all's page as a yardstick: its Content-Type (normalised) and whole body. */
interface ShellPage {
  contentType: string;
  text: string;
}

const normaliseContentType = (value: string): string => value.toLowerCase().replace(/\s+/g, '');
const is2xx = (status: number): boolean => status >= 200 && status < 300;

/** Pure: a body that is JSON by its Content-Type or its text; the resource of an API, never a shell. */
function isJsonBody(text: string, contentType: string): boolean {
  if (/[/+]json\b/.test(contentType)) return true;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Pure: the page the target serves on a path that cannot exist, when it can serve as a yardstick:
 * a 2xx, read whole, not empty, with a Content-Type, and not JSON (a catch-all that answers JSON
 * could be answering the resource; an empty body tells nothing apart). Undefined otherwise.
 */
export function catchAllShell(seen: readonly AuthProbeSeen[]): ShellPage | undefined {
  const control = seen.find((probe) => probe.kind === 'catch-all');
  if (control?.status === undefined || !is2xx(control.status) || control.body === undefined) return undefined;
  const { text, truncated, contentType } = control.body;
  if (truncated || text === '' || contentType === undefined) return undefined;
  const normalised = normaliseContentType(contentType);
  return isJsonBody(text, normalised) ? undefined : { contentType: normalised, text };
}

/**
 * Pure: does a variant's 2xx serve exactly the catch-all's page: same Content-Type, the whole body
 * identical but for its long opaque tokens (a nonce differs on every response; data rendered into the
 * page does not pass for one)? Never for a protected path's own spelling (a HEAD of it): there the
 * route itself answered.
 */
function servesShell(probe: AuthProbeSeen, shell: ShellPage | undefined, protectedPaths: ReadonlySet<string>): boolean {
  if (shell === undefined || probe.kind !== 'variant' || protectedPaths.has(probe.path)) return false;
  const { body } = probe;
  if (body === undefined || body.truncated || body.contentType === undefined) return false;
  if (normaliseContentType(body.contentType) !== shell.contentType) return false;
  return body.text === shell.text || withoutOpaqueTokens(body.text) === withoutOpaqueTokens(shell.text);
}

/** Pure: the sentence for one answer; `ok` says whether it satisfies the control. */
function judgeAuthAnswer(probe: AuthProbeSeen, status: number, shell: boolean): { ok: boolean; note: string } {
  if (probe.kind === 'catch-all') {
    return { ok: true, note: `a path that cannot exist answered ${status}: the yardstick for the spellings' pages` };
  }
  if (probe.kind === 'variant') {
    if (is2xx(status) && shell) {
      return {
        ok: true,
        note: `${probe.method} ${probe.path} answers the same page as a path that cannot exist: the app's shell, not the resource`,
      };
    }
    const ok = !is2xx(status);
    return {
      ok,
      note: ok
        ? `not served (${status})`
        : `${probe.method} ${probe.path} answered ${status} without credentials: this spelling of a protected path skips authentication`,
    };
  }
  if (probe.expected.includes(status))
    return { ok: true, note: probe.kind === 'public' ? 'public path reachable' : 'rejected' };
  if (probe.kind === 'public') return { ok: false, note: `public path ${probe.path} answered ${status}, expected 200` };
  if (probe.kind === 'unknown-sub-path') {
    return {
      ok: false,
      note:
        status === 404
          ? `unknown sub-path ${probe.path} answered 404 instead of 401: routing runs before authentication`
          : `unknown sub-path ${probe.path} answered ${status} instead of 401`,
    };
  }
  if (status >= 200 && status < 300) {
    return { ok: false, note: `${probe.method} ${probe.path} accepted ${probe.credentialLabel} (${status})` };
  }
  return {
    ok: false,
    note: `${probe.method} ${probe.path} answered ${status} to ${probe.credentialLabel}, expected 401`,
  };
}

/**
 * Keys of error bodies (RFC 9457 problem details, framework defaults, API gateways' links and request
 * ids), compared without case, `_` or `-`.
 */
const ERROR_BODY_KEYS = new Set([
  'error',
  'errors',
  'documentationurl',
  'message',
  'messages',
  'msg',
  'code',
  'status',
  'statuscode',
  'detail',
  'details',
  'title',
  'type',
  'instance',
  'reason',
  'description',
  'errordescription',
  'errorcode',
  'errortype',
  'extensions',
  'hint',
  'timestamp',
  'path',
  'requestid',
  'traceid',
  'correlationid',
  'success',
  'ok',
]);
/** What a rejection may exceed the unknown path's by: a longer path echoed twice, and this much besides. */
const REJECTION_BODY_SLACK_BYTES = 64;

/** Pure: the key paths of a JSON object or array (`.errors[].message`), or undefined for any other body. */
function jsonKeyPaths(text: string): string[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const walk = (node: unknown, at: string): string[] => {
    if (Array.isArray(node)) return node.flatMap((item) => walk(item, `${at}[]`));
    if (node === null || typeof node !== 'object') return [];
    return Object.entries(node).flatMap(([key, child]) => [`${at}.${key}`, ...walk(child, `${at}.${key}`)]);
  };
  return [...new Set(walk(value, ''))];
}

const lastKey = (keyPath: string): string => keyPath.slice(keyPath.lastIndexOf('.') + 1);
const isErrorKey = (keyPath: string): boolean =>
  ERROR_BODY_KEYS.has(lastKey(keyPath).toLowerCase().replace(/[-_]/g, ''));

/** A rejection body as the judge compares it; a Content-Type is only known when the answer had one. */
interface RejectionBody {
  path: string;
  text: string;
  contentType?: string | undefined;
}

/** Pure: `text/html` of `text/html; charset=utf-8`, or undefined for none. */
const mediaType = (contentType: string | undefined): string | undefined =>
  contentType === undefined ? undefined : normaliseContentType(contentType).split(';')[0] || undefined;

/**
 * Pure: the media type of a rejection that another layer answered (a proxy's, WAF's or CDN's own
 * page, HTML, before an app whose rejections are JSON): a body that is not JSON, with a Content-Type
 * other than the one of the rejection of an unknown path. Undefined when either Content-Type is
 * unknown (then the body is measured, fail closed) or they agree.
 */
export function answeredByAnotherLayer(
  rejection: RejectionBody & { truncated: boolean },
  baseline: RejectionBody,
): string | undefined {
  const type = mediaType(rejection.contentType);
  const baselineType = mediaType(baseline.contentType);
  if (type === undefined || baselineType === undefined || type === baselineType) return undefined;
  // A body cut short cannot be parsed: one that opens like JSON is measured all the same (fail closed).
  const looksJson = rejection.truncated ? /^\s*[[{]/.test(rejection.text) : jsonKeyPaths(rejection.text) !== undefined;
  return /[/+]json$/.test(type) || looksJson ? undefined : type;
}

/**
 * Pure: why a rejection's body looks like the resource rather than an error, or undefined when it is
 * an error body. The yardstick is the rejection of a path that holds nothing (an unknown path under a
 * protected prefix, same credential), so the service's own error format never counts against it: a
 * JSON body passes unless it has fields that are neither error fields nor in that one (a route's own
 * error handler adds a link or a request id, the resource adds its own fields); a page another layer
 * answered (see answeredByAnotherLayer) has nothing of the app to measure; any other body passes when
 * it is not longer than that one, but for a longer path echoed in it and a few bytes.
 */
export function rejectionBodyProblem(
  rejection: RejectionBody & { truncated: boolean },
  baseline: RejectionBody,
): string | undefined {
  if (rejection.text === baseline.text && !rejection.truncated) return undefined;
  const bytes = Buffer.byteLength(rejection.text);
  const baselineBytes = Buffer.byteLength(baseline.text);
  const keys = rejection.truncated ? undefined : jsonKeyPaths(rejection.text);
  if (keys !== undefined) {
    const baselineKeys = new Set(jsonKeyPaths(baseline.text) ?? []);
    const named = keys.filter((key) => !baselineKeys.has(key) && !isErrorKey(key)).map(lastKey);
    if (named.length === 0) return undefined;
    const shown = [...new Set(named)].slice(0, 6).join(', ');
    return `${bytes} bytes with fields (${shown}) that the rejection of an unknown path (${baselineBytes} bytes) lacks`;
  }
  if (answeredByAnotherLayer(rejection, baseline) !== undefined) return undefined;
  const slack = REJECTION_BODY_SLACK_BYTES + 2 * Math.max(0, rejection.path.length - baseline.path.length);
  if (!rejection.truncated && bytes <= baselineBytes + slack) return undefined;
  return `${rejection.truncated ? 'more than ' : ''}${bytes} bytes, where the rejection of an unknown path has ${baselineBytes}`;
}

/**
 * Pure: the rejection that is the yardstick for `probe`'s body: the unknown path requested with the
 * same credential (under the prefix `probe.path` starts with, if one does) and answered with a
 * rejection status. `missing` when no such path was requested with that credential at all;
 * `failed` when it was, but its answer is itself a failure or unobserved (reported on its own).
 */
function rejectionBaseline(
  probe: AuthProbeSeen,
  seen: readonly AuthProbeSeen[],
  rejectionStatuses: readonly number[],
): AuthProbeSeen | 'missing' | 'failed' {
  const candidates = seen.filter(
    (other) => other.kind === 'unknown-sub-path' && other.credentialLabel === probe.credentialLabel,
  );
  if (candidates.length === 0) return 'missing';
  const usable = candidates.filter(
    (other) => other.status !== undefined && rejectionStatuses.includes(other.status) && other.body !== undefined,
  );
  const underSamePrefix = usable.find((other) =>
    probe.path.startsWith(other.path.slice(0, other.path.lastIndexOf('/') + 1)),
  );
  return underSamePrefix ?? usable[0] ?? 'failed';
}

/** Pure: a rejection of a protected path or a spelling of one whose body looks like the resource (see rejectionBodyProblem). */
function judgeRejectionBody(
  probe: AuthProbeSeen,
  seen: readonly AuthProbeSeen[],
  rejectionStatuses: readonly number[],
): { failure?: string; unobserved?: string; note?: string } {
  const { status, body } = probe;
  if (probe.kind === 'public' || probe.kind === 'unknown-sub-path' || probe.kind === 'catch-all') return {};
  if (status === undefined || body === undefined || !rejectionStatuses.includes(status)) return {};
  const baseline = rejectionBaseline(probe, seen, rejectionStatuses);
  if (baseline === 'failed') return {};
  if (baseline === 'missing' || baseline.body === undefined) {
    return {
      unobserved: `rejection bodies with ${probe.credentialLabel} not compared: no unknown path under a protected prefix was requested with it`,
    };
  }
  const rejection = { path: probe.path, ...body };
  const yardstick = { path: baseline.path, text: baseline.body.text, contentType: baseline.body.contentType };
  const problem = rejectionBodyProblem(rejection, yardstick);
  if (problem === undefined) {
    const layer = answeredByAnotherLayer(rejection, yardstick);
    return layer === undefined ? {} : { note: `answered by another layer (${layer})` };
  }
  return {
    failure: `${probe.method} ${probe.path} answered ${status} to ${probe.credentialLabel} with a body like the served resource: ${problem}`,
  };
}

/**
 * The verdict on every request. Pure: a protected path must reject, a variant must not serve (but for
 * the catch-all's page), a public path must answer 200; a request without an answer is an error.
 */
export function judgeAuthRequired(
  seen: readonly AuthProbeSeen[],
  params: Pick<AuthRequiredParams, 'rejection_statuses' | 'variants' | 'public' | 'protected' | 'prefixes'>,
): CheckOutcome {
  const observations: Observation[] = [];
  const failures: string[] = [];
  const unobserved: string[] = [];
  // Once per credential, not per request: one missing yardstick leaves all its rejections uncompared.
  const uncompared = new Set<string>();
  const shell = catchAllShell(seen);
  const protectedPaths = new Set(params.protected.map((entry) => entry.path));
  let shellAnswers = 0;
  for (const probe of seen) {
    const base = {
      probe: `${probe.request} [${probe.kind}, ${probe.credentialLabel}]`,
      expected:
        probe.kind === 'variant'
          ? "anything but 2xx, or a path that cannot exist's page (not JSON)"
          : probe.kind === 'catch-all'
            ? 'any answer (a yardstick)'
            : { status: probe.expected },
    };
    if (probe.status === undefined) {
      const why = probe.failure ? describeFailure(probe.failure) : 'no answer';
      observations.push({ ...base, actual: { credential: probe.credential, error: why }, ok: false });
      unobserved.push(`${probe.request}: ${why}`);
      continue;
    }
    const isShell = is2xx(probe.status) && servesShell(probe, shell, protectedPaths);
    if (isShell) shellAnswers += 1;
    const answer = judgeAuthAnswer(probe, probe.status, isShell);
    const body = answer.ok ? judgeRejectionBody(probe, seen, params.rejection_statuses) : {};
    const ok = answer.ok && body.failure === undefined && body.unobserved === undefined;
    const note = body.failure ?? body.unobserved ?? (body.note ? `${answer.note}; ${body.note}` : answer.note);
    const actual = {
      credential: probe.credential,
      status: probe.status,
      ...(probe.body ? { body_bytes: Buffer.byteLength(probe.body.text) } : {}),
    };
    observations.push({ ...base, actual, ok, note });
    if (!answer.ok) failures.push(answer.note);
    if (body.failure !== undefined) failures.push(body.failure);
    if (body.unobserved !== undefined) uncompared.add(body.unobserved);
  }
  const count = (kind: PlannedProbe['kind']) => seen.filter((probe) => probe.kind === kind).length;
  // Fail closed on a record that could not have passed: no protected request at all, or not every one asked for.
  if (count('protected') === 0) unobserved.push('no protected path was requested');
  else unobserved.push(...unrequested(seen, params));
  // Without any unknown path, `unrequested` names the prefix; without a prefix, nothing is the yardstick.
  if (count('unknown-sub-path') > 0) unobserved.push(...uncompared);
  else if (params.prefixes.length === 0)
    unobserved.push(
      'no protected prefix: rejection bodies have nothing to be compared with (an unknown path under one)',
    );
  const variantCount = count('variant');
  const publicCount = count('public');
  return findingsVerdict({ failures, unobserved }, observations, {
    pass: `${count('protected') + count('unknown-sub-path')} unauthenticated or forged requests rejected with ${params.rejection_statuses.join('/')}${
      variantCount > 0 ? `; ${variantCount} other spellings (${params.variants.join(', ')}) not served` : ''
    }${shellAnswers > 0 ? ` (${shellAnswers} answered the app's shell, the page of a path that cannot exist)` : ''}; ${publicCount} public ${publicCount === 1 ? 'path' : 'paths'} reachable`,
  });
}

/** Pure: "GET /api/v1/notes: not requested" for each route, prefix or public path the checklist names and the record lacks. */
function unrequested(
  seen: readonly AuthProbeSeen[],
  params: Pick<AuthRequiredParams, 'protected' | 'prefixes' | 'public'>,
): string[] {
  const sent = (kind: PlannedProbe['kind'], method: string, matches: (path: string) => boolean) =>
    seen.some((probe) => probe.kind === kind && probe.method === method && matches(probe.path));
  const missing: string[] = [];
  for (const entry of params.protected) {
    for (const method of entry.methods) {
      if (!sent('protected', method, (path) => path === entry.path)) missing.push(`${method} ${entry.path}`);
    }
  }
  for (const prefix of params.prefixes) {
    if (!sent('unknown-sub-path', 'GET', (path) => path.startsWith(prefix)))
      missing.push(`an unknown path under ${prefix}`);
  }
  for (const publicPath of params.public) {
    if (!sent('public', 'GET', (path) => path === publicPath)) missing.push(`public path ${publicPath}`);
  }
  return missing.map((request) => `${request}: not requested`);
}

/** Sends the whole plan (each protected route with each credential, the unknown sub-paths, the variants, the public paths). */
export async function probeAuthRequired(ctx: CheckContext, params: AuthRequiredParams): Promise<AuthProbeSeen[]> {
  const credentials = forgedCredentials(ctx.clock.now());
  const [noCredentials] = credentials;
  if (noCredentials === undefined) throw new Error('forgedCredentials() returned no credentials');
  const unknownSuffix = `secgate-unknown-${randomBytes(6).toString('hex')}`;
  // A path that cannot exist, outside every prefix: what a single-page app's catch-all serves to any
  // unknown route. A variant that gets exactly this page got the app shell, not the protected route.
  const catchAllPath = `/secgate-no-such-page-${randomBytes(6).toString('hex')}`;
  const planned: PlannedProbe[] = [
    ...params.protected.flatMap((entry) =>
      entry.methods.flatMap((method) =>
        credentials.map((credential) => ({
          kind: 'protected' as const,
          method,
          path: entry.path,
          credential,
          expected: params.rejection_statuses,
        })),
      ),
    ),
    // With every credential: each one's rejection there is the yardstick for that credential's rejection bodies.
    ...params.prefixes.flatMap((prefix) =>
      credentials.map((credential) => ({
        kind: 'unknown-sub-path' as const,
        method: 'GET',
        path: `${prefix}${unknownSuffix}`,
        credential,
        expected: params.rejection_statuses,
      })),
    ),
    ...params.protected.flatMap((entry) =>
      variantRequests(entry.path, entry.methods, params.variants).map((request) => ({
        kind: 'variant' as const,
        method: request.method,
        path: request.path,
        credential: noCredentials,
        // Anything but success: the variant may be refused, unknown (404, 405) or redirected.
        expected: [],
      })),
    ),
    {
      kind: 'catch-all' as const,
      method: 'GET',
      path: catchAllPath,
      credential: noCredentials,
      expected: [],
    },
    ...params.public.map((path) => ({
      kind: 'public' as const,
      method: 'GET',
      path,
      credential: noCredentials,
      expected: [200],
    })),
  ];

  return Promise.all(
    planned.map(async (probe): Promise<AuthProbeSeen> => {
      // Sent as written: a URL would fold the `/./` and `//` spellings before they reach the service.
      const url = new URL(ctx.target.url);
      const headers: Record<string, string> = {};
      if (probe.credential.authorization) headers.authorization = probe.credential.authorization;
      const hasBody = METHODS_WITH_BODY.has(probe.method);
      if (hasBody) headers['content-type'] = 'application/json';
      const options = {
        method: probe.method,
        requestTarget: probe.path,
        headers,
        ...(hasBody ? { body: '{}' } : {}),
      };
      // Every probe but a public path is one the service may count as an authentication failure.
      const attempt =
        probe.kind === 'public'
          ? await attemptRequest(ctx.http, url, options)
          : await attemptFailureRequest(ctx, url, options);
      const sent = {
        kind: probe.kind,
        method: probe.method,
        path: probe.path,
        request: describeRequest(probe.method, `${url.origin}${probe.path}`),
        credentialLabel: probe.credential.label,
        // The forged token as evidence: its fingerprint, never its value.
        credential: probe.credential.authorization
          ? {
              kind: probe.credential.label,
              ...ctx.secrets.fingerprint(probe.credential.authorization.replace(/^Bearer /, '')),
            }
          : probe.credential.label,
        expected: probe.expected,
      };
      if (attempt.failure) return { ...sent, status: undefined, body: undefined, failure: attempt.failure };
      const { status, body: text, bodyTruncated: truncated } = attempt.response;
      const contentType = headerValue(attempt.response, 'content-type');
      return { ...sent, status, body: { text, truncated, contentType }, failure: undefined };
    }),
  );
}

export default defineCheck({
  id: 'http.auth-required',
  title: 'Protected paths answer 401 without valid credentials, unknown protected sub-paths too; public paths stay 200',
  source: 'control S1 (docs/controls.md#S1): Authentication on every endpoint but health, enforced centrally',
  docs: 'docs/controls.md#S1',
  remediation:
    'Authenticate in one hook that runs for every request under the protected prefixes before routing (Fastify: an onRequest hook, so unknown routes answer 401, not 404), verify the JWT signature with a pinned algorithm, and reject everything else with 401.',
  effects: 'none',
  severity: 'critical',
  params: authRequiredParams,
  strength: {
    protected: 'verified',
    prefixes: 'verified',
    public: 'accepted',
    rejection_statuses: 'accepted',
    variants: 'verified',
  },
  async run(ctx, params) {
    return judgeAuthRequired(await probeAuthRequired(ctx, params), params);
  },
});
