/**
 * http.auth-required: authentication is enforced centrally (seed 000 item 5),
 * so every protected path rejects a request with no credentials, a garbage
 * bearer token and a tampered JWT; an unknown path under a protected prefix is
 * also 401 (a 404 there means routing runs before authentication and the API
 * surface can be enumerated); and the public paths stay reachable.
 *
 * A gate that matches only the exact method and spelling is a common bypass:
 * the router may serve `HEAD`, a trailing slash or another letter case of a
 * protected path while the auth rule does not match it. Those variants, sent
 * without credentials, must never answer 2xx (a 404, 405 or a redirect is fine:
 * the variant need not exist). Probing records each request's status;
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
import {
  attemptFailureRequest,
  attemptRequest,
  describeFailure,
  describeRequest,
  type HttpFailure,
  targetUrl,
} from '../../src/probes/http-attempt.js';
import { findingsVerdict } from '../outcome.js';

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

export const PATH_VARIANTS = ['head', 'trailing-slash', 'case'] as const;
export type PathVariant = (typeof PATH_VARIANTS)[number];

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
  return requests;
}

interface PlannedProbe {
  kind: 'protected' | 'unknown-sub-path' | 'public' | 'variant';
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
      .describe('prefixes under which every path, even one that does not exist, must demand authentication'),
    public: z.array(pathSchema).default(['/health']).describe('paths that must stay reachable without credentials'),
    rejection_statuses: z
      .array(z.number().int().min(400).max(499))
      .min(1)
      .default([401])
      .describe('statuses that count as a rejection'),
    variants: z
      .array(z.enum(PATH_VARIANTS))
      .default([...PATH_VARIANTS])
      .describe('spellings of each protected path probed without credentials; none of them may answer 2xx'),
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
  failure: HttpFailure | undefined;
}

/** Pure: the sentence for one answer; `ok` says whether it satisfies the control. */
function judgeAuthAnswer(probe: AuthProbeSeen, status: number): { ok: boolean; note: string } {
  if (probe.kind === 'variant') {
    const ok = status < 200 || status >= 300;
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
 * The verdict on every request. Pure: a protected path must reject, a variant must not serve, a public
 * path must answer 200; a request without an answer is an error.
 */
export function judgeAuthRequired(
  seen: readonly AuthProbeSeen[],
  params: Pick<AuthRequiredParams, 'rejection_statuses' | 'variants' | 'public' | 'protected' | 'prefixes'>,
): CheckOutcome {
  const observations: Observation[] = [];
  const failures: string[] = [];
  const unobserved: string[] = [];
  for (const probe of seen) {
    const base = {
      probe: `${probe.request} [${probe.kind}, ${probe.credentialLabel}]`,
      expected: probe.kind === 'variant' ? 'anything but 2xx' : { status: probe.expected },
    };
    if (probe.status === undefined) {
      const why = probe.failure ? describeFailure(probe.failure) : 'no answer';
      observations.push({ ...base, actual: { credential: probe.credential, error: why }, ok: false });
      unobserved.push(`${probe.request}: ${why}`);
      continue;
    }
    const { ok, note } = judgeAuthAnswer(probe, probe.status);
    observations.push({ ...base, actual: { credential: probe.credential, status: probe.status }, ok, note });
    if (!ok) failures.push(note);
  }
  const count = (kind: PlannedProbe['kind']) => seen.filter((probe) => probe.kind === kind).length;
  // Fail closed on a record that could not have passed: no protected request at all, or not every one asked for.
  if (count('protected') === 0) unobserved.push('no protected path was requested');
  else unobserved.push(...unrequested(seen, params));
  const variantCount = count('variant');
  const publicCount = count('public');
  return findingsVerdict({ failures, unobserved }, observations, {
    pass: `${count('protected') + count('unknown-sub-path')} unauthenticated or forged requests rejected with ${params.rejection_statuses.join('/')}${
      variantCount > 0 ? `; ${variantCount} other spellings (${params.variants.join(', ')}) not served` : ''
    }; ${publicCount} public ${publicCount === 1 ? 'path' : 'paths'} reachable`,
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
    ...params.prefixes.map((prefix) => ({
      kind: 'unknown-sub-path' as const,
      method: 'GET',
      path: `${prefix}${unknownSuffix}`,
      credential: noCredentials,
      expected: params.rejection_statuses,
    })),
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
      const url = targetUrl(ctx.target.url, probe.path);
      const headers: Record<string, string> = {};
      if (probe.credential.authorization) headers.authorization = probe.credential.authorization;
      const hasBody = METHODS_WITH_BODY.has(probe.method);
      if (hasBody) headers['content-type'] = 'application/json';
      const options = {
        method: probe.method,
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
        request: describeRequest(probe.method, url),
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
      if (attempt.failure) return { ...sent, status: undefined, failure: attempt.failure };
      return { ...sent, status: attempt.response.status, failure: undefined };
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
