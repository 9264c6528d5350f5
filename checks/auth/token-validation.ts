import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AccountConfig } from '../../src/engine/checklist/schema.js';
import {
  type CheckContext,
  type CheckOutcome,
  defineCheck,
  type Observation,
  type SecretFingerprint,
} from '../../src/engine/types.js';
import {
  type AuthClient,
  createAuthClient,
  type PresentedCredential,
  type RequestRoute,
  resolveAccount,
  type TokenPair,
} from '../../src/probes/auth-client.js';
import {
  type DecodedJwt,
  decodeJwt,
  elevatedPayload,
  embeddedKeyToken,
  foreignKeyPair,
  foreignKeyToken,
  hmacAlg,
  hmacToken,
  type JwtPayload,
  kidInjectionToken,
  publicKeyPemOf,
  signedToken,
  tamperedToken,
  unsignedToken,
  WELL_KNOWN_SECRETS,
} from '../../src/probes/auth-tokens.js';
import {
  brokenNotes,
  is2xx,
  isRefused,
  type SeenAnswer,
  seenAnswer,
  unobservedOutcome,
  unobservedWhat,
  verdict,
} from '../outcome.js';
import { accountParam, expiryWaitMaxParam, refusedStatusesParam, sourceAddress } from './params.js';

export const tokenValidationParams = z
  .object({
    source_addresses: z
      .array(sourceAddress)
      .optional()
      .describe(
        "addresses the forged tokens come from, in turn ([] = the operating system's choice); unset: each forged token from the run's pool (target.source_addresses), so the rejections stay under the IP-block threshold",
      ),
    refused_statuses: refusedStatusesParam,
    weak_secrets: z
      .array(z.string().min(1))
      .default([...WELL_KNOWN_SECRETS])
      .describe('well-known and default secrets: a token signed with any of them must be refused'),
    signing_key_env: z
      .string()
      .min(1)
      .optional()
      .describe(
        "environment variable (passed by the checklist) with the service's test signing key (PEM, or the secret for HS*): enables expired and missing-claim tokens",
      ),
    public_key_env: z
      .string()
      .min(1)
      .optional()
      .describe(
        "environment variable (passed by the checklist) with the service's public key (PEM), for the HMAC key-confusion probe",
      ),
    signing_alg: z
      .string()
      .min(2)
      .optional()
      .describe("algorithm the test tokens are signed with (default: the real token's alg)"),
    required_claims: z
      .array(z.string().min(1))
      .default(['exp', 'sub'])
      .describe('claims whose absence must make a token invalid (with a signing key)'),
    prove_expiry: z
      .boolean()
      .default(true)
      .describe(
        "prove that expired tokens are refused. Needs a way to present one: the signing key, or time to let the probe's real token expire (expiry_wait_max_s). `false` leaves expiry out, visibly",
      ),
    session_expiry_sql: z
      .boolean()
      .default(false)
      .describe(
        "for an opaque session credential: prove expiry by ageing a session of the gate's own through auth.sessions.expire_sql (needs the database), then presenting it",
      ),
    account: accountParam('probe_account').describe('the account whose real token the forgeries imitate'),
    expiry_wait_max_s: expiryWaitMaxParam.describe(
      'without a signing key: wait at most this long for the real token to expire, then replay it (0 = never wait)',
    ),
    expiry_leeway_s: z
      .number()
      .int()
      .min(0)
      .max(600)
      .default(30)
      .describe('clock skew the service may allow past `exp`; the replay waits this much longer'),
  })
  .strict()
  .refine(
    (params) =>
      !params.prove_expiry ||
      params.signing_key_env !== undefined ||
      params.expiry_wait_max_s > 0 ||
      params.session_expiry_sql,
    {
      message:
        'expiry can only be proven with the signing key (signing_key_env), by replaying the real token once it expired (expiry_wait_max_s), or for a server-side session by ageing one (session_expiry_sql with auth.sessions.expire_sql); set one of them, or prove_expiry: false to leave expiry out',
      path: ['prove_expiry'],
    },
  );

type TokenValidationParams = z.output<typeof tokenValidationParams>;

/** One forged or ended credential the probe presented, and the answer it got. Never the credential itself. */
export interface PresentedForgery {
  /** What was presented: `alg: none with the real claims`, `a random session id`. */
  name: string;
  /** What kind of forgery it is, counted in the summary (which names only what was sent). */
  kind: string;
  answer: SeenAnswer;
}

/** The real token presented again once it expired, for want of a key to sign an expired one. */
export type ExpiredReplay =
  /** The real token has no numeric `exp`: there was nothing to wait for. */
  { exp: string | null } | { answer: SeenAnswer; secondsPastExp: number };

/** A JWT: its signature and claims were forged. */
export interface JwtForgeries {
  credential: 'jwt';
  /** The algorithm the forgeries imitate. */
  alg: string;
  /** No key of `alg` could be generated, so no token signed with a foreign key was sent. */
  foreignKeyUntried: boolean;
  /** A public key was at hand (HMAC key confusion was tried). */
  publicKey: boolean;
  /** The service's signing key was at hand (expired, missing-claim and malformed tokens were signed with it). */
  signingKey: boolean;
  /** The real token's claims (`aud`, `iss`) presented with another value, signed with the service key. */
  variedClaims: string[];
  presented: PresentedForgery[];
  expiredReplay: ExpiredReplay | undefined;
}

/** An opaque session id: its forgeries are sessions, not signatures. */
export interface SessionForgeries {
  credential: 'session';
  /** auth.logout is mapped: a session replayed after logout was presented. */
  logout: boolean;
  presented: PresentedForgery[];
}

/** What the probe saw: plain data with secrets only as fingerprints, judged by judgeTokenValidation. */
export interface TokenValidationSeen {
  mePath: string;
  /** The real credential (its fingerprint) and its answer: the baseline every refusal is measured against. */
  baseline: { credential: SecretFingerprint; answer: SeenAnswer } | undefined;
  forged: JwtForgeries | SessionForgeries | undefined;
  /** What stopped the probe before it had everything to judge, scrubbed of secrets: the check is an error. */
  unobserved: string | undefined;
}

/** The kind of the session aged past its lifetime: what proves, for sessions, that expiry is enforced. */
const EXPIRED_SESSION = 'expired session';

/** `alg: none` in the other cases a case-sensitive deny-list misses. */
const ALG_NONE_CASES = ['None', 'NONE'] as const;
const ALG_NONE_CASES_KIND = 'alg None or NONE';
const JWK_HEADER_KIND = 'key in its jwk header';
const X5C_HEADER_KIND = 'key in its x5c header';
/** A `kid` a verifier may use as a file path or in SQL to find its key, either way finding an empty one. */
const KID_INJECTIONS: readonly { kid: string; name: string }[] = [
  { kid: '../../../../../../../../dev/null', name: 'a path to an empty file' },
  { kid: "secgate-none' UNION SELECT '' -- ", name: 'a SQL injection selecting an empty key' },
];
const KID_KIND = 'kid injection';
/** Registered claims a token signed with the service key is presented with another value of, when the real one has them. */
const VARIED_CLAIMS = ['aud', 'iss'] as const;
const WRONG_CLAIM_KIND = 'wrong aud or iss';
const EXP_STRING_KIND = 'exp as a string';
const CRIT_KIND = 'unknown crit header';
/** The critical header parameter no service knows: a verifier must refuse the token. */
const UNKNOWN_CRIT = 'secgate-unknown-extension';
/** How an accepted unknown-crit token is recorded: noted, never the verdict. */
const CRIT_NOTED = 'noted, not failed: an unknown critical header was ignored';

/** "3 × alg none, 8 × well-known secret": the kinds of token that were sent, in order. */
function describeKinds(forgeries: readonly Pick<PresentedForgery, 'kind'>[]): string {
  const counts = new Map<string, number>();
  for (const forgery of forgeries) counts.set(forgery.kind, (counts.get(forgery.kind) ?? 0) + 1);
  return [...counts].map(([kind, count]) => (count > 1 ? `${count} × ${kind}` : kind)).join(', ');
}

/** Pure: a forged credential must be refused; one that is not starts its note with `accepted`. */
function judgePresented(
  mePath: string,
  forgery: PresentedForgery,
  credential: 'jwt' | 'session',
  refusedStatuses: readonly number[],
): Observation {
  const refused = isRefused(forgery.answer.status, refusedStatuses);
  const probe = `GET ${mePath} with ${credential === 'jwt' ? `a token: ${forgery.name}` : forgery.name}`;
  if (!refused && forgery.kind === CRIT_KIND) {
    // RFC 7515 §4.1.11 says to refuse an unknown critical parameter, yet widely used libraries (jsonwebtoken,
    // java-jwt) ignore `crit`, and this token needs the service's own key: recorded, not a failure.
    return {
      probe,
      expected: { status: [...refusedStatuses] },
      actual: forgery.answer.shown,
      note: `${CRIT_NOTED}: ${forgery.name} got ${forgery.answer.status} (RFC 7515 asks to refuse it; forging it takes the service's key, and many JWT libraries ignore crit)`,
    };
  }
  return {
    probe,
    expected: { status: [...refusedStatuses] },
    actual: forgery.answer.shown,
    ok: refused,
    note: refused
      ? 'refused'
      : `${credential === 'jwt' ? 'forged token accepted' : 'forged session accepted'}: ${forgery.name} got ${forgery.answer.status}`,
  };
}

/** Pure: the real token replayed after it expired must be refused, and a token without `exp` never expires. */
function judgeExpiredReplay(mePath: string, replay: ExpiredReplay, refusedStatuses: readonly number[]): Observation {
  const probe = `GET ${mePath} with the probe's real token after it expired`;
  if ('exp' in replay) {
    return {
      probe,
      expected: 'an exp claim',
      actual: { exp: replay.exp },
      ok: false,
      note: 'the real access token has no numeric exp claim: it never expires',
    };
  }
  const refused = isRefused(replay.answer.status, refusedStatuses);
  return {
    probe,
    expected: { status: [...refusedStatuses] },
    actual: { response: replay.answer.shown, seconds_past_exp: replay.secondsPastExp },
    ok: refused,
    note: refused
      ? `refused ${replay.secondsPastExp} s after exp`
      : `expired token accepted: the real token, replayed ${replay.secondsPastExp} s after it expired, got ${replay.answer.status}`,
  };
}

/** What was deliberately left out, in the order the evidence names it. */
function notTried(forged: JwtForgeries | SessionForgeries, proveExpiry: boolean): string[] {
  const left: string[] = [];
  if (forged.credential === 'jwt') {
    if (!forged.publicKey) left.push('HMAC with the public key (no public_key_env, no asymmetric signing key)');
    if (!forged.signingKey)
      left.push('missing-claim, wrong aud/iss, string-exp and unknown-crit tokens (no signing_key_env)');
    for (const claim of VARIED_CLAIMS) {
      if (forged.signingKey && !forged.variedClaims.includes(claim)) {
        left.push(`a wrong ${claim} (the real token has no ${claim})`);
      }
    }
    if (!proveExpiry) left.push('expired tokens (prove_expiry: false)');
  } else {
    if (!forged.logout) left.push('a session after logout (no auth.logout)');
    if (!proveExpiry) left.push('expired sessions (prove_expiry: false)');
  }
  return left;
}

/**
 * The forged tokens the probe owed, by kind, from what it had (keys) and what the checklist asked (weak secrets,
 * required claims): a record with fewer was cut short somewhere, and its refusals prove less than they seem to.
 */
function owedJwtKinds(
  forged: JwtForgeries,
  params: Pick<TokenValidationParams, 'weak_secrets' | 'required_claims'>,
): Map<string, number> {
  const owed = new Map<string, number>([
    ['alg none', 1],
    [ALG_NONE_CASES_KIND, ALG_NONE_CASES.length],
    ['tampered payload', 1],
  ]);
  if (!forged.foreignKeyUntried) {
    owed.set('foreign key', 1);
    if (!forged.alg.startsWith('HS')) {
      owed.set(JWK_HEADER_KIND, 1);
      owed.set(X5C_HEADER_KIND, 1);
    }
  }
  if (forged.publicKey) owed.set('HMAC with the public key', 1);
  if (params.weak_secrets.length > 0) owed.set('well-known secret', params.weak_secrets.length);
  owed.set(KID_KIND, KID_INJECTIONS.length);
  if (forged.signingKey) {
    owed.set('expired (signed with the service key)', 1);
    if (params.required_claims.length > 0) owed.set('missing claim', params.required_claims.length);
    if (forged.variedClaims.length > 0) owed.set(WRONG_CLAIM_KIND, forged.variedClaims.length);
    owed.set(EXP_STRING_KIND, 1);
    owed.set(CRIT_KIND, 1);
  }
  return owed;
}

/** "2 well-known secret, 1 missing claim": the owed forgeries that were not presented, or '' when none. */
function unsentJwtForgeries(
  forged: JwtForgeries,
  params: Pick<TokenValidationParams, 'weak_secrets' | 'required_claims'>,
): string {
  const unsent: string[] = [];
  for (const [kind, count] of owedJwtKinds(forged, params)) {
    const presented = forged.presented.filter((forgery) => forgery.kind === kind).length;
    if (presented < count) unsent.push(`${count - presented} ${kind}`);
  }
  return unsent.join(', ');
}

/**
 * The verdict on what the probe saw. Pure: a genuine credential must work (else nothing is proven:
 * error), every forged, expired or ended one must be refused, and whatever was not observed is an error.
 */
export function judgeTokenValidation(
  seen: TokenValidationSeen,
  params: Pick<TokenValidationParams, 'refused_statuses' | 'prove_expiry' | 'weak_secrets' | 'required_claims'>,
): CheckOutcome {
  const observations: Observation[] = [];
  const { baseline, forged } = seen;
  if (baseline) {
    observations.push({
      probe: `GET ${seen.mePath} with the probe's real token ${JSON.stringify(baseline.credential)}`,
      expected: { status: '2xx' },
      actual: baseline.answer.shown,
      note: 'the baseline: a genuine token works',
    });
    if (!is2xx(baseline.answer.status)) {
      return unobservedOutcome(
        `a working baseline: the real token got ${baseline.answer.status} on ${seen.mePath}`,
        observations,
      );
    }
  }
  if (forged?.credential === 'jwt' && forged.foreignKeyUntried) {
    observations.push({
      probe: `${forged.alg} signed with a foreign key`,
      note: `not tried: no ${forged.alg} key can be generated`,
    });
  }
  if (forged) {
    const { credential } = forged;
    observations.push(
      ...forged.presented.map((forgery) => judgePresented(seen.mePath, forgery, credential, params.refused_statuses)),
    );
  }
  const replay = forged?.credential === 'jwt' ? forged.expiredReplay : undefined;
  if (replay) observations.push(judgeExpiredReplay(seen.mePath, replay, params.refused_statuses));
  // A forgery seen accepted is the verdict, whatever could not be observed after it.
  if (observations.some((observation) => observation.ok === false)) {
    return verdict(observations, '', brokenNotes(observations));
  }
  if (seen.unobserved !== undefined) return unobservedOutcome(seen.unobserved, observations);
  // Fail closed on a record that could not have passed: refusals without a working baseline, or none at all.
  if (!baseline) return unobservedOutcome('a working baseline: the real token was not presented', observations);
  if (!forged || forged.presented.length === 0) {
    return unobservedOutcome('forged credentials: none was presented', observations);
  }
  const unsent = forged.credential === 'jwt' ? unsentJwtForgeries(forged, params) : '';
  if (unsent !== '') {
    return unobservedOutcome(`every forged token: not presented: ${unsent}`, observations);
  }
  const expiryShown =
    forged.credential === 'jwt'
      ? forged.signingKey || replay !== undefined
      : forged.presented.some((forgery) => forgery.kind === EXPIRED_SESSION);
  if (params.prove_expiry && !expiryShown) {
    return unobservedOutcome(
      `expired ${forged.credential === 'jwt' ? 'tokens' : 'sessions'}: none was presented`,
      observations,
    );
  }

  const left = notTried(forged, params.prove_expiry);
  for (const probe of left) observations.push({ probe, note: 'not tried' });
  const sent: Pick<PresentedForgery, 'kind'>[] = [...forged.presented];
  if (replay) sent.push({ kind: 'expired (the real token, replayed)' });
  // Only what was refused is called refused: an ignored unknown crit header is named on its own.
  const critIgnored = observations.some((observation) => observation.note?.startsWith(CRIT_NOTED));
  const refusedKinds = critIgnored ? sent.filter((forgery) => forgery.kind !== CRIT_KIND) : sent;
  const refused =
    forged.credential === 'jwt'
      ? critIgnored
        ? `${refusedKinds.length} of ${sent.length} tokens were refused`
        : `all ${sent.length} tokens were refused`
      : `all ${sent.length} forged or ended sessions were refused`;
  return verdict(
    observations,
    `${refused}: ${describeKinds(refusedKinds)}${critIgnored ? `; an unknown crit header was ignored (noted, not failed)` : ''}${left.length > 0 ? `; not tried: ${left.join('; ')}` : ''}`,
    brokenNotes(observations),
  );
}

/**
 * Waits until the probe's real token has expired (plus the leeway a service
 * may allow) and presents it again. An error says why expiry cannot be proven
 * this way; a token without `exp` never expires, which the judge fails.
 */
async function replayExpiredToken(
  ctx: CheckContext,
  client: AuthClient,
  token: string,
  exp: unknown,
  params: TokenValidationParams,
  route: RequestRoute,
): Promise<{ replay: ExpiredReplay } | { error: string }> {
  if (typeof exp !== 'number') return { replay: { exp: exp === undefined ? null : String(exp) } };
  const waitMs = (exp + params.expiry_leeway_s + 1) * 1000 - ctx.clock.now().getTime();
  if (waitMs > params.expiry_wait_max_s * 1000) {
    return {
      error: `expired tokens: no signing key (with.signing_key_env), and the real token expires in ${Math.ceil(waitMs / 1000)} s counting ${params.expiry_leeway_s} s of leeway, longer than expiry_wait_max_s (${params.expiry_wait_max_s} s)`,
    };
  }
  if (waitMs > 0) await ctx.clock.sleep(waitMs, ctx.signal);
  const response = await client.getWithCredential(client.mapping.me_path, token, route);
  return {
    replay: {
      answer: seenAnswer(ctx, response),
      secondsPastExp: Math.round(ctx.clock.now().getTime() / 1000 - exp),
    },
  };
}

/** Presents each forged credential on the protected path, each from its own failure address. */
async function presentForgeries(
  ctx: CheckContext,
  client: AuthClient,
  forgeries: readonly { name: string; kind: string; credential: PresentedCredential }[],
  routeFor: (index: number) => Promise<RequestRoute>,
): Promise<PresentedForgery[]> {
  const answered = await Promise.all(
    forgeries.map(async (forgery, index) => ({
      forgery,
      response: await client.getWith(client.mapping.me_path, forgery.credential, await routeFor(index)),
    })),
  );
  return answered.map(({ forgery, response }) => ({
    name: forgery.name,
    kind: forgery.kind,
    answer: seenAnswer(ctx, response),
  }));
}

/** Three base64url parts with a JSON header: a JWT, even one this check cannot decode. */
function looksLikeJwt(token: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);
}

/** A value of the same length and alphabet as the real session id, that the service never issued. */
function randomSessionId(real: string): string {
  return randomBytes(real.length).toString('base64url').slice(0, real.length);
}

/** The real id with its last character changed: a session id that is almost right. */
function tamperedSessionId(real: string): string {
  const last = real.at(-1) === 'A' ? 'B' : 'A';
  return `${real.slice(0, -1)}${last}`;
}

/**
 * The cookie-session equivalents of the forged tokens: a random session id, a
 * tampered one, every pre-auth cookie (the MFA challenge, the visitor's
 * anonymous session, the whole pre-login jar) presented as a session, the
 * session replayed after logout and, with auth.sessions.expire_sql, after it
 * expired server-side. Records them in `seen`, or why they could not be sent.
 */
async function probeSessionForgeries(
  ctx: CheckContext,
  client: AuthClient,
  account: AccountConfig,
  pair: TokenPair,
  params: TokenValidationParams,
  routeFor: (index: number) => Promise<RequestRoute>,
  seen: TokenValidationSeen,
): Promise<void> {
  const real = pair.accessToken;
  const presented: { name: string; kind: string; credential: PresentedCredential }[] = [
    { name: 'a random session id', kind: 'random id', credential: client.presentCredential(randomSessionId(real)) },
    {
      name: 'the real session id with one character changed',
      kind: 'tampered id',
      credential: client.presentCredential(tamperedSessionId(real)),
    },
  ];
  const preAuth = pair.cookiesBeforeCredential.filter((cookie) => cookie.value !== real);
  for (const cookie of preAuth) {
    presented.push({
      name: `the pre-auth cookie ${cookie.name} presented as the session`,
      kind: 'pre-auth cookie',
      credential: client.presentCredential(cookie.value),
    });
  }
  if (preAuth.length > 0) {
    presented.push({
      name: `every pre-auth cookie as it was before the second factor (${preAuth.map((cookie) => cookie.name).join(', ')})`,
      kind: 'pre-auth cookie',
      credential: {
        label: 'the pre-auth cookies',
        headers: { cookie: preAuth.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ') },
      },
    });
  }
  const logout = Boolean(client.mapping.logout);
  if (logout) {
    const ended = await client.obtainTokens(account, await routeFor(0));
    await client.logout(ended.accessToken, { jar: ended.jar });
    presented.push({
      name: 'a session replayed after logout',
      kind: 'logged-out session',
      credential: client.presentCredential(ended.accessToken),
    });
  }
  const sql = client.mapping.sessions?.expire_sql;
  if (params.prove_expiry && params.session_expiry_sql && sql && ctx.db) {
    const aged = await client.obtainTokens(account, await routeFor(0));
    await ctx.db.query(sql, [aged.accessToken]);
    presented.push({
      name: 'a session aged past its lifetime with auth.sessions.expire_sql',
      kind: EXPIRED_SESSION,
      credential: client.presentCredential(aged.accessToken),
    });
  } else if (params.prove_expiry) {
    seen.unobserved =
      'expired sessions: the credential is an opaque session id, whose expiry cannot be forged; set session_expiry_sql: true with auth.sessions.expire_sql, or prove_expiry: false and prove expiry with auth.session-controls';
    return;
  }
  seen.forged = {
    credential: 'session',
    logout,
    presented: await presentForgeries(ctx, client, presented, routeFor),
  };
}

/**
 * The JWT forgeries: alg none (in three cases), a tampered payload, a foreign key (also carried in
 * the token's jwk and x5c headers), HMAC with the public key, the well-known secrets, injected kids
 * and, with the signing key, expired, missing-claim, wrong aud/iss, string-exp and unknown-crit
 * tokens; without it, the real token replayed once it expired. Records them in `seen`, or why they
 * could not be sent.
 */
async function probeJwtForgeries(
  ctx: CheckContext,
  client: AuthClient,
  real: DecodedJwt,
  accessToken: string,
  params: TokenValidationParams,
  routes: { routeFor: (index: number) => Promise<RequestRoute>; flowRoute: RequestRoute },
  seen: TokenValidationSeen,
): Promise<void> {
  const alg = params.signing_alg ?? String(real.header.alg);
  const signingKey = params.signing_key_env ? ctx.env[params.signing_key_env] : undefined;
  if (params.signing_key_env && !signingKey) {
    seen.unobserved = `tokens signed with the service key: with.signing_key_env names ${params.signing_key_env}, which is not set`;
    return;
  }
  // The key is a secret like any other: scrubbed from everything the run writes.
  if (signingKey) ctx.secrets.register(signingKey);
  const publicKey =
    (params.public_key_env ? ctx.env[params.public_key_env] : undefined) ??
    (signingKey && !alg.startsWith('HS') ? publicKeyPemOf(signingKey) : undefined);

  const forgeries: { name: string; kind: string; token: string }[] = [
    { name: 'alg: none with the real claims', kind: 'alg none', token: unsignedToken(real.payload) },
    ...ALG_NONE_CASES.map((spelling) => ({
      name: `alg: ${spelling} with the real claims`,
      kind: ALG_NONE_CASES_KIND,
      token: unsignedToken(real.payload, spelling),
    })),
    {
      name: 'payload tampered (privilege raised), original signature',
      kind: 'tampered payload',
      token: tamperedToken(real, elevatedPayload(real.payload)),
    },
  ];
  const forged: JwtForgeries = {
    credential: 'jwt',
    alg,
    foreignKeyUntried: false,
    publicKey: Boolean(publicKey),
    signingKey: Boolean(signingKey),
    variedClaims: signingKey ? VARIED_CLAIMS.filter((claim) => real.payload[claim] !== undefined) : [],
    presented: [],
    expiredReplay: undefined,
  };
  // Recorded before anything is sent: an error from here on still shows what was not tried.
  seen.forged = forged;
  try {
    // One foreign key pair (RSA, EC or Ed25519, as alg says) for the three forgeries: RSA keys are slow to make.
    const keys = alg.startsWith('HS') ? undefined : await foreignKeyPair(alg);
    const signed = [
      {
        name: `${alg} signed with a key the service never issued`,
        kind: 'foreign key',
        token: await foreignKeyToken(real.payload, real.header, alg, keys),
      },
    ];
    // A symmetric jwk or x5c would be another forgery: these carry the public key that verifies the token.
    if (keys) {
      signed.push(
        {
          name: `${alg} signed with a foreign key carried in its own jwk header`,
          kind: JWK_HEADER_KIND,
          token: await embeddedKeyToken(real.payload, real.header, alg, keys, 'jwk'),
        },
        {
          name: `${alg} signed with a foreign key whose self-signed certificate is in its own x5c header`,
          kind: X5C_HEADER_KIND,
          token: await embeddedKeyToken(real.payload, real.header, alg, keys, 'x5c'),
        },
      );
    }
    forgeries.push(...signed);
  } catch {
    // An algorithm jose cannot generate keys for: the other forgeries still run, and the evidence says so.
    forged.foreignKeyUntried = true;
  }
  if (publicKey) {
    forgeries.push({
      name: 'HS256 signed with the service public key',
      kind: 'HMAC with the public key',
      token: await hmacToken(real.payload, publicKey),
    });
  }
  for (const secret of params.weak_secrets) {
    forgeries.push({
      name: `HS256 signed with well-known secret "${secret}"`,
      kind: 'well-known secret',
      token: await hmacToken(real.payload, secret),
    });
  }
  const kidAlg = hmacAlg(alg);
  for (const injection of KID_INJECTIONS) {
    forgeries.push({
      name: `${kidAlg} with kid ${JSON.stringify(injection.kid)} (${injection.name}), signed with an empty key`,
      kind: KID_KIND,
      token: kidInjectionToken(real.payload, real.header, kidAlg, injection.kid, ''),
    });
  }
  if (signingKey) {
    const nowSeconds = Math.floor(ctx.clock.now().getTime() / 1000);
    forgeries.push({
      name: 'expired an hour ago, signed with the service key',
      kind: 'expired (signed with the service key)',
      token: await signedToken(
        { ...real.payload, iat: nowSeconds - 7_200, exp: nowSeconds - 3_600 },
        real.header,
        alg,
        signingKey,
      ),
    });
    for (const claim of params.required_claims) {
      const payload: JwtPayload = { ...real.payload };
      delete payload[claim];
      forgeries.push({
        name: `missing claim "${claim}", signed with the service key`,
        kind: 'missing claim',
        token: await signedToken(payload, real.header, alg, signingKey),
      });
    }
    for (const claim of forged.variedClaims) {
      forgeries.push({
        name: `${claim} set to another ${claim === 'aud' ? 'audience' : 'issuer'}, signed with the service key`,
        kind: WRONG_CLAIM_KIND,
        token: await signedToken({ ...real.payload, [claim]: `secgate-wrong-${claim}` }, real.header, alg, signingKey),
      });
    }
    forgeries.push(
      {
        // A verifier that skips a non-numeric exp lets it through; one that coerces it sees it expired.
        name: 'exp as a string, an hour past, signed with the service key',
        kind: EXP_STRING_KIND,
        token: await signedToken({ ...real.payload, exp: String(nowSeconds - 3_600) }, real.header, alg, signingKey),
      },
      {
        name: `an unknown critical header parameter (crit: ["${UNKNOWN_CRIT}"]), signed with the service key`,
        kind: CRIT_KIND,
        token: await signedToken(
          real.payload,
          { ...real.header, crit: [UNKNOWN_CRIT], [UNKNOWN_CRIT]: true },
          alg,
          signingKey,
          { [UNKNOWN_CRIT]: true },
        ),
      },
    );
  }
  for (const forgery of forgeries) ctx.secrets.register(forgery.token);
  forged.presented = await presentForgeries(
    ctx,
    client,
    forgeries.map((forgery) => ({
      name: forgery.name,
      kind: forgery.kind,
      credential: client.presentCredential(forgery.token),
    })),
    routes.routeFor,
  );
  if (!signingKey && params.prove_expiry) {
    // No key to sign an expired token: let the real one expire and present it again.
    const replay = await replayExpiredToken(ctx, client, accessToken, real.payload.exp, params, routes.flowRoute);
    if ('error' in replay) seen.unobserved = replay.error;
    else forged.expiredReplay = replay.replay;
  }
}

/** Obtains a real credential, checks it works, then presents its forgeries: everything judgeTokenValidation needs. */
export async function probeTokenValidation(
  ctx: CheckContext,
  params: TokenValidationParams,
): Promise<TokenValidationSeen> {
  const client = createAuthClient(ctx);
  const seen: TokenValidationSeen = {
    mePath: client.mapping.me_path,
    baseline: undefined,
    forged: undefined,
    unobserved: undefined,
  };
  const probe = resolveAccount(client.mapping, params.account);
  if (!probe) {
    seen.unobserved = `a real token: the checklist gives no account ${params.account}`;
    return seen;
  }
  const configured = params.source_addresses;
  const routeFor = async (index: number): Promise<RequestRoute> => ({
    localAddress: configured ? configured[index % Math.max(configured.length, 1)] : await ctx.addresses.forFailure(),
  });
  // The real token's flow keeps one address (a service may tie a token to it): its baseline and, without a
  // signing key, the replay of the expired token, which counts as a failure.
  const flowRoute: RequestRoute = {
    localAddress: configured ? configured[0] : await ctx.addresses.reserve(1),
  };
  try {
    const pair = await client.obtainTokens(probe, flowRoute);
    const real = decodeJwt(pair.accessToken);
    const valid = await client.getWithCredential(client.mapping.me_path, pair.accessToken, flowRoute);
    seen.baseline = { credential: ctx.secrets.fingerprint(pair.accessToken), answer: seenAnswer(ctx, valid) };
    // Forgeries measured against a credential that does not work prove nothing: the judge says so.
    if (!is2xx(valid.status)) return seen;
    if (real) {
      await probeJwtForgeries(ctx, client, real, pair.accessToken, params, { routeFor, flowRoute }, seen);
    } else if (client.mapping.credential?.in === 'cookie' || !looksLikeJwt(pair.accessToken)) {
      // An opaque credential (a session id): its forgeries are sessions, not signatures.
      await probeSessionForgeries(ctx, client, probe, pair, params, routeFor, seen);
    } else {
      seen.unobserved = 'the token claims: the access token is not a JWT';
    }
  } catch (error) {
    seen.unobserved = unobservedWhat(ctx, 'token validation', error);
  }
  return seen;
}

export default defineCheck({
  id: 'auth.token-validation',
  title: 'Only tokens the service signed, unexpired and complete, are accepted',
  source: 'control A7 (docs/controls.md#A7): Tokens are fully validated',
  docs: 'docs/controls.md#A7',
  remediation:
    'Verify tokens with an explicit algorithm allow-list (RS256 or EdDSA), never `none`, never HMAC with the public key; sign with a strong secret or key loaded from the environment; require exp and the other mandatory claims.',
  rationale: 'A forged or expired token that is accepted is a bypass of every other control.',
  effects: 'none',
  severity: 'critical',
  params: tokenValidationParams,
  strength: {
    weak_secrets: 'verified',
    required_claims: 'verified',
    refused_statuses: 'accepted',
    prove_expiry: 'requirement',
  },
  probeAddresses: (params) => params.source_addresses ?? [],
  requires: (params) => [
    `account:${params.account}` as const,
    ...(params.session_expiry_sql ? (['auth.sessions.expire_sql', 'database'] as const) : []),
    ...(params.signing_key_env ? [`env:${params.signing_key_env}` as const] : []),
    ...(params.public_key_env ? [`env:${params.public_key_env}` as const] : []),
  ],
  async run(ctx, params) {
    return judgeTokenValidation(await probeTokenValidation(ctx, params), params);
  },
});
