/**
 * auth.session-controls: what a server-side session must do beyond being hard
 * to forge. The session id is new at login (a planted or pre-auth id never
 * becomes the authenticated one, nor stays signed in beside a new one:
 * fixation), the cookie that carries the
 * credential is HttpOnly, Secure and SameSite on the very response that sets
 * it (after MFA, not only on the first answer), logout ends the session on
 * the server (the old cookie replayed is refused), and a session expires on
 * the server (aged through auth.sessions.expire_sql, or by waiting out its
 * lifetime). Probing gathers a typed observation; the judges are pure.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { type CheckContext, type CheckOutcome, defineCheck, type Observation } from '../../src/engine/types.js';
import { type AuthClient, createAuthClient, resolveAccount, type TokenPair } from '../../src/probes/auth-client.js';
import { createCookieJar, parseSetCookie } from '../../src/probes/cookie-jar.js';
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
  /** The Set-Cookie line of the response that handed out the credential (cookie credentials), its value scrubbed. */
  credentialSetCookie: string | undefined;
  credentialStep: string;
  /**
   * The ids the client held before login (the planted one, a pre-auth cookie of the credential's name), each
   * replayed as the credential once the login is done: a new id is no rotation while the old one still works.
   * Undefined until replayed (cookie credentials only).
   */
  oldIdsAfterLogin: { label: string; status: number }[] | undefined;
  /** The session replayed after logout: the replay's status, and what the logout itself answered. */
  afterLogout: { status: number; logoutStatus: number } | undefined;
  /** The session replayed after it expired server-side, and how its life was ended. */
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

/**
 * Pure: fixation by an id that outlives the login. Issuing a new id is no rotation when the one the client
 * came with (planted by an attacker) is signed in too and still answers (PHP's session_regenerate_id()
 * without delete_old_session).
 */
export function judgeOldIds(
  seen: SessionObservation,
  replays: readonly { label: string; status: number }[],
  refused: readonly number[],
): Observation {
  const working = replays.filter((replay) => !isRefused(replay.status, refused));
  return {
    probe: `GET with each ${seen.credentialName} the client held before login, replayed after it (${replays.map((replay) => replay.label).join(', ')})`,
    expected: { status: [...refused] },
    actual: replays.map((replay) => ({ id: replay.label, status: replay.status })),
    ok: working.length === 0,
    note:
      working.length === 0
        ? 'the ids held before login no longer work'
        : `session fixation: ${working.map((replay) => `${replay.label} still answered ${replay.status}`).join('; ')} after login: a new id was issued but the old one was not ended`,
  };
}

/** The ids of the credential's name the client held before login, other than the credential itself: each to replay. */
export function oldSessionIds(
  credentialName: string,
  credential: string,
  planted: string,
  cookiesBeforeCredential: readonly { name: string; value: string }[],
): { label: string; value: string }[] {
  const held = [
    { label: `the planted ${credentialName}`, value: planted },
    ...cookiesBeforeCredential
      .filter((cookie) => cookie.name === credentialName)
      .map((cookie) => ({ label: `the pre-auth ${credentialName}`, value: cookie.value })),
  ];
  // One that equals the credential is the fixation judgeRotation names; each other value is replayed once.
  return held.filter(
    (id, index) => id.value !== credential && held.findIndex((other) => other.value === id.value) === index,
  );
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

/** What the probe saw over a session's whole life: plain data, judged by judgeSessionControls. */
export interface SessionControlsSeen {
  mePath: string;
  /** The session the login handed out, on the protected path: it must work, or nothing below proves anything. */
  baseline: SeenAnswer | undefined;
  /** Set once the login and its baseline are done; its replays as far as the probe got. */
  session: SessionObservation | undefined;
  /** What stopped the probe before it had everything to judge, scrubbed of secrets: the check is an error. */
  unobserved: string | undefined;
}

/**
 * The verdict on a session's life. Pure: the session works (else nothing is proven: error), is
 * rotated at login, its cookie is flagged where it is set, and it is refused after logout and, unless
 * expiry is left out, after it expired; whatever was not observed is an error.
 */
export function judgeSessionControls(
  seen: SessionControlsSeen,
  params: Pick<SessionControlsParams, 'refused_statuses' | 'prove_expiry'>,
): CheckOutcome {
  const observations: Observation[] = [];
  if (seen.baseline) {
    observations.push({
      probe: `GET ${seen.mePath} with the session the login handed out`,
      expected: { status: '2xx' },
      actual: seen.baseline.shown,
      note: 'the baseline: the session works',
    });
    if (!is2xx(seen.baseline.status)) {
      return unobservedOutcome(`a working session: it got ${seen.baseline.status}`, observations);
    }
  }
  const { session } = seen;
  if (session) {
    observations.push(judgeRotation(session));
    if (session.oldIdsAfterLogin && session.oldIdsAfterLogin.length > 0) {
      observations.push(judgeOldIds(session, session.oldIdsAfterLogin, params.refused_statuses));
    }
    observations.push(judgeCredentialCookie(session));
    const { afterLogout, afterExpiry } = session;
    if (afterLogout) {
      const detail = `logout answered ${afterLogout.logoutStatus}`;
      observations.push(judgeEnded('logout', { status: afterLogout.status, detail }, params.refused_statuses));
    }
    if (afterExpiry) {
      const answer = { status: afterExpiry.status, detail: afterExpiry.how };
      observations.push(judgeEnded('expiry', answer, params.refused_statuses));
    }
  }
  if (seen.unobserved !== undefined) return unobservedOutcome(seen.unobserved, observations);
  // Fail closed on a record that could not have passed: a life the probe did not follow to its end.
  if (!seen.baseline || !session) {
    return unobservedOutcome('the session lifecycle: no session was handed out', observations);
  }
  if (session.credentialIn === 'cookie' && !session.oldIdsAfterLogin) {
    return unobservedOutcome('the ids held before login: they were not replayed after it', observations);
  }
  if (!session.afterLogout) return unobservedOutcome('the session after logout: it was not replayed', observations);
  if (params.prove_expiry && !session.afterExpiry) {
    return unobservedOutcome('server-side expiry: the session was not replayed after it expired', observations);
  }
  if (!params.prove_expiry) observations.push({ probe: 'server-side expiry (prove_expiry: false)', note: 'not tried' });
  return verdict(
    observations,
    `the session id rotates at login${session.credentialIn === 'cookie' ? ', its cookie is HttpOnly+Secure+SameSite where it is set' : ''}, logout ends it server-side${params.prove_expiry ? ' and it expires server-side' : '; expiry not tried'}`,
    brokenNotes(observations),
  );
}

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
  await ctx.clock.sleep((ttl + params.expiry_leeway_s) * 1000, ctx.signal);
  return { how: `waited ${ttl + params.expiry_leeway_s} s` };
}

/** Logs in over a planted id, then logs out and lets a second session expire: everything judgeSessionControls needs. */
export async function probeSessionControls(
  ctx: CheckContext,
  params: SessionControlsParams,
): Promise<SessionControlsSeen> {
  const client = createAuthClient(ctx);
  const seen: SessionControlsSeen = {
    mePath: client.mapping.me_path,
    baseline: undefined,
    session: undefined,
    unobserved: undefined,
  };
  const account = resolveAccount(client.mapping, params.account);
  if (!account) {
    seen.unobserved = `a session: the checklist gives no account ${params.account}`;
    return seen;
  }
  const credentialIn = client.mapping.credential?.in ?? 'body';
  const credentialName = client.mapping.credential?.name ?? client.mapping.response_fields.access_token;
  // Failures: the replays of the ids held before login (the planted one, a pre-auth one), after logout and after
  // expiry. Not counted: the run's one try of a TOTP code's reuse (see mfa-enforced), which would ask for a
  // whole address.
  const route = { localAddress: await flowAddress(ctx, params.source_address, 4) };
  try {
    // A planted id, as an attacker sets it in the victim's browser before login.
    const planted = randomBytes(24).toString('base64url');
    ctx.secrets.register(planted);
    const jar = createCookieJar();
    if (credentialIn === 'cookie') jar.store(client.url('/'), [`${credentialName}=${planted}; Path=/`]);
    const pair: TokenPair = await client.obtainTokens(account, { ...route, jar });
    const baseline = await client.getWithCredential(client.mapping.me_path, pair.accessToken, route);
    seen.baseline = seenAnswer(ctx, baseline);
    // A session that does not work proves nothing by being refused later: the judge says so.
    if (!is2xx(baseline.status)) return seen;
    const last = pair.responses.at(-1);
    const setCookie = last
      ? ([last.response.headers['set-cookie'] ?? []].flat() as string[]).filter(
          (line) => parseSetCookie(line)?.name === credentialName,
        )
      : [];
    const session: SessionObservation = {
      credentialName,
      credentialIn,
      equalsPlanted: pair.accessToken === planted,
      reusedPreAuthCookies: pair.cookiesBeforeCredential
        .filter((cookie) => cookie.value === pair.accessToken && cookie.value !== planted)
        .map((cookie) => cookie.name),
      // The line as evidence: the session id in it scrubbed (the judge reads only the attributes).
      credentialSetCookie: setCookie.map((line) => ctx.secrets.redact(line)).at(-1),
      credentialStep: last?.step ?? 'login',
      oldIdsAfterLogin: undefined,
      afterLogout: undefined,
      afterExpiry: undefined,
    };
    seen.session = session;

    if (credentialIn === 'cookie') {
      const replays: { label: string; status: number }[] = [];
      for (const old of oldSessionIds(credentialName, pair.accessToken, planted, pair.cookiesBeforeCredential)) {
        const replay = await client.getWithCredential(client.mapping.me_path, old.value, route);
        replays.push({ label: old.label, status: replay.status });
      }
      session.oldIdsAfterLogin = replays;
    }

    const logout = await client.logout(pair.accessToken, { ...route, jar: pair.jar });
    const afterLogout = await client.getWithCredential(client.mapping.me_path, pair.accessToken, route);
    session.afterLogout = { status: afterLogout.status, logoutStatus: logout.status };

    if (params.prove_expiry) {
      const second = await client.obtainTokens(account, route);
      const expired = await expireSession(ctx, client, second.accessToken, params);
      if ('error' in expired) {
        seen.unobserved = expired.error;
        return seen;
      }
      const replay = await client.getWithCredential(client.mapping.me_path, second.accessToken, route);
      session.afterExpiry = { status: replay.status, how: expired.how };
    }
  } catch (error) {
    seen.unobserved = unobservedWhat(ctx, 'the session lifecycle', error);
  }
  return seen;
}

export default defineCheck({
  id: 'auth.session-controls',
  title:
    'Sessions are rotated at login, their cookie is HttpOnly+Secure+SameSite where it is set, and logout and expiry end them server-side',
  source: 'control A9 (docs/controls.md#A9): Sessions are rotated, protected and ended on the server',
  docs: 'docs/controls.md#A9',
  severity: 'high',
  remediation:
    "Issue a new session id when the second factor completes (Django: login() cycles the key; never promote the visitor's id, and delete the old one: PHP's session_regenerate_id(true)), set the session cookie with HttpOnly; Secure; SameSite on that response, delete the session row on logout, and enforce the session's expiry on the server, not only in the cookie.",
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
    return judgeSessionControls(await probeSessionControls(ctx, params), params);
  },
});
