import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { AccountConfig } from '../../src/engine/checklist/schema.js';
import { type CheckContext, type CheckOutcome, defineCheck, type Observation } from '../../src/engine/types.js';
import {
  type AuthClient,
  createAuthClient,
  describeResponse,
  type PresentedCredential,
  type RequestRoute,
  resolveAccount,
  type TokenPair,
} from '../../src/probes/auth-client.js';
import {
  decodeJwt,
  elevatedPayload,
  foreignKeyToken,
  hmacToken,
  type JwtPayload,
  publicKeyPemOf,
  signedToken,
  tamperedToken,
  unsignedToken,
  WELL_KNOWN_SECRETS,
} from '../../src/probes/auth-tokens.js';
import { brokenNotes, errorOutcome, isRefused, verdict } from '../outcome.js';
import { accountParam, expiryWaitMaxParam, refusedStatusesParam, sourceAddress } from './params.js';

interface Forgery {
  name: string;
  /** What kind of forgery it is, for the summary (which names only what was sent). */
  kind: string;
  token: string;
}

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

/** "3 × alg none, 8 × well-known secret": the kinds of token that were sent, in order. */
function describeKinds(forgeries: readonly Pick<Forgery, 'kind'>[]): string {
  const counts = new Map<string, number>();
  for (const forgery of forgeries) counts.set(forgery.kind, (counts.get(forgery.kind) ?? 0) + 1);
  return [...counts].map(([kind, count]) => (count > 1 ? `${count} × ${kind}` : kind)).join(', ');
}

/**
 * Waits until the probe's real token has expired (plus the leeway a service
 * may allow) and presents it again. An error says why expiry cannot be proven
 * this way; a token without `exp` never expires, which is a failure itself.
 */
async function replayExpiredToken(
  ctx: CheckContext,
  client: AuthClient,
  token: string,
  exp: unknown,
  params: z.output<typeof tokenValidationParams>,
  route: RequestRoute,
): Promise<{ observation: Observation } | { error: string }> {
  const probe = `GET ${client.mapping.me_path} with the probe's real token after it expired`;
  if (typeof exp !== 'number') {
    return {
      observation: {
        probe,
        expected: 'an exp claim',
        actual: { exp: exp === undefined ? null : String(exp) },
        ok: false,
        note: 'the real access token has no numeric exp claim: it never expires',
      },
    };
  }
  const waitMs = (exp + params.expiry_leeway_s + 1) * 1000 - ctx.clock.now().getTime();
  if (waitMs > params.expiry_wait_max_s * 1000) {
    return {
      error: `expired tokens: no signing key (with.signing_key_env), and the real token expires in ${Math.ceil(waitMs / 1000)} s counting ${params.expiry_leeway_s} s of leeway, longer than expiry_wait_max_s (${params.expiry_wait_max_s} s)`,
    };
  }
  if (waitMs > 0) await sleep(waitMs, undefined, { signal: ctx.signal });
  const response = await client.getWithCredential(client.mapping.me_path, token, route);
  const refused = isRefused(response.status, params.refused_statuses);
  const secondsPastExp = Math.round(ctx.clock.now().getTime() / 1000 - exp);
  return {
    observation: {
      probe,
      expected: { status: params.refused_statuses },
      actual: { response: describeResponse(ctx, response), seconds_past_exp: secondsPastExp },
      ok: refused,
      note: refused
        ? `refused ${secondsPastExp} s after exp`
        : `expired token accepted: the real token, replayed ${secondsPastExp} s after it expired, got ${response.status}`,
    },
  };
}

/**
 * Presents each forged credential on the protected path, each from its own
 * failure address, and records whether it was refused (`accepted` starts the
 * note of one that was not).
 */
async function presentForgeries(
  ctx: CheckContext,
  client: AuthClient,
  forgeries: readonly { name: string; credential: PresentedCredential }[],
  refusedStatuses: number[],
  routeFor: (index: number) => Promise<RequestRoute>,
  accepted: string,
): Promise<Observation[]> {
  const answered = await Promise.all(
    forgeries.map(async (forgery, index) => ({
      forgery,
      response: await client.getWith(client.mapping.me_path, forgery.credential, await routeFor(index)),
    })),
  );
  return answered.map(({ forgery, response }) => {
    const refused = isRefused(response.status, refusedStatuses);
    return {
      probe: `GET ${client.mapping.me_path} with ${forgery.name}`,
      expected: { status: refusedStatuses },
      actual: describeResponse(ctx, response),
      ok: refused,
      note: refused ? 'refused' : `${accepted}: ${forgery.name.replace(/^a token: /, '')} got ${response.status}`,
    };
  });
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
 * expired server-side. Each must be refused.
 */
async function judgeSessionForgeries(
  ctx: CheckContext,
  client: AuthClient,
  account: AccountConfig,
  pair: TokenPair,
  params: z.output<typeof tokenValidationParams>,
  routeFor: (index: number) => Promise<RequestRoute>,
  observations: Observation[],
): Promise<CheckOutcome> {
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
  const notTried: string[] = [];
  if (client.mapping.logout) {
    const ended = await client.obtainTokens(account, await routeFor(0));
    await client.logout(ended.accessToken, { jar: ended.jar });
    presented.push({
      name: 'a session replayed after logout',
      kind: 'logged-out session',
      credential: client.presentCredential(ended.accessToken),
    });
  } else notTried.push('a session after logout (no auth.logout)');
  const sql = client.mapping.sessions?.expire_sql;
  if (params.prove_expiry && params.session_expiry_sql && sql && ctx.db) {
    const aged = await client.obtainTokens(account, await routeFor(0));
    await ctx.db.query(sql, [aged.accessToken]);
    presented.push({
      name: 'a session aged past its lifetime with auth.sessions.expire_sql',
      kind: 'expired session',
      credential: client.presentCredential(aged.accessToken),
    });
  } else if (params.prove_expiry) {
    return errorOutcome(
      ctx,
      'expired sessions: the credential is an opaque session id, whose expiry cannot be forged; set session_expiry_sql: true with auth.sessions.expire_sql, or prove_expiry: false and prove expiry with auth.session-controls',
      undefined,
      observations,
    );
  } else notTried.push('expired sessions (prove_expiry: false)');
  observations.push(
    ...(await presentForgeries(
      ctx,
      client,
      presented.map((forgery) => ({ name: forgery.name, credential: forgery.credential })),
      params.refused_statuses,
      routeFor,
      'forged session accepted',
    )),
  );
  for (const probe of notTried) observations.push({ probe, note: 'not tried' });
  return verdict(
    observations,
    `all ${presented.length} forged or ended sessions were refused: ${describeKinds(presented)}${
      notTried.length > 0 ? `; not tried: ${notTried.join('; ')}` : ''
    }`,
    brokenNotes(observations),
  );
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
    const client = createAuthClient(ctx);
    const probe = resolveAccount(client.mapping, params.account);
    if (!probe) return errorOutcome(ctx, `a real token: the checklist gives no account ${params.account}`, undefined);
    const configured = params.source_addresses;
    const routeFor = async (index: number): Promise<RequestRoute> => ({
      localAddress: configured ? configured[index % Math.max(configured.length, 1)] : await ctx.addresses.forFailure(),
    });
    // The real token's flow keeps one address (a service may tie a token to it): its baseline and, without a
    // signing key, the replay of the expired token, which counts as a failure.
    const flowRoute: RequestRoute = {
      localAddress: configured ? configured[0] : await ctx.addresses.reserve(1),
    };
    const observations: Observation[] = [];
    try {
      const pair = await client.obtainTokens(probe, flowRoute);
      const real = decodeJwt(pair.accessToken);
      const valid = await client.getWithCredential(client.mapping.me_path, pair.accessToken, flowRoute);
      observations.push({
        probe: `GET ${client.mapping.me_path} with the probe's real token ${JSON.stringify(ctx.secrets.fingerprint(pair.accessToken))}`,
        expected: { status: '2xx' },
        actual: describeResponse(ctx, valid),
        note: 'the baseline: a genuine token works',
      });
      if (valid.status < 200 || valid.status > 299) {
        return errorOutcome(
          ctx,
          `a working baseline: the real token got ${valid.status} on ${client.mapping.me_path}`,
          undefined,
          observations,
        );
      }
      if (!real) {
        // An opaque credential (a session id): its forgeries are sessions, not signatures.
        if (client.mapping.credential?.in === 'cookie' || !looksLikeJwt(pair.accessToken)) {
          return await judgeSessionForgeries(ctx, client, probe, pair, params, routeFor, observations);
        }
        return errorOutcome(ctx, 'the token claims: the access token is not a JWT', undefined, observations);
      }
      const alg = params.signing_alg ?? String(real.header.alg);
      const signingKey = params.signing_key_env ? ctx.env[params.signing_key_env] : undefined;
      if (params.signing_key_env && !signingKey) {
        return errorOutcome(
          ctx,
          `tokens signed with the service key: with.signing_key_env names ${params.signing_key_env}, which is not set`,
          undefined,
          observations,
        );
      }
      // The key is a secret like any other: scrubbed from everything the run writes.
      if (signingKey) ctx.secrets.register(signingKey);
      const publicKey =
        (params.public_key_env ? ctx.env[params.public_key_env] : undefined) ??
        (signingKey && !alg.startsWith('HS') ? publicKeyPemOf(signingKey) : undefined);

      const forgeries: Forgery[] = [
        { name: 'alg: none with the real claims', kind: 'alg none', token: unsignedToken(real.payload) },
        {
          name: 'payload tampered (privilege raised), original signature',
          kind: 'tampered payload',
          token: tamperedToken(real, elevatedPayload(real.payload)),
        },
      ];
      try {
        forgeries.push({
          name: `${alg} signed with a key the service never issued`,
          kind: 'foreign key',
          token: await foreignKeyToken(real.payload, real.header, alg),
        });
      } catch {
        // An algorithm jose cannot generate keys for: the other forgeries still run, and the evidence says so.
        observations.push({
          probe: `${alg} signed with a foreign key`,
          note: `not tried: no ${alg} key can be generated`,
        });
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
      }
      for (const forgery of forgeries) ctx.secrets.register(forgery.token);

      observations.push(
        ...(await presentForgeries(
          ctx,
          client,
          forgeries.map((forgery) => ({
            name: `a token: ${forgery.name}`,
            credential: client.presentCredential(forgery.token),
          })),
          params.refused_statuses,
          routeFor,
          'forged token accepted',
        )),
      );
      const sent: Pick<Forgery, 'kind'>[] = [...forgeries];
      const notTried: string[] = [];
      if (!publicKey) notTried.push('HMAC with the public key (no public_key_env, no asymmetric signing key)');
      if (!signingKey) notTried.push('missing-claim tokens (no signing_key_env)');
      if (!signingKey && params.prove_expiry) {
        // No key to sign an expired token: let the real one expire and present it again.
        const replay = await replayExpiredToken(ctx, client, pair.accessToken, real.payload.exp, params, flowRoute);
        if ('error' in replay) return errorOutcome(ctx, replay.error, undefined, observations);
        observations.push(replay.observation);
        sent.push({ kind: 'expired (the real token, replayed)' });
      }
      if (!params.prove_expiry) notTried.push('expired tokens (prove_expiry: false)');
      for (const probe of notTried) observations.push({ probe, note: 'not tried' });
      const summary = `all ${sent.length} tokens were refused: ${describeKinds(sent)}${
        notTried.length > 0 ? `; not tried: ${notTried.join('; ')}` : ''
      }`;
      return verdict(observations, summary, brokenNotes(observations));
    } catch (error) {
      return errorOutcome(ctx, 'token validation', error, observations);
    }
  },
});
