/**
 * auth.refresh-rotation: a refresh token works once; its reuse is refused and
 * revokes the session. The session is rotated twice before the first token is
 * sent again, and the newest token must then be dead: a service that revokes
 * only the token its reuse replaced (the second) would otherwise look right.
 * A second session sends its first token again right after one refresh, before
 * the token that replaced it is used: a service that keeps the token it just
 * replaced good (a "grace" without end) refuses only older tokens.
 * Probing (observeRefreshRotation) gathers a typed observation;
 * judgeRefreshRotation is pure.
 */
import { z } from 'zod';
import type { AccountConfig } from '../../src/engine/checklist/schema.js';
import { type CheckContext, type CheckOutcome, defineCheck, type Observation } from '../../src/engine/types.js';
import {
  type AuthClient,
  createAuthClient,
  type LoginAnswer,
  type RequestRoute,
  resolveAccount,
} from '../../src/probes/auth-client.js';
import { brokenNotes, errorOutcome, isRefused, verdict } from '../outcome.js';
import { accountParam, flowAddress, flowSourceAddressParam, refusedStatusesParam } from './params.js';
import {
  type AnswerSeen,
  type Fingerprint,
  fingerprintOf,
  notObserved,
  responseSeen,
  sameFingerprint,
  unobserved,
} from './seen.js';

export const refreshRotationParams = z
  .object({
    source_address: flowSourceAddressParam.describe(
      "the address the flow comes from; unset: one from the run's pool (target.source_addresses)",
    ),
    account: accountParam('probe_account').describe('the account that logs in (with its TOTP)'),
    refused_statuses: refusedStatusesParam,
    expect_access_revoked: z
      .boolean()
      .default(false)
      .describe(
        'also require the rotated access token to stop working after reuse (services with stateless access tokens may not)',
      ),
  })
  .strict();
type RefreshRotationParams = z.output<typeof refreshRotationParams>;

/** What the refresh probe saw, step by step: plain data, judged by judgeRefreshRotation. A step not reached is undefined. */
export interface RefreshRotationSeen {
  refreshPath: string;
  mePath: string;
  /** The request field of the refresh token, and the login response field it comes in. */
  tokenField: string;
  loginRefreshField: string;
  /** The refresh token the login handed out; undefined when it handed out none. */
  first: Fingerprint | undefined;
  /** The first refresh with it, and the refresh token that came back. */
  rotated: (AnswerSeen & { refreshToken: Fingerprint | undefined }) | undefined;
  /** The second refresh, with the token the first one gave, and the refresh token that came back. */
  rotatedAgain: (AnswerSeen & { refreshToken: Fingerprint | undefined }) | undefined;
  /** The first refresh token sent again. */
  reuse: AnswerSeen | undefined;
  /** The newest refresh token (from the second refresh) sent after the reuse. */
  afterReuse: AnswerSeen | undefined;
  /** The newest access token on the protected path after the reuse. */
  accessStatus: number | undefined;
  /**
   * A second session: its first refresh (which must give new tokens), then that first token sent again while
   * the token that replaced it is still unused.
   */
  justReplaced: { refreshed: AnswerSeen; reuse: AnswerSeen | undefined } | undefined;
  /** Set when something could not be observed: the `error` summary. */
  notSeen?: string;
}

/** Pure: the verdict on one refresh, its reuse and what the reuse revoked. */
export function judgeRefreshRotation(
  seen: RefreshRotationSeen,
  params: Pick<RefreshRotationParams, 'refused_statuses' | 'expect_access_revoked'>,
): CheckOutcome {
  const observations: Observation[] = [];
  const stop = (what: string) => unobserved(seen.notSeen ?? `could not observe ${what}`, observations);
  const { first, rotated } = seen;
  if (!first) return stop(`a refresh token: the login gave no "${seen.loginRefreshField}" field`);
  if (!rotated) return stop('refresh rotation');
  if (!rotated.accessToken || !rotated.refreshToken) {
    observations.push({
      probe: `POST ${seen.refreshPath} with a fresh ${seen.tokenField}`,
      actual: rotated.response.shown,
    });
    return stop('a first refresh: a fresh refresh token was not exchanged for new tokens');
  }
  const second = rotated.refreshToken;
  const rotatedOk = !sameFingerprint(second, first);
  observations.push({
    probe: `POST ${seen.refreshPath} with the fresh ${seen.tokenField} ${JSON.stringify(first)}`,
    expected: 'a new token pair with a different refresh token',
    actual: { status: rotated.response.status, refresh_token: second },
    ok: rotatedOk,
    note: rotatedOk ? 'the refresh token rotated' : 'refresh token not rotated: the same refresh token came back',
  });

  const { rotatedAgain } = seen;
  if (!rotatedAgain) return stop('refresh rotation');
  if (!rotatedAgain.accessToken || !rotatedAgain.refreshToken) {
    observations.push({
      probe: `POST ${seen.refreshPath} with the ${seen.tokenField} the first refresh gave`,
      actual: rotatedAgain.response.shown,
    });
    return stop('a second refresh: the rotated refresh token was not exchanged for new tokens');
  }
  const third = rotatedAgain.refreshToken;
  const rotatedAgainOk = !sameFingerprint(third, second) && !sameFingerprint(third, first);
  observations.push({
    probe: `POST ${seen.refreshPath} with the ${seen.tokenField} the first refresh gave ${JSON.stringify(second)}`,
    expected: 'a new token pair with a refresh token not seen before',
    actual: { status: rotatedAgain.response.status, refresh_token: third },
    ok: rotatedAgainOk,
    note: rotatedAgainOk
      ? 'the refresh token rotated again'
      : 'refresh token not rotated: the second refresh gave back a token already used',
  });

  const { reuse, afterReuse } = seen;
  if (!reuse) return stop('refresh rotation');
  const reuseRefused = isRefused(reuse.response.status, params.refused_statuses) && !reuse.accessToken;
  observations.push({
    probe: `POST ${seen.refreshPath} again with the first ${seen.tokenField}, used two rotations ago`,
    expected: { status: params.refused_statuses, tokens: 'none' },
    actual: reuse.response.shown,
    ok: reuseRefused,
    note: reuseRefused
      ? 'reuse refused'
      : `reused refresh token accepted (${reuse.response.status}): a stolen refresh token stays usable`,
  });

  if (!afterReuse) return stop('refresh rotation');
  const newerRevoked = isRefused(afterReuse.response.status, params.refused_statuses) && !afterReuse.accessToken;
  observations.push({
    probe: `POST ${seen.refreshPath} with the newest ${seen.tokenField} (from the second refresh) after the reuse`,
    expected: { status: params.refused_statuses },
    actual: afterReuse.response.shown,
    ok: newerRevoked,
    note: newerRevoked
      ? 'the session was revoked'
      : `session not revoked: the newest refresh token still works after the first one was reused (${afterReuse.response.status})`,
  });

  const access = seen.accessStatus;
  if (access === undefined) return stop('refresh rotation');
  const accessRevoked = isRefused(access, params.refused_statuses);
  observations.push({
    probe: `GET ${seen.mePath} with the newest access token after the reuse`,
    expected: params.expect_access_revoked ? { status: params.refused_statuses } : 'context only',
    actual: { status: access },
    ...(params.expect_access_revoked ? { ok: accessRevoked } : {}),
    note: accessRevoked
      ? 'the newest access token was revoked with the session'
      : `newest access token still accepted (${access}) until it expires`,
  });

  const { justReplaced } = seen;
  if (!justReplaced) return stop('the reuse of a refresh token just replaced');
  if (!justReplaced.refreshed.accessToken) {
    observations.push({
      probe: `POST ${seen.refreshPath} with a second session's fresh ${seen.tokenField}`,
      actual: justReplaced.refreshed.response.shown,
    });
    return stop("the reuse of a refresh token just replaced: the second session's fresh token was not exchanged");
  }
  if (!justReplaced.reuse) return stop('the reuse of a refresh token just replaced');
  const { reuse: recent } = justReplaced;
  const recentRefused = isRefused(recent.response.status, params.refused_statuses) && !recent.accessToken;
  observations.push({
    probe: `POST ${seen.refreshPath} in a second session with its first ${seen.tokenField} again, right after it was replaced (the new one unused)`,
    expected: { status: params.refused_statuses, tokens: 'none' },
    actual: recent.response.shown,
    ok: recentRefused,
    note: recentRefused
      ? 'reuse of the token just replaced refused'
      : `reused refresh token accepted (${recent.response.status}): the refresh token just replaced, sent again before its successor was used, still bought new tokens`,
  });
  if (seen.notSeen !== undefined) return unobserved(seen.notSeen, observations);
  return verdict(
    observations,
    'refresh tokens rotate, reuse is refused and revokes the session',
    brokenNotes(observations),
  );
}

/** Probe: log in, refresh twice, reuse the first refresh token, then try the newest refresh and access tokens. */
async function observeRefreshRotation(
  ctx: CheckContext,
  client: AuthClient,
  account: AccountConfig,
  route: RequestRoute,
): Promise<RefreshRotationSeen> {
  const answer = (login: LoginAnswer): AnswerSeen => ({
    response: responseSeen(ctx, login.response),
    accessToken: Boolean(login.accessToken),
  });
  const seen: RefreshRotationSeen = {
    refreshPath: client.mapping.refresh.path,
    mePath: client.mapping.me_path,
    tokenField: client.mapping.refresh.token_field,
    loginRefreshField: client.mapping.response_fields.refresh_token,
    first: undefined,
    rotated: undefined,
    rotatedAgain: undefined,
    reuse: undefined,
    afterReuse: undefined,
    accessStatus: undefined,
    justReplaced: undefined,
  };
  try {
    const pair = await client.obtainTokens(account, route);
    if (!pair.refreshToken) return seen;
    const first = pair.refreshToken;
    seen.first = fingerprintOf(ctx, first);
    const rotated = await client.refresh(first, route);
    seen.rotated = {
      ...answer(rotated),
      refreshToken: rotated.refreshToken ? fingerprintOf(ctx, rotated.refreshToken) : undefined,
    };
    if (!rotated.accessToken || !rotated.refreshToken) return seen;
    const rotatedAgain = await client.refresh(rotated.refreshToken, route);
    seen.rotatedAgain = {
      ...answer(rotatedAgain),
      refreshToken: rotatedAgain.refreshToken ? fingerprintOf(ctx, rotatedAgain.refreshToken) : undefined,
    };
    if (!rotatedAgain.accessToken || !rotatedAgain.refreshToken) return seen;
    seen.reuse = answer(await client.refresh(first, route));
    seen.afterReuse = answer(await client.refresh(rotatedAgain.refreshToken, route));
    seen.accessStatus = (
      await client.getWithCredential(client.mapping.me_path, rotatedAgain.accessToken, route)
    ).status;
    // A session of its own: the first one is revoked by now, and every token of it refused for that alone.
    // Its login takes a TOTP step of its own where the service refuses a code's reuse (the run's TOTP ledger).
    const other = await client.obtainTokens(account, route);
    if (!other.refreshToken) return seen;
    const refreshed = await client.refresh(other.refreshToken, route);
    seen.justReplaced = { refreshed: answer(refreshed), reuse: undefined };
    if (!refreshed.accessToken) return seen;
    seen.justReplaced.reuse = answer(await client.refresh(other.refreshToken, route));
  } catch (error) {
    seen.notSeen = notObserved(ctx, 'refresh rotation', error);
  }
  return seen;
}

export default defineCheck({
  id: 'auth.refresh-rotation',
  title: 'A refresh token works once; its reuse is refused and revokes the session',
  source: 'control A8 (docs/controls.md#A8): Refresh tokens rotate',
  docs: 'docs/controls.md#A8',
  remediation:
    'Rotate the refresh token on every use, remember used tokens (the one just replaced too: no grace that outlives a lost answer), and on reuse refuse the request and revoke the whole session (every newer refresh token and its access tokens).',
  rationale: 'A stolen refresh token must be usable at most once, and its reuse is the signal that it was stolen.',
  effects: 'none',
  severity: 'high',
  // Its second session may wait for the next TOTP step (a service that refuses a code's reuse): up to 30 s.
  slow: true,
  params: refreshRotationParams,
  strength: { expect_access_revoked: 'requirement', refused_statuses: 'accepted' },
  probeAddresses: (params) => [params.source_address],
  requires: (params) => [`account:${params.account}`],
  async run(ctx, params) {
    const client = createAuthClient(ctx);
    const probe = resolveAccount(client.mapping, params.account);
    if (!probe) return errorOutcome(ctx, `a session: the checklist gives no account ${params.account}`, undefined);
    // Four failures: the reused refresh token, the newest one it revokes, the second session's reused one, and
    // a TOTP code's second use where the service refuses it.
    const route = { localAddress: await flowAddress(ctx, params.source_address, 4) };
    return judgeRefreshRotation(await observeRefreshRotation(ctx, client, probe, route), params);
  },
});
