/**
 * auth.session-controls: what a server-side session must do beyond being hard
 * to forge. The session id is new at login (a planted or pre-auth id never
 * becomes the authenticated one: fixation), the cookie that carries the
 * credential is HttpOnly, Secure and SameSite on the very response that sets
 * it (after MFA, not only on the first answer), logout ends the session on
 * the server (the old cookie replayed is refused), and a session expires on
 * the server (aged through auth.sessions.expire_sql, or by waiting out its
 * lifetime). Probing gathers a typed observation; the judges are pure.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { type CheckContext, defineCheck, type HttpResponse, type Observation } from '../../src/engine/types.js';
import {
  type AuthClient,
  createAuthClient,
  describeResponse,
  resolveAccount,
  type TokenPair,
} from '../../src/probes/auth-client.js';
import { createCookieJar, parseSetCookie } from '../../src/probes/cookie-jar.js';
import { brokenNotes, errorOutcome, isRefused, verdict } from '../outcome.js';
import {
  accountParam,
  expiryWaitMaxParam,
  flowAddress,
  flowSourceAddressParam,
  refusedStatusesParam,
} from './params.js';
import { missingCookieFlags } from './token-transport.js';

export const sessionControlsParams = z
  .object({
    source_address: flowSourceAddressParam.describe(
      "the address the flows come from; unset: one from the run's pool (target.source_addresses)",
    ),
    account: accountParam('probe_account').describe('the account that logs in (with its TOTP)'),
    refused_statuses: refusedStatusesParam,
    prove_expiry: z
      .boolean()
      .default(true)
      .describe(
        'prove that a session expires server-side: through auth.sessions.expire_sql, or by waiting session_ttl_s (at most expiry_wait_max_s). `false` leaves expiry out, visibly',
      ),
    session_ttl_s: z
      .number()
      .int()
      .min(1)
      .max(3_600)
      .optional()
      .describe('the server-side lifetime the service promises, for the waiting proof'),
    expiry_wait_max_s: expiryWaitMaxParam.describe(
      'wait at most this long for a session to expire (0 = never wait: use auth.sessions.expire_sql)',
    ),
    expiry_leeway_s: z
      .number()
      .int()
      .min(0)
      .max(600)
      .default(2)
      .describe('clock skew past the lifetime the service may allow; the replay waits this much longer'),
  })
  .strict();
type SessionControlsParams = z.output<typeof sessionControlsParams>;

/** What the probe saw: pure data, judged below. Secrets appear only through the redactor. */
export interface SessionObservation {
  credentialName: string;
  credentialIn: 'body' | 'header' | 'cookie';
  /** Whether the credential equals the planted id / a value the client held before it. */
  equalsPlanted: boolean;
  /** Names of the pre-credential cookies whose value the credential reuses. */
  reusedPreAuthCookies: string[];
  /** The Set-Cookie line of the response that handed out the credential (cookie credentials). */
  credentialSetCookie: string | undefined;
  credentialStep: string;
  afterLogout: { status: number; logoutStatus: number } | undefined;
  afterExpiry: { status: number; how: string } | undefined;
}

/** Pure: fixation. A planted id must not become the session; nor may an id the client held before login. */
export function judgeRotation(seen: SessionObservation): Observation {
  const reused = seen.equalsPlanted || seen.reusedPreAuthCookies.length > 0;
  return {
    probe: `login with a planted ${seen.credentialName} and the pre-auth cookies, then the second factor`,
    expected: 'a new session id, never one the client chose or held before login',
    actual: { equals_planted_id: seen.equalsPlanted, reuses_pre_auth_cookies: seen.reusedPreAuthCookies },
    ok: !reused,
    note: reused
      ? `session fixation: the session id is not rotated at login (${
          seen.equalsPlanted ? `the planted ${seen.credentialName} became the session` : ''
        }${seen.equalsPlanted && seen.reusedPreAuthCookies.length ? '; ' : ''}${
          seen.reusedPreAuthCookies.length
            ? `the pre-auth cookie ${seen.reusedPreAuthCookies.join(', ')} became the session`
            : ''
        })`
      : 'the session id is rotated at login',
  };
}

/** Pure: the cookie that carries the credential, on the response that sets it. */
export function judgeCredentialCookie(seen: SessionObservation): Observation {
  const probe = `${seen.credentialStep} response: Set-Cookie ${seen.credentialName} (the credential)`;
  if (seen.credentialIn !== 'cookie') {
    return {
      probe,
      actual: `the credential travels in the ${seen.credentialIn}`,
      note: 'no credential cookie to judge',
    };
  }
  if (seen.credentialSetCookie === undefined) {
    return {
      probe,
      expected: ['HttpOnly', 'Secure', 'SameSite'],
      actual: 'no Set-Cookie for the credential',
      ok: false,
      note: `the ${seen.credentialStep} response set no ${seen.credentialName} cookie, yet the credential was read from one`,
    };
  }
  const missing = missingCookieFlags(seen.credentialSetCookie);
  return {
    probe,
    expected: ['HttpOnly', 'Secure', 'SameSite'],
    actual: seen.credentialSetCookie.split(';').slice(1).join(';').trim(),
    ok: missing.length === 0,
    note:
      missing.length === 0
        ? 'the credential cookie is HttpOnly, Secure and SameSite where it is set'
        : `the session cookie ${seen.credentialName} set by the ${seen.credentialStep} response lacks ${missing.join(', ')}`,
  };
}

/** Pure: a session replayed after logout / after its expiry must be refused. */
export function judgeEnded(
  what: 'logout' | 'expiry',
  answer: { status: number; detail: string } | undefined,
  refused: readonly number[],
): Observation {
  const probe =
    what === 'logout' ? 'the session replayed after logout' : 'the session replayed after it expired server-side';
  if (!answer) return { probe, note: 'not tried' };
  const ok = isRefused(answer.status, refused);
  return {
    probe: `${probe} (${answer.detail})`,
    expected: { status: [...refused] },
    actual: { status: answer.status },
    ok,
    note: ok
      ? `refused after ${what}`
      : what === 'logout'
        ? `logout does not invalidate the session server-side: the old credential still answered ${answer.status}`
        : `the session does not expire server-side: replayed after its end (${answer.detail}) it answered ${answer.status}`,
  };
}

const is2xx = (response: HttpResponse): boolean => response.status >= 200 && response.status < 300;

/** Ends a fresh session's life: the mapping's SQL, or the wait the parameters allow. */
async function expireSession(
  ctx: CheckContext,
  client: AuthClient,
  credential: string,
  params: SessionControlsParams,
): Promise<{ how: string } | { error: string }> {
  const sql = client.mapping.sessions?.expire_sql;
  if (sql) {
    if (!ctx.db) return { error: 'auth.sessions.expire_sql is set but the checklist names no database' };
    await ctx.db.query(sql, [credential]);
    return { how: 'aged with auth.sessions.expire_sql' };
  }
  const ttl = params.session_ttl_s;
  if (ttl === undefined || ttl + params.expiry_leeway_s > params.expiry_wait_max_s) {
    return {
      error:
        'server-side expiry: give auth.sessions.expire_sql, or session_ttl_s with expiry_wait_max_s ≥ session_ttl_s + expiry_leeway_s, or prove_expiry: false',
    };
  }
  await sleep((ttl + params.expiry_leeway_s) * 1000, undefined, { signal: ctx.signal });
  return { how: `waited ${ttl + params.expiry_leeway_s} s` };
}

export default defineCheck({
  id: 'auth.session-controls',
  title:
    'Sessions are rotated at login, their cookie is HttpOnly+Secure+SameSite where it is set, and logout and expiry end them server-side',
  source: 'control A9 (docs/controls.md#A9): Sessions are rotated, protected and ended on the server',
  docs: 'docs/controls.md#A9',
  severity: 'high',
  remediation:
    "Issue a new session id when the second factor completes (Django: login() cycles the key; never promote the visitor's id), set the session cookie with HttpOnly; Secure; SameSite on that response, delete the session row on logout, and enforce the session's expiry on the server, not only in the cookie.",
  rationale:
    'A session id the attacker planted, a cookie scripts can read, or a session that outlives logout or its lifetime is a stolen session waiting to be used.',
  effects: 'none',
  params: sessionControlsParams,
  strength: { prove_expiry: 'requirement', refused_statuses: 'accepted' },
  probeAddresses: (params) => [params.source_address],
  requires: (params) => [
    `account:${params.account}`,
    'auth.logout',
    ...(params.prove_expiry && params.expiry_wait_max_s === 0
      ? (['auth.sessions.expire_sql', 'database'] as const)
      : []),
  ],
  async run(ctx, params) {
    const client = createAuthClient(ctx);
    const account = resolveAccount(client.mapping, params.account);
    if (!account) return errorOutcome(ctx, `a session: the checklist gives no account ${params.account}`, undefined);
    const credentialIn = client.mapping.credential?.in ?? 'body';
    const credentialName = client.mapping.credential?.name ?? client.mapping.response_fields.access_token;
    // Failures: the replays after logout and after expiry.
    const route = { localAddress: await flowAddress(ctx, params.source_address, 2) };
    const observations: Observation[] = [];
    try {
      // A planted id, as an attacker sets it in the victim's browser before login.
      const planted = randomBytes(24).toString('base64url');
      ctx.secrets.register(planted);
      const jar = createCookieJar();
      if (credentialIn === 'cookie') jar.store(client.url('/'), [`${credentialName}=${planted}; Path=/`]);
      const pair: TokenPair = await client.obtainTokens(account, { ...route, jar });
      const baseline = await client.getWithCredential(client.mapping.me_path, pair.accessToken, route);
      observations.push({
        probe: `GET ${client.mapping.me_path} with the session the login handed out`,
        expected: { status: '2xx' },
        actual: describeResponse(ctx, baseline),
        note: 'the baseline: the session works',
      });
      if (!is2xx(baseline)) {
        return errorOutcome(ctx, `a working session: it got ${baseline.status}`, undefined, observations);
      }
      const last = pair.responses.at(-1);
      const setCookie = last
        ? ([last.response.headers['set-cookie'] ?? []].flat() as string[]).filter(
            (line) => parseSetCookie(line)?.name === credentialName,
          )
        : [];
      const seen: SessionObservation = {
        credentialName,
        credentialIn,
        equalsPlanted: pair.accessToken === planted,
        reusedPreAuthCookies: pair.cookiesBeforeCredential
          .filter((cookie) => cookie.value === pair.accessToken && cookie.value !== planted)
          .map((cookie) => cookie.name),
        credentialSetCookie: setCookie.at(-1),
        credentialStep: last?.step ?? 'login',
        afterLogout: undefined,
        afterExpiry: undefined,
      };
      observations.push(judgeRotation(seen), judgeCredentialCookie(seen));

      const logout = await client.logout(pair.accessToken, { ...route, jar: pair.jar });
      const afterLogout = await client.getWithCredential(client.mapping.me_path, pair.accessToken, route);
      observations.push(
        judgeEnded(
          'logout',
          { status: afterLogout.status, detail: `logout answered ${logout.status}` },
          params.refused_statuses,
        ),
      );

      if (params.prove_expiry) {
        const second = await client.obtainTokens(account, route);
        const expired = await expireSession(ctx, client, second.accessToken, params);
        if ('error' in expired) return errorOutcome(ctx, expired.error, undefined, observations);
        const replay = await client.getWithCredential(client.mapping.me_path, second.accessToken, route);
        observations.push(
          judgeEnded('expiry', { status: replay.status, detail: expired.how }, params.refused_statuses),
        );
      } else {
        observations.push({ probe: 'server-side expiry (prove_expiry: false)', note: 'not tried' });
      }
    } catch (error) {
      return errorOutcome(ctx, 'the session lifecycle', error, observations);
    }
    return verdict(
      observations,
      `the session id rotates at login${credentialIn === 'cookie' ? ', its cookie is HttpOnly+Secure+SameSite where it is set' : ''}, logout ends it server-side${params.prove_expiry ? ' and it expires server-side' : '; expiry not tried'}`,
      brokenNotes(observations),
    );
  },
});
