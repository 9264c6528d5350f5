/**
 * judgeRefreshRotation on sample observations: no service, no database. Each
 * row is one thing the check can find, with the phrase the evidence must carry.
 */
import { describe, expect, it } from 'vitest';
import { judgeRefreshRotation, type RefreshRotationSeen } from '../../../checks/auth/refresh-rotation.js';
import type { AnswerSeen } from '../../../checks/auth/seen.js';
import { judgeTable } from '../../harness/judge-table.js';

const answer = (status: number, accessToken = false): AnswerSeen => ({
  response: { status, body: '{}', shown: { status, body: '{}' } },
  accessToken,
});
const first = { length: 43, sha256: 'aaaaaaaaaaaa' };
const second = { length: 43, sha256: 'bbbbbbbbbbbb' };
const third = { length: 43, sha256: 'cccccccccccc' };
const params = { refused_statuses: [401, 403], expect_access_revoked: false };

const rotating: RefreshRotationSeen = {
  refreshPath: '/refresh',
  mePath: '/me',
  tokenField: 'refresh_token',
  loginRefreshField: 'refresh_token',
  first,
  rotated: { ...answer(200, true), refreshToken: second },
  rotatedAgain: { ...answer(200, true), refreshToken: third },
  reuse: answer(401),
  afterReuse: answer(401),
  accessStatus: 401,
  justReplaced: { refreshed: answer(200, true), reuse: answer(401) },
};

judgeTable<RefreshRotationSeen, Partial<typeof params>>(
  'judgeRefreshRotation',
  (seen, overrides) => judgeRefreshRotation(seen, { ...params, ...overrides }),
  [
    {
      name: 'rotates, reuse refused, session revoked',
      seen: rotating,
      status: 'pass',
      phrase: /refresh tokens rotate/,
    },
    {
      name: 'access token still works, not required',
      seen: { ...rotating, accessStatus: 200 },
      status: 'pass',
      phrase: /newest access token still accepted \(200\) until it expires/,
    },
    {
      name: 'access token still works, required',
      seen: { ...rotating, accessStatus: 200 },
      with: { expect_access_revoked: true },
      status: 'fail',
      phrase: /newest access token still accepted \(200\)/,
    },
    {
      name: 'the same refresh token comes back',
      seen: { ...rotating, rotated: { ...answer(200, true), refreshToken: first } },
      status: 'fail',
      phrase: /refresh token not rotated: the same refresh token came back/,
    },
    {
      name: 'the second refresh gives back the first token',
      seen: { ...rotating, rotatedAgain: { ...answer(200, true), refreshToken: first } },
      status: 'fail',
      phrase: /refresh token not rotated: the second refresh gave back a token already used/,
    },
    {
      name: 'the second refresh gives no new pair',
      seen: { ...rotating, rotatedAgain: { ...answer(401), refreshToken: undefined }, reuse: undefined },
      status: 'error',
      phrase: /could not observe a second refresh: the rotated refresh token was not exchanged for new tokens/,
    },
    {
      name: 'the token just replaced still accepted in a second session',
      seen: { ...rotating, justReplaced: { refreshed: answer(200, true), reuse: answer(200, true) } },
      status: 'fail',
      phrase:
        /reused refresh token accepted \(200\): the refresh token just replaced, sent again before its successor was used, still bought new tokens/,
    },
    {
      name: "the second session's refresh gives no new pair",
      seen: { ...rotating, justReplaced: { refreshed: answer(401), reuse: undefined } },
      status: 'error',
      phrase:
        /could not observe the reuse of a refresh token just replaced: the second session's fresh token was not exchanged/,
    },
    {
      name: 'the second session never reached',
      seen: { ...rotating, justReplaced: undefined },
      status: 'error',
      phrase: /^could not observe the reuse of a refresh token just replaced/,
    },
    {
      name: 'reuse accepted',
      seen: { ...rotating, reuse: answer(200, true) },
      status: 'fail',
      phrase: /reused refresh token accepted \(200\): a stolen refresh token stays usable/,
    },
    {
      name: 'reuse refused with a status outside the refused list',
      seen: { ...rotating, reuse: answer(400) },
      status: 'fail',
      phrase: /reused refresh token accepted \(400\)/,
    },
    {
      name: 'a refused status that still hands out a token',
      seen: { ...rotating, reuse: answer(401, true) },
      status: 'fail',
      phrase: /reused refresh token accepted \(401\)/,
    },
    {
      // Only the token the reuse replaced (the second) was revoked: the newest, from the second refresh, lives on.
      name: 'the newest refresh token survives the reuse',
      seen: { ...rotating, afterReuse: answer(200, true) },
      status: 'fail',
      phrase: /session not revoked: the newest refresh token still works after the first one was reused \(200\)/,
    },
    {
      name: 'the login hands out no refresh token',
      seen: {
        ...rotating,
        first: undefined,
        rotated: undefined,
        rotatedAgain: undefined,
        reuse: undefined,
        afterReuse: undefined,
      },
      status: 'error',
      phrase: /could not observe a refresh token: the login gave no "refresh_token" field/,
    },
    {
      name: 'the first refresh gives no new pair',
      seen: {
        ...rotating,
        rotated: { ...answer(400), refreshToken: undefined },
        rotatedAgain: undefined,
        reuse: undefined,
      },
      status: 'error',
      phrase: /could not observe a first refresh: a fresh refresh token was not exchanged for new tokens/,
    },
    {
      name: 'the service stops answering after the first refresh',
      seen: {
        ...rotating,
        reuse: undefined,
        afterReuse: undefined,
        accessStatus: undefined,
        notSeen: 'could not observe refresh rotation: Error: connect ECONNREFUSED',
      },
      status: 'error',
      phrase: /could not observe refresh rotation: .*ECONNREFUSED/,
    },
    {
      name: 'a step missing without a reason',
      seen: { ...rotating, accessStatus: undefined },
      status: 'error',
      phrase: /^could not observe refresh rotation /,
    },
  ],
);

describe('judgeRefreshRotation details', () => {
  it('keeps the rotation it saw when the reuse could not be sent', () => {
    const outcome = judgeRefreshRotation({ ...rotating, reuse: undefined, notSeen: 'could not observe x' }, params);
    expect(outcome.observations.map((observation) => observation.note)).toEqual([
      'the refresh token rotated',
      'the refresh token rotated again',
    ]);
  });
});
