/**
 * judgeMfaEnforced on sample observations: no service, no database. Each row
 * is one thing the check can find, with the phrase the evidence must carry.
 */
import { describe, expect, it } from 'vitest';
import {
  judgeMfaEnforced,
  type MfaEnforcedSeen,
  type PresentedSeen,
  type RefreshSeen,
  type WrongCodeSeen,
} from '../../../checks/auth/mfa-enforced.js';
import type { ResponseSeen } from '../../../checks/auth/seen.js';
import { judgeTable } from '../../harness/judge-table.js';

const response = (status: number, body = '{}'): ResponseSeen => ({ status, body, shown: { status, body } });
const token = { length: 40, sha256: 'cccccccccccc' };
const challenge = { length: 32, sha256: 'dddddddddddd' };
const presented = (label: string, status: number): PresentedSeen => ({ label, response: response(status) });
const refreshTried = (status: number, session?: number): RefreshSeen => ({
  label: 'body field refresh_token',
  response: response(status),
  accessToken: session !== undefined,
  session: session === undefined ? undefined : response(session),
});
const wrongCode = (code: string, status: number | undefined, session?: number): WrongCodeSeen => ({
  code,
  verify: status === undefined ? undefined : { response: response(status), accessToken: session !== undefined },
  session: session === undefined ? undefined : response(session),
});

const enforced: MfaEnforcedSeen = {
  paths: { login: '/login', mfaVerify: '/mfa', refresh: '/refresh', me: '/me' },
  noMfaUsername: 'nomfa',
  username: 'probe',
  noMfaLogin: { response: response(403, '{"detail":"enrol first"}'), accessToken: undefined },
  noMfaPresented: [presented('cookie csrftoken from Set-Cookie', 401)],
  noMfaRefresh: undefined,
  noMfaWrongCodes: [],
  login: { response: response(200), accessToken: false, challenge },
  beforeMfaPresented: [presented('cookie mfa_pending from Set-Cookie', 401)],
  beforeMfaRefresh: [],
  refreshNotTried: [],
  challengeAsBearer: response(401),
  wrongThenRight: {
    wrong: { response: response(401), accessToken: false },
    right: { response: response(401), accessToken: false },
  },
  verify: { response: response(200), accessToken: token },
  replay: { response: response(401), accessToken: false },
};

judgeTable<MfaEnforcedSeen>('judgeMfaEnforced', (seen) => judgeMfaEnforced(seen, { refused_statuses: [401, 403] }), [
  { name: 'nothing before the second factor', seen: enforced, status: 'pass', phrase: /none of the 2 other values/ },
  {
    name: 'a refresh token the password step handed out buys nothing',
    seen: { ...enforced, noMfaRefresh: { response: response(401), accessToken: false } },
    status: 'pass',
    phrase: /the refresh token buys nothing/,
  },
  {
    name: 'the challenge of the account without MFA admits no code from no device',
    seen: { ...enforced, noMfaWrongCodes: [wrongCode('000000', 401), wrongCode('a random code', 401)] },
    status: 'pass',
    expect: /, nor with 2 codes from no enrolled device for the challenge it got,/,
  },
  {
    name: 'a code not sent, for want of a fresh challenge, is named',
    seen: { ...enforced, noMfaWrongCodes: [wrongCode('000000', 401), wrongCode('a random code', undefined)] },
    status: 'pass',
    expect: /nor with a code .*; not tried: a random code at \/mfa \(the login again gave no challenge\)$/,
  },
  {
    name: 'the refresh token of the password step buys nothing',
    seen: { ...enforced, beforeMfaRefresh: [refreshTried(401)] },
    status: 'pass',
    expect: /worked as a session or bought one at \/refresh \(1 sent\);/,
  },
  {
    name: 'values past the refresh cap are named as not tried',
    seen: { ...enforced, beforeMfaRefresh: [refreshTried(401)], refreshNotTried: ['cookie sid'] },
    status: 'pass',
    expect: /; not tried: cookie sid at \/refresh$/,
  },
  {
    name: 'an access token without a second factor',
    seen: { ...enforced, noMfaLogin: { response: response(200), accessToken: token } },
    status: 'fail',
    phrase: /MFA optional: nomfa has no second factor and got an access token from the password alone \(200\)/,
  },
  {
    name: 'a session cookie without a second factor',
    seen: { ...enforced, noMfaPresented: [presented('cookie session from Set-Cookie', 200)] },
    status: 'fail',
    phrase: /got a session from the password alone: cookie session from Set-Cookie answered 200 on \/me/,
  },
  {
    name: 'a refresh token from the password alone buys an access token',
    seen: { ...enforced, noMfaRefresh: { response: response(200), accessToken: true } },
    status: 'fail',
    phrase: /the refresh token nomfa got from the password alone buys an access token/,
  },
  {
    name: 'the TOTP account gets a token from its password',
    seen: { ...enforced, login: { response: response(200), accessToken: true, challenge: undefined } },
    status: 'fail',
    phrase: /MFA skipped: probe got an access token from the password alone/,
  },
  {
    name: 'a session before the second factor',
    seen: { ...enforced, beforeMfaPresented: [presented('every cookie the client holds', 204)] },
    status: 'fail',
    phrase: /session before MFA: every cookie the client holds from the password step of probe answered 204/,
  },
  {
    name: 'the account without MFA completes a challenge with any code',
    seen: { ...enforced, noMfaWrongCodes: [wrongCode('000000', 200, 200)] },
    status: 'fail',
    phrase:
      /MFA bypass: nomfa has no enrolled second factor, yet completed the second step with a code from no enrolled device \(000000\): \/mfa answered 200 with an access token that answered 200 on \/me/,
  },
  {
    name: 'the refresh token of the password step buys a working access token',
    seen: { ...enforced, beforeMfaRefresh: [refreshTried(200, 200)] },
    status: 'fail',
    phrase:
      /session before MFA: body field refresh_token from the password step of probe bought an access token at \/refresh that answered 200 on \/me before the second factor/,
  },
  {
    name: 'the refresh token of the password step buys an access token, even one /me refuses',
    seen: { ...enforced, beforeMfaRefresh: [refreshTried(200, 401)] },
    status: 'fail',
    phrase:
      /session before MFA: body field refresh_token from the password step of probe bought an access token at \/refresh before the second factor \(\/me answered 401 to it\)/,
  },
  {
    name: 'the challenge works as a bearer token',
    seen: { ...enforced, challengeAsBearer: response(200) },
    status: 'fail',
    phrase: /MFA challenge accepted as a bearer token \(200\): the second factor can be skipped/,
  },
  {
    name: 'the challenge works twice',
    seen: { ...enforced, replay: { response: response(200), accessToken: true } },
    status: 'fail',
    phrase: /MFA challenge reusable: its second use yielded another access token \(200\)/,
  },
  {
    name: 'a wrong code spends the challenge',
    seen: enforced,
    status: 'pass',
    expect: /the challenge was refused as a bearer token, after a wrong code and after one use/,
  },
  {
    name: 'after a wrong code, the same challenge takes the right one',
    seen: {
      ...enforced,
      wrongThenRight: {
        wrong: { response: response(401), accessToken: false },
        right: { response: response(200), accessToken: true },
      },
      verify: undefined,
      replay: undefined,
    },
    status: 'fail',
    phrase:
      /MFA challenge takes more than one code: after a wrong code, the same challenge took the current code and yielded an access token \(200\)/,
  },
  {
    name: 'the right code refused while another login of the run had used its step: not seen, not passed',
    seen: {
      ...enforced,
      wrongThenRight: {
        wrong: { response: response(401), accessToken: false },
        right: { response: response(401), accessToken: false },
        reuseMayExplain: true,
      },
    },
    status: 'error',
    phrase:
      /could not observe whether a wrong code spends a challenge of probe: the current code was refused, but another login of this run had used its TOTP step/,
  },
  {
    name: 'a wrong code yields a token',
    seen: { ...enforced, wrongThenRight: { wrong: { response: response(200), accessToken: true }, right: undefined } },
    status: 'fail',
    phrase: /MFA bypass: a wrong TOTP code yielded an access token for probe \(200\)/,
  },
  {
    name: 'no second challenge to send a wrong code with: not seen, not passed',
    seen: { ...enforced, wrongThenRight: { wrong: undefined, right: undefined } },
    status: 'error',
    phrase: /could not observe whether a wrong code spends a challenge of probe: the login again gave no challenge/,
  },
  {
    name: 'no challenge from the password step',
    seen: { ...enforced, login: { response: response(500), accessToken: false, challenge: undefined } },
    status: 'error',
    phrase: /could not observe an MFA challenge for probe/,
  },
  {
    name: 'the current TOTP code buys no token',
    seen: { ...enforced, verify: { response: response(401), accessToken: undefined }, replay: undefined },
    status: 'error',
    phrase: /could not observe a token pair for probe with the current TOTP code/,
  },
  {
    name: 'the service refuses connections',
    seen: {
      ...enforced,
      noMfaLogin: undefined,
      notSeen: 'could not observe the MFA flow: TypeError: fetch failed (ECONNREFUSED)',
    },
    status: 'error',
    phrase: /could not observe the MFA flow: .*ECONNREFUSED/,
  },
  {
    name: 'a step missing without a reason',
    seen: { ...enforced, replay: undefined },
    status: 'error',
    phrase: /^could not observe the MFA flow /,
  },
]);

describe('judgeMfaEnforced details', () => {
  it('keeps what it saw before the flow broke off', () => {
    const seen = { ...enforced, replay: undefined, notSeen: 'could not observe the MFA flow: x' };
    const outcome = judgeMfaEnforced(seen, { refused_statuses: [401] });
    expect(outcome.status).toBe('error');
    expect(outcome.observations.map((observation) => observation.note)).toContain('a challenge is not an access token');
  });
});
