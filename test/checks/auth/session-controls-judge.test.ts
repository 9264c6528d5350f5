/**
 * auth.session-controls' whole judge, on sample observations: no service, no database. Each row is
 * what a probe could have seen over a session's life; the verdict and the phrase that names the
 * break come from the judge alone (session-controls.test.ts covers the judges of each step).
 */
import { describe, expect, it } from 'vitest';
import {
  judgeSessionControls,
  type SessionControlsSeen,
  type SessionObservation,
} from '../../../checks/auth/session-controls.js';
import { judgeTable } from '../../harness/judge-table.js';

const params = { refused_statuses: [401, 403], prove_expiry: true };

const session: SessionObservation = {
  credentialName: 'sessionid',
  credentialIn: 'cookie',
  equalsPlanted: false,
  reusedPreAuthCookies: [],
  credentialSetCookie: 'sessionid=[redacted len=32 sha256=0123456789ab]; Path=/; HttpOnly; Secure; SameSite=Lax',
  credentialStep: 'mfa_verify',
  oldIdsAfterLogin: [{ label: 'the planted sessionid', status: 403 }],
  afterLogout: { status: 401, logoutStatus: 204 },
  afterExpiry: { status: 401, how: 'aged with auth.sessions.expire_sql' },
};

const seen: SessionControlsSeen = {
  mePath: '/me',
  baseline: { status: 200, shown: { status: 200, body: '{"sub":"probe"}' } },
  session,
  unobserved: undefined,
};

function living(changes: Partial<SessionObservation>): SessionControlsSeen {
  return { ...seen, session: { ...session, ...changes } };
}

judgeTable<SessionControlsSeen, typeof params>(
  'judgeSessionControls',
  (sample, given) => judgeSessionControls(sample, given ?? params),
  [
    {
      name: 'rotated, flagged, ended by logout and by expiry',
      seen,
      status: 'pass',
      expect:
        /^the session id rotates at login, its cookie is HttpOnly\+Secure\+SameSite where it is set, logout ends it server-side and it expires server-side$/,
    },
    {
      name: 'bearer credential: no cookie to judge, expiry left out visibly',
      seen: living({ credentialIn: 'body', credentialSetCookie: undefined, afterExpiry: undefined }),
      with: { ...params, prove_expiry: false },
      status: 'pass',
      expect: /^the session id rotates at login, logout ends it server-side; expiry not tried$/,
    },
    {
      name: 'session fixation: the planted id became the session',
      seen: living({ equalsPlanted: true }),
      status: 'fail',
      expect: /^session fixation: the session id is not rotated at login \(the planted sessionid became the session\)$/,
    },
    {
      name: 'session fixation: a pre-auth cookie became the session',
      seen: living({ reusedPreAuthCookies: ['visitor'] }),
      status: 'fail',
      expect: /the pre-auth cookie visitor became the session/,
    },
    {
      name: 'session fixation: a new id, but the planted one still works',
      seen: living({ oldIdsAfterLogin: [{ label: 'the planted sessionid', status: 200 }] }),
      status: 'fail',
      expect:
        /^session fixation: the planted sessionid still answered 200 after login: a new id was issued but the old one was not ended$/,
    },
    {
      name: 'bearer credential: no id held before login to replay',
      seen: living({ credentialIn: 'body', credentialSetCookie: undefined, oldIdsAfterLogin: undefined }),
      status: 'pass',
      expect: /^the session id rotates at login, logout ends it server-side and it expires server-side$/,
    },
    {
      name: 'cookie credential, the ids held before login never replayed: fail closed',
      seen: living({ oldIdsAfterLogin: undefined }),
      status: 'error',
      expect: /^could not observe the ids held before login: they were not replayed after it$/,
    },
    {
      name: 'the session cookie scripts can read',
      seen: living({ credentialSetCookie: 'sessionid=[redacted]; Path=/; Secure; SameSite=Lax' }),
      status: 'fail',
      expect: /^the session cookie sessionid set by the mfa_verify response lacks HttpOnly$/,
    },
    {
      name: 'no Set-Cookie for a cookie credential',
      seen: living({ credentialSetCookie: undefined }),
      status: 'fail',
      expect: /the mfa_verify response set no sessionid cookie/,
    },
    {
      name: 'logout does not end the session',
      seen: living({ afterLogout: { status: 200, logoutStatus: 204 } }),
      status: 'fail',
      expect: /^logout does not invalidate the session server-side: the old credential still answered 200$/,
    },
    {
      name: 'the session does not expire server-side',
      seen: living({ afterExpiry: { status: 200, how: 'waited 12 s' } }),
      status: 'fail',
      expect: /^the session does not expire server-side: replayed after its end \(waited 12 s\) it answered 200$/,
    },
    {
      name: 'the session does not work: nothing is proven',
      seen: { ...seen, baseline: { status: 302, shown: { status: 302 } }, session: undefined },
      status: 'error',
      expect: /^could not observe a working session: it got 302$/,
    },
    {
      name: 'expiry could not be brought about',
      seen: { ...living({ afterExpiry: undefined }), unobserved: 'server-side expiry: give auth.sessions.expire_sql' },
      status: 'error',
      expect: /^could not observe server-side expiry: give auth.sessions.expire_sql$/,
    },
    {
      name: 'expiry promised but never replayed: fail closed',
      seen: living({ afterExpiry: undefined }),
      status: 'error',
      expect: /^could not observe server-side expiry: the session was not replayed after it expired$/,
    },
    {
      name: 'logout never replayed: fail closed',
      seen: living({ afterLogout: undefined }),
      status: 'error',
      expect: /^could not observe the session after logout/,
    },
  ],
);

describe('judgeSessionControls', () => {
  it('a probe that stopped is an error, and keeps the breaks it saw before in the evidence', () => {
    const outcome = judgeSessionControls(
      { ...living({ equalsPlanted: true, afterExpiry: undefined }), unobserved: 'the session lifecycle: reset' },
      params,
    );
    expect(outcome.status).toBe('error');
    expect(outcome.observations.some((observation) => observation.ok === false)).toBe(true);
  });
});
