/**
 * auth.mfa-enforced: no credential of any shape without a verified second
 * factor. A password-only login may answer "enrol MFA first" in its body and
 * still hand out a session cookie, a token in a header or in another field;
 * so whatever the password step handed out — for an account without MFA, and
 * for the TOTP account before its second step — is presented on a protected
 * path, and a 2xx there is a failure. Two more ways around the second
 * factor are tried: every token-shaped value the TOTP account's password step
 * handed out (its refresh token first) is sent to the refresh path, and must
 * buy nothing; a challenge the account without MFA gets is sent to mfa_verify
 * with codes from no enrolled device (000000, then the current code of a
 * random secret, each with a challenge of its own), and must yield nothing.
 * A challenge is no bearer token and works once: a wrong code spends it too
 * (seed 002: a challenge is "only authorized to submit one TOTP code"), or
 * six digits fall to guessing within its lifetime. Each account's flow comes
 * from one address of its own (see run). Probing (observeMfaEnforced) gathers
 * a typed observation; judgeMfaEnforced is pure.
 */
import { z } from 'zod';
import type { AccountConfig } from '../../src/engine/checklist/schema.js';
import {
  type CheckContext,
  type CheckOutcome,
  defineCheck,
  type HttpResponse,
  type Observation,
} from '../../src/engine/types.js';
import {
  type AuthClient,
  createAuthClient,
  credentialsHandedOut,
  type LoginAnswer,
  type PresentedCredential,
  type RequestRoute,
  randomTotpCode,
  resolveAccount,
  tokensHandedOut,
  totpCode,
} from '../../src/probes/auth-client.js';
import { type CookieJar, createCookieJar } from '../../src/probes/cookie-jar.js';
import { untilInsideNextStep } from '../../src/probes/totp-ledger.js';
import { brokenNotes, errorOutcome, isRefused, verdict } from '../outcome.js';
import { accountParam, flowAddress, flowSourceAddressParam, refusedStatusesParam } from './params.js';
import {
  type AnswerSeen,
  type Fingerprint,
  fingerprintOf,
  is2xx,
  notObserved,
  type ResponseSeen,
  responseSeen,
  unobserved,
} from './seen.js';

export const mfaEnforcedParams = z
  .object({
    source_address: flowSourceAddressParam.describe(
      "the address the flows come from; unset: one from the run's pool (target.source_addresses)",
    ),
    account: accountParam('probe_account').describe(
      'the account with TOTP enrolled, whose password step must hand out nothing but a challenge',
    ),
    no_mfa_account: accountParam('no_mfa_account').describe('the account without a verified second factor'),
    refused_statuses: refusedStatusesParam,
  })
  .strict();
type MfaEnforcedParams = z.output<typeof mfaEnforcedParams>;

const PRESENTED_EXPECTATION = 'not 2xx: nothing from the password step alone is a session';
/** How many values of the TOTP account's password step go to the refresh path: each may count as a failure. */
const MAX_REFRESH_TRIES = 2;
/** How many codes from no enrolled device go to mfa_verify: each may count toward the account's lockout. */
const WRONG_CODES = 2;

/** Something a password step handed out, presented on the protected path: what it was, and the answer. */
export interface PresentedSeen {
  label: string;
  response: ResponseSeen;
}

/** An auth answer with the access token it handed out, as a fingerprint. */
export interface TokenAnswerSeen {
  response: ResponseSeen;
  accessToken: Fingerprint | undefined;
}

/** A value the TOTP account's password step handed out, sent to the refresh path before the second factor. */
export interface RefreshSeen {
  /** Where it came: `body field refresh_token`, `cookie sid`, … */
  label: string;
  response: ResponseSeen;
  accessToken: boolean;
  /** The access token it bought, presented on the protected path; undefined when it bought none. */
  session: ResponseSeen | undefined;
}

/** A code from no enrolled device, sent with a challenge the account without MFA got. */
export interface WrongCodeSeen {
  /** What the code was, for evidence: `000000`, or the current code of a random secret. */
  code: string;
  /** The answer of mfa_verify; undefined when the login again gave no challenge to send it with. */
  verify: AnswerSeen | undefined;
  /** The access token it yielded, presented on the protected path. */
  session: ResponseSeen | undefined;
}

/**
 * A challenge of the TOTP account's own, sent a wrong code and then the right one: the second try must yield
 * nothing, or the challenge admits guess after guess. Undefined parts were not reached.
 */
export interface WrongThenRightSeen {
  /** The wrong code's answer; undefined when the login again gave no challenge. */
  wrong: AnswerSeen | undefined;
  /** The current TOTP code with the same challenge, after the wrong one. */
  right: AnswerSeen | undefined;
  /**
   * The right code was refused while another flow of this run had used its TOTP step, at a service not seen to
   * allow a code's reuse: the refusal may be for the reuse, so the challenge's spending was not observed.
   */
  reuseMayExplain?: boolean;
}

/** What the MFA probe saw, step by step: plain data, judged by judgeMfaEnforced. A step not reached is undefined. */
export interface MfaEnforcedSeen {
  paths: { login: string; mfaVerify: string; refresh: string; me: string };
  /** The account without a second factor, and the TOTP account. */
  noMfaUsername: string;
  username: string;
  /** The password-only login of the account without MFA. */
  noMfaLogin: TokenAnswerSeen | undefined;
  /** Whatever else that login handed out, presented on the protected path. */
  noMfaPresented: PresentedSeen[] | undefined;
  /** The refresh token that login handed out, if any, sent to the refresh path. */
  noMfaRefresh: AnswerSeen | undefined;
  /** Codes from no enrolled device, sent with the challenges that account got ([] when it got none). */
  noMfaWrongCodes: WrongCodeSeen[] | undefined;
  /** The password step of the TOTP account; `challenge` is its MFA challenge. */
  login: (AnswerSeen & { challenge: Fingerprint | undefined }) | undefined;
  /** Whatever that step handed out (and the cookies held after it), presented before the second factor. */
  beforeMfaPresented: PresentedSeen[] | undefined;
  /** What that step handed out that may be a refresh token, sent to the refresh path (at most MAX_REFRESH_TRIES). */
  beforeMfaRefresh: RefreshSeen[] | undefined;
  /** The values past MAX_REFRESH_TRIES, not sent there. */
  refreshNotTried: string[];
  /** The challenge presented as a bearer token. */
  challengeAsBearer: ResponseSeen | undefined;
  /** A second challenge, sent a wrong code and then the right one. */
  wrongThenRight: WrongThenRightSeen | undefined;
  /** The challenge with the current TOTP code, then the same again. */
  verify: TokenAnswerSeen | undefined;
  replay: AnswerSeen | undefined;
  /** Set when something could not be observed: the `error` summary. */
  notSeen?: string;
}

/** Pure: an observation per handed-out value presented, failing on a 2xx (`failure` says what that means). */
function judgePresented(
  presented: readonly PresentedSeen[],
  mePath: string,
  failure: (label: string, status: number) => string,
): Observation[] {
  return presented.map(({ label, response }) => {
    const accepted = is2xx(response.status);
    return {
      probe: `GET ${mePath} with ${label}`,
      expected: PRESENTED_EXPECTATION,
      actual: response.shown,
      ok: !accepted,
      note: accepted ? failure(label, response.status) : 'not a session',
    };
  });
}

/** Pure: an answer that must carry no access token; `bypass` says what a token there means. */
function noTokenObservation(probe: string, answer: AnswerSeen, bypass: string, refused: string): Observation {
  return {
    probe,
    expected: { access_token: 'absent' },
    actual: answer.response.shown,
    ok: !answer.accessToken,
    note: answer.accessToken ? bypass : refused,
  };
}

/** Pure: a code from no enrolled device, sent with a challenge the account without MFA got, must yield nothing. */
function judgeWrongCode(attempt: WrongCodeSeen, paths: MfaEnforcedSeen['paths'], username: string): Observation {
  const probe = `POST ${paths.mfaVerify} with a challenge ${username} (no verified second factor) got and ${attempt.code}`;
  const verify = attempt.verify;
  if (!verify) return { probe, note: 'not tried: the login again gave no challenge' };
  const session = attempt.session ? ` that answered ${attempt.session.status} on ${paths.me}` : '';
  return noTokenObservation(
    probe,
    verify,
    `MFA bypass: ${username} has no enrolled second factor, yet completed the second step with a code from no enrolled device (${attempt.code}): ${paths.mfaVerify} answered ${verify.response.status} with an access token${session}`,
    'refused: no code completes a second factor the account does not have',
  );
}

/** Pure: after a wrong code, the same challenge must not take the right one. */
function judgeWrongThenRight(seen: WrongThenRightSeen, paths: MfaEnforcedSeen['paths'], username: string): Observation {
  const probe = `POST ${paths.mfaVerify} with a fresh challenge of ${username} and a wrong code, then the same challenge with the current TOTP code`;
  if (!seen.wrong) return { probe, note: 'not observed: the login again gave no challenge' };
  if (seen.wrong.accessToken || !seen.right) {
    return noTokenObservation(
      probe,
      seen.wrong,
      `MFA bypass: a wrong TOTP code yielded an access token for ${username} (${seen.wrong.response.status})`,
      'refused',
    );
  }
  const right = seen.right;
  if (seen.reuseMayExplain) {
    return {
      probe,
      actual: right.response.shown,
      note: 'not observed: the current code was refused, and another login of this run had used its TOTP step',
    };
  }
  return noTokenObservation(
    probe,
    right,
    `MFA challenge takes more than one code: after a wrong code, the same challenge took the current code and yielded an access token (${right.response.status}); one login buys guess after guess at six digits`,
    'a wrong code spends the challenge',
  );
}

/** Pure: a value the TOTP account's password step handed out, sent to the refresh path, must buy nothing. */
function judgeRefreshBeforeMfa(tried: RefreshSeen, paths: MfaEnforcedSeen['paths'], username: string): Observation {
  const session = tried.session;
  const bought =
    session && is2xx(session.status)
      ? `bought an access token at ${paths.refresh} that answered ${session.status} on ${paths.me} before the second factor`
      : `bought an access token at ${paths.refresh} before the second factor${session ? ` (${paths.me} answered ${session.status} to it)` : ''}`;
  return {
    probe: `POST ${paths.refresh} with ${tried.label} from the password step of ${username}, before the second factor`,
    expected: { access_token: 'absent' },
    actual: tried.response.shown,
    ok: !tried.accessToken,
    note: tried.accessToken
      ? `session before MFA: ${tried.label} from the password step of ${username} ${bought}`
      : 'it buys nothing',
  };
}

/** Pure: the verdict on the two password steps, what they handed out, and the challenge's life. */
export function judgeMfaEnforced(
  seen: MfaEnforcedSeen,
  params: Pick<MfaEnforcedParams, 'refused_statuses'>,
): CheckOutcome {
  const { paths, noMfaUsername, username } = seen;
  const observations: Observation[] = [];
  const stop = () => unobserved(seen.notSeen ?? 'could not observe the MFA flow', observations);
  const noMfaLogin = seen.noMfaLogin;
  if (!noMfaLogin) return stop();
  observations.push({
    probe: `POST ${paths.login} as ${noMfaUsername} (no verified second factor) with the correct password`,
    expected: { access_token: 'absent' },
    actual: { access_token: noMfaLogin.accessToken ?? 'absent', response: noMfaLogin.response.shown },
    ok: !noMfaLogin.accessToken,
    note: noMfaLogin.accessToken
      ? `MFA optional: ${noMfaUsername} has no second factor and got an access token from the password alone (${noMfaLogin.response.status})`
      : 'no token without a second factor',
  });
  if (!seen.noMfaPresented) return stop();
  // Anything else the password-only login handed out (cookie, header, other field) must not be a session.
  observations.push(
    ...judgePresented(
      seen.noMfaPresented,
      paths.me,
      (label, status) =>
        `MFA optional: ${noMfaUsername} has no second factor and got a session from the password alone: ${label} answered ${status} on ${paths.me}`,
    ),
  );
  const refreshed = seen.noMfaRefresh;
  if (refreshed) {
    observations.push({
      probe: `POST ${paths.refresh} with the refresh token ${noMfaUsername} got from the password alone`,
      expected: { access_token: 'absent' },
      actual: refreshed.response.shown,
      ok: !refreshed.accessToken,
      note: refreshed.accessToken
        ? `MFA optional: the refresh token ${noMfaUsername} got from the password alone buys an access token`
        : 'the refresh token buys nothing',
    });
  }
  // A challenge for an account without a second factor: no code may complete it.
  const wrongCodes = seen.noMfaWrongCodes;
  if (!wrongCodes) return stop();
  observations.push(...wrongCodes.map((attempt) => judgeWrongCode(attempt, paths, noMfaUsername)));

  const login = seen.login;
  if (!login) return stop();
  if (login.accessToken) {
    observations.push({
      probe: `POST ${paths.login} as ${username} (TOTP enrolled)`,
      expected: { mfa_challenge: 'present', access_token: 'absent' },
      actual: login.response.shown,
      ok: false,
      note: `MFA skipped: ${username} got an access token from the password alone`,
    });
    return verdict(observations, '', brokenNotes(observations));
  }
  const challenge = login.challenge;
  if (!challenge) {
    observations.push({ probe: `POST ${paths.login} as ${username}`, actual: login.response.shown });
    return unobserved(`could not observe an MFA challenge for ${username}`, observations);
  }
  if (!seen.beforeMfaPresented) return stop();
  // The password step may hand out nothing that works before the second factor.
  observations.push(
    ...judgePresented(
      seen.beforeMfaPresented,
      paths.me,
      (label, status) =>
        `session before MFA: ${label} from the password step of ${username} answered ${status} on ${paths.me} before the second factor`,
    ),
  );
  // Nor may it buy one at the refresh path: a refresh token of a session opened before the second factor.
  const beforeMfaRefresh = seen.beforeMfaRefresh;
  if (!beforeMfaRefresh) return stop();
  observations.push(...beforeMfaRefresh.map((tried) => judgeRefreshBeforeMfa(tried, paths, username)));
  for (const label of seen.refreshNotTried) {
    observations.push({
      probe: `POST ${paths.refresh} with ${label} from the password step of ${username}`,
      note: `not tried: at most ${MAX_REFRESH_TRIES} values go to ${paths.refresh}`,
    });
  }
  const asBearer = seen.challengeAsBearer;
  if (!asBearer) return stop();
  const bearerRefused = isRefused(asBearer.status, params.refused_statuses);
  observations.push({
    probe: `GET ${paths.me} with the MFA challenge ${JSON.stringify(challenge)} as bearer token`,
    expected: { status: params.refused_statuses },
    actual: asBearer.shown,
    ok: bearerRefused,
    note: bearerRefused
      ? 'a challenge is not an access token'
      : `MFA challenge accepted as a bearer token (${asBearer.status}): the second factor can be skipped`,
  });

  const guessed = seen.wrongThenRight;
  if (!guessed) return stop();
  const burn = judgeWrongThenRight(guessed, paths, username);
  observations.push(burn);
  if (guessed.reuseMayExplain)
    return unobserved(
      `could not observe whether a wrong code spends a challenge of ${username}: the current code was refused, but another login of this run had used its TOTP step and the service may refuse a code's reuse`,
      observations,
    );
  // Single use is this probe's to prove: without a second challenge it is not seen, which is not a pass.
  if (!guessed.wrong)
    return unobserved(
      `could not observe whether a wrong code spends a challenge of ${username}: the login again gave no challenge`,
      observations,
    );
  // A challenge that took a second code already fails; the right code may be spent for the flow below.
  if (burn.ok === false) return verdict(observations, '', brokenNotes(observations));

  const first = seen.verify;
  if (!first) return stop();
  if (!first.accessToken) {
    observations.push({ probe: `POST ${paths.mfaVerify}`, actual: first.response.shown });
    return unobserved(`could not observe a token pair for ${username} with the current TOTP code`, observations);
  }
  observations.push({
    probe: `POST ${paths.mfaVerify} with the challenge and the current TOTP code`,
    actual: { status: first.response.status, access_token: first.accessToken },
    note: 'password plus TOTP yields a token, as it should',
  });
  const replay = seen.replay;
  if (!replay) return stop();
  observations.push({
    probe: `POST ${paths.mfaVerify} again with the same challenge`,
    expected: { access_token: 'absent' },
    actual: replay.response.shown,
    ok: !replay.accessToken,
    note: replay.accessToken
      ? `MFA challenge reusable: its second use yielded another access token (${replay.response.status})`
      : 'the challenge is single-use',
  });
  if (seen.notSeen !== undefined) return unobserved(seen.notSeen, observations);
  const presented = observations.filter((observation) => observation.expected === PRESENTED_EXPECTATION).length;
  const codesSent = wrongCodes.filter((attempt) => attempt.verify).length;
  const codesNotSent = wrongCodes.filter((attempt) => !attempt.verify).map((attempt) => attempt.code);
  const notTried = [
    ...seen.refreshNotTried.map((label) => `${label} at ${paths.refresh}`),
    ...codesNotSent.map((code) => `${code} at ${paths.mfaVerify} (the login again gave no challenge)`),
  ];
  return verdict(
    observations,
    `${noMfaUsername} got no access token without a second factor${codesSent > 0 ? `, nor with ${codesSent === 1 ? 'a code' : `${codesSent} codes`} from no enrolled device for the challenge it got` : ''}, and none of the ${presented} other values the password steps handed out worked as a session${beforeMfaRefresh.length > 0 ? ` or bought one at ${paths.refresh} (${beforeMfaRefresh.length} sent)` : ''}; the challenge was refused as a bearer token, after a wrong code and after one use${notTried.length > 0 ? `; not tried: ${notTried.join('; ')}` : ''}`,
    brokenNotes(observations),
  );
}

/** Presents each handed-out credential on the protected path, all at once. */
async function presentEach(
  ctx: CheckContext,
  client: AuthClient,
  credentials: readonly PresentedCredential[],
  route: RequestRoute,
): Promise<PresentedSeen[]> {
  const responses = await Promise.all(
    credentials.map((credential) => client.getWith(client.mapping.me_path, credential, route)),
  );
  return credentials.flatMap((credential, index) => {
    const response = responses[index];
    return response ? [{ label: credential.label, response: responseSeen(ctx, response) }] : [];
  });
}

/**
 * Every cookie the client holds after the password step, sent together as a
 * browser would: an anonymous session the password step quietly bound to the
 * user is a session before MFA, even though the login answer set no cookie.
 */
function heldCookies(jar: CookieJar, client: AuthClient): PresentedCredential[] {
  const cookies = jar.all(client.url(client.mapping.login.path));
  if (cookies.length === 0) return [];
  return [
    {
      label: `every cookie the client holds after the password step (${cookies.map((cookie) => cookie.name).join(', ')})`,
      headers: { cookie: cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ') },
    },
  ];
}

/** An access token an answer handed out, presented on the protected path where the mapping says. */
async function sessionOf(
  ctx: CheckContext,
  client: AuthClient,
  accessToken: string | undefined,
  route: RequestRoute,
): Promise<ResponseSeen | undefined> {
  if (!accessToken) return undefined;
  return responseSeen(ctx, await client.getWithCredential(client.mapping.me_path, accessToken, route));
}

/**
 * A challenge the account without MFA got, sent to mfa_verify with codes from
 * no enrolled device: 000000, then the current code of a random secret. A
 * challenge may be single-use, so each code after the first gets one of its
 * own from a login again (the right password: no lockout counts). Stops at the
 * first code that yields a token.
 */
async function wrongCodes(
  ctx: CheckContext,
  client: AuthClient,
  account: AccountConfig,
  first: { challenge: string; jar: CookieJar },
  route: RequestRoute,
): Promise<WrongCodeSeen[]> {
  const now = ctx.clock.now();
  let random = randomTotpCode(now);
  while (random === '000000') random = randomTotpCode(now);
  const codes = [
    { code: '000000', value: '000000' },
    { code: `the current code of a random secret (${random})`, value: random },
  ].slice(0, WRONG_CODES);
  const attempts: WrongCodeSeen[] = [];
  for (const [index, { code, value }] of codes.entries()) {
    const jar = index === 0 ? first.jar : createCookieJar();
    const flow = { ...route, jar };
    const challenge =
      index === 0 ? first.challenge : (await client.login(account.username, account.password, flow)).mfaChallenge;
    if (!challenge) {
      attempts.push({ code, verify: undefined, session: undefined });
      continue;
    }
    const verified = await client.verifyMfa(challenge, value, flow);
    attempts.push({
      code,
      verify: { response: responseSeen(ctx, verified.response), accessToken: Boolean(verified.accessToken) },
      session: await sessionOf(ctx, client, verified.accessToken, route),
    });
    if (verified.accessToken) break;
  }
  return attempts;
}

/**
 * A challenge of its own for the TOTP account (a login again, the right
 * password), sent a well-formed code that the account's device gives in no
 * window near now, then the current code. The wrong code may count toward the
 * account's lockout; the second factor completed later in the flow resets it.
 */
async function wrongThenRight(
  ctx: CheckContext,
  client: AuthClient,
  account: AccountConfig,
  totpSecret: string,
  givenRoute: RequestRoute,
): Promise<WrongThenRightSeen> {
  // One jar for the flow, as a browser keeps one: a cookie service ties the challenge to its pre-auth session.
  const route = { ...givenRoute, jar: createCookieJar() };
  const login = await client.login(account.username, account.password, route);
  const challenge = login.accessToken ? undefined : login.mfaChallenge;
  if (!challenge) return { wrong: undefined, right: undefined };
  const now = ctx.clock.now();
  const near = [-1, 0, 1].map((steps) => totpCode(totpSecret, new Date(now.getTime() + steps * 30_000)));
  let wrongCode = randomTotpCode(now);
  while (near.includes(wrongCode)) wrongCode = randomTotpCode(now);
  const wrong = await client.verifyMfa(challenge, wrongCode, route);
  const wrongSeen = { response: responseSeen(ctx, wrong.response), accessToken: Boolean(wrong.accessToken) };
  if (wrong.accessToken) return { wrong: wrongSeen, right: undefined };
  // The right code through the run's TOTP ledger: a refusal proves a spent challenge only where the code itself
  // could not have been refused as a reuse. A step another login had used, at a service not yet seen to allow
  // reuse, is ambiguous: then once more in the next step.
  for (let attempt = 0; ; attempt++) {
    const claim = await client.claimTotp(account);
    const ambiguous = claim.spent && !claim.reuseAllowed;
    if (ambiguous && attempt === 0) {
      claim.settle(undefined);
      await ctx.clock.sleep(untilInsideNextStep(ctx.clock.now()), ctx.signal);
      continue;
    }
    let right: LoginAnswer;
    try {
      right = await client.verifyMfa(challenge, claim.code, route);
    } catch (error) {
      claim.settle(undefined);
      throw error;
    }
    // A refusal says nothing of the code (the challenge may be spent); an acceptance uses its step.
    claim.settle(right.accessToken ? true : undefined);
    return {
      wrong: wrongSeen,
      right: { response: responseSeen(ctx, right.response), accessToken: Boolean(right.accessToken) },
      reuseMayExplain: !right.accessToken && ambiguous,
    };
  }
}

/**
 * Probe: the password-only login of the account without MFA (whatever it
 * handed out, and codes from no device for a challenge it got), then the TOTP
 * account's password step (whatever it handed out, also at the refresh path),
 * its challenge as a bearer token, the second factor and the challenge's
 * replay. Each account's flow comes from its own route.
 */
async function observeMfaEnforced(
  ctx: CheckContext,
  client: AuthClient,
  accounts: { noMfa: AccountConfig; probe: AccountConfig; totpSecret: string },
  routes: { noMfa: RequestRoute; probe: RequestRoute; guess: RequestRoute },
): Promise<MfaEnforcedSeen> {
  const { noMfa, probe } = accounts;
  const tokenAnswer = (answer: { response: HttpResponse; accessToken: string | undefined }): TokenAnswerSeen => ({
    response: responseSeen(ctx, answer.response),
    accessToken: answer.accessToken ? fingerprintOf(ctx, answer.accessToken) : undefined,
  });
  const seen: MfaEnforcedSeen = {
    paths: {
      login: client.mapping.login.path,
      mfaVerify: client.mapping.mfa_verify.path,
      refresh: client.mapping.refresh.path,
      me: client.mapping.me_path,
    },
    noMfaUsername: noMfa.username,
    username: probe.username,
    noMfaLogin: undefined,
    noMfaPresented: undefined,
    noMfaRefresh: undefined,
    noMfaWrongCodes: undefined,
    login: undefined,
    beforeMfaPresented: undefined,
    beforeMfaRefresh: undefined,
    refreshNotTried: [],
    challengeAsBearer: undefined,
    wrongThenRight: undefined,
    verify: undefined,
    replay: undefined,
  };
  try {
    let route = routes.noMfa;
    // The login's cookies are kept for its challenge's codes (a cookie service ties a challenge to its pre-auth
    // session); what it handed out is presented below on its own, without them.
    const noMfaJar = createCookieJar();
    const noMfaLogin = await client.login(noMfa.username, noMfa.password, { ...route, jar: noMfaJar });
    seen.noMfaLogin = tokenAnswer(noMfaLogin);
    const handedOut = credentialsHandedOut(ctx, noMfaLogin.response, [noMfaLogin.accessToken ?? '']);
    seen.noMfaPresented = await presentEach(ctx, client, handedOut, route);
    if (noMfaLogin.refreshToken) {
      const refreshed = await client.refresh(noMfaLogin.refreshToken, route);
      seen.noMfaRefresh = {
        response: responseSeen(ctx, refreshed.response),
        accessToken: Boolean(refreshed.accessToken),
      };
    }
    // A token already fails the check; a challenge instead of a refusal must admit no code.
    seen.noMfaWrongCodes =
      noMfaLogin.mfaChallenge && !noMfaLogin.accessToken
        ? await wrongCodes(ctx, client, noMfa, { challenge: noMfaLogin.mfaChallenge, jar: noMfaJar }, route)
        : [];

    route = routes.probe;
    // A jar of its own: a cookie service's pre-auth state (an anonymous session, the CSRF token) lives there.
    const jar = createCookieJar();
    const login = await client.login(probe.username, probe.password, { ...route, jar });
    seen.login = {
      response: responseSeen(ctx, login.response),
      accessToken: Boolean(login.accessToken),
      challenge: login.mfaChallenge ? fingerprintOf(ctx, login.mfaChallenge) : undefined,
    };
    if (login.accessToken || !login.mfaChallenge) return seen;
    const challenge = login.mfaChallenge;
    seen.beforeMfaPresented = await presentEach(
      ctx,
      client,
      [...credentialsHandedOut(ctx, login.response, [challenge]), ...heldCookies(jar, client)],
      route,
    );
    // What may be a refresh token (the refresh field first) goes to the refresh path too.
    const refreshable = [
      ...(login.refreshToken
        ? [{ label: `body field ${client.mapping.response_fields.refresh_token}`, value: login.refreshToken }]
        : []),
      ...tokensHandedOut(ctx, login.response, [challenge, login.refreshToken ?? '']),
    ];
    seen.beforeMfaRefresh = [];
    for (const { label, value } of refreshable.slice(0, MAX_REFRESH_TRIES)) {
      const refreshed = await client.refresh(value, route);
      seen.beforeMfaRefresh.push({
        label,
        response: responseSeen(ctx, refreshed.response),
        accessToken: Boolean(refreshed.accessToken),
        session: await sessionOf(ctx, client, refreshed.accessToken, route),
      });
    }
    seen.refreshNotTried = refreshable.slice(MAX_REFRESH_TRIES).map(({ label }) => label);
    seen.challengeAsBearer = responseSeen(
      ctx,
      await client.getWithCredential(client.mapping.me_path, challenge, route),
    );
    // Before the current code is spent below: a service that refuses a code's reuse must still be able to take it.
    seen.wrongThenRight = await wrongThenRight(ctx, client, probe, accounts.totpSecret, routes.guess);
    if (seen.wrongThenRight.right?.accessToken) return seen;
    // The code as the run's TOTP ledger allows; a code of a step another check spent, refused, means a service
    // that refuses reuse: then once more, with a challenge of its own.
    let verifying = challenge;
    let first = await client.verifyWithLedger(probe, verifying, { ...route, jar });
    if (!first.accessToken && first.spent) {
      const again = await client.login(probe.username, probe.password, { ...route, jar });
      if (again.mfaChallenge) {
        verifying = again.mfaChallenge;
        first = await client.verifyWithLedger(probe, verifying, { ...route, jar });
      }
    }
    seen.verify = tokenAnswer(first);
    if (!first.accessToken) return seen;
    const replay = await client.verifyMfa(verifying, first.code, route);
    seen.replay = { response: responseSeen(ctx, replay.response), accessToken: Boolean(replay.accessToken) };
  } catch (error) {
    seen.notSeen = notObserved(ctx, 'the MFA flow', error);
  }
  return seen;
}

export default defineCheck({
  id: 'auth.mfa-enforced',
  title: 'No access token without a verified second factor; an MFA challenge is no bearer token and works once',
  source: 'control A1 (docs/controls.md#A1): MFA is enforced for every account',
  docs: 'docs/controls.md#A1',
  remediation:
    'Issue tokens only after a verified TOTP (or WebAuthn) step for every account; answer a login of an account without a verified device with an enrolment requirement, never a token; make challenge tokens single-use (a wrong code spends one too) and refuse them as bearer tokens.',
  rationale: 'Optional MFA is skipped by exactly the high-value accounts attackers want.',
  effects: 'none',
  severity: 'critical',
  params: mfaEnforcedParams,
  strength: { refused_statuses: 'accepted' },
  probeAddresses: (params) => [params.source_address],
  requires: (params) => [`account:${params.no_mfa_account}`, `account:${params.account}`],
  async run(ctx, params) {
    const client = createAuthClient(ctx);
    const probe = resolveAccount(client.mapping, params.account);
    const noMfa = resolveAccount(client.mapping, params.no_mfa_account);
    if (!noMfa) {
      return errorOutcome(ctx, `MFA enforcement: the checklist gives no account ${params.no_mfa_account}`, undefined);
    }
    if (!probe?.totp_secret) {
      return errorOutcome(
        ctx,
        `the MFA challenge: the checklist gives no account ${params.account} with a totp_secret`,
        undefined,
      );
    }
    // Each account's flow from one address, reserved for the failures it may provoke. Without MFA: a refresh
    // it should not buy, and its refused login or else the codes from no device; the TOTP account: its refresh
    // tries, the challenge as a bearer token, the wrong code and the right one after it, and the replay. A configured source_address carries both.
    const routes = {
      noMfa: { localAddress: await flowAddress(ctx, params.source_address, 1 + WRONG_CODES) },
      // Not counted: the run's one try of a TOTP code's reuse (the ledger), refused where the service refuses
      // it, may come from this flow; counting it would ask for a whole address (the cap), which the pool
      // cannot give once every address carries one failure.
      probe: { localAddress: await flowAddress(ctx, params.source_address, MAX_REFRESH_TRIES + 2) },
      // The wrong code and the right one after it: two failures of their own, from an address of their own.
      guess: { localAddress: await flowAddress(ctx, params.source_address, 2) },
    };
    const seen = await observeMfaEnforced(ctx, client, { noMfa, probe, totpSecret: probe.totp_secret }, routes);
    return judgeMfaEnforced(seen, params);
  },
});
