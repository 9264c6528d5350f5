import { describe, expect, it } from 'vitest';
import sessionControls, {
  judgeCredentialCookie,
  judgeEnded,
  judgeRotation,
  type SessionObservation,
} from '../../../checks/auth/session-controls.js';
import { testCheck } from '../../harness/check-tester.js';
import { startReferenceTarget } from '../../support/reference-service.js';
import { cookieFixture } from './support/cookie-fixture-target.js';

testCheck(sessionControls, {
  concurrent: true,
  valid: [
    {
      // Bearer tokens: a new token per login, no cookie to judge, logout revokes the session server-side.
      name: 'reference service (bearer tokens), expiry left to auth.token-validation',
      target: async () => {
        const target = await startReferenceTarget();
        return {
          ...target,
          context: { ...target.context, auth: { ...target.context.auth, logout: { path: '/api/v1/auth/logout' } } },
        };
      },
      with: { prove_expiry: false },
    },
    {
      // One code, one success (RFC 6238 §5.2): its logins of the same account must not share a code.
      name: 'reference service refusing a TOTP code used twice',
      target: async () => {
        const target = await startReferenceTarget({ rejectTotpReuse: true });
        return {
          ...target,
          context: { ...target.context, auth: { ...target.context.auth, logout: { path: '/api/v1/auth/logout' } } },
        };
      },
      with: { prove_expiry: false },
    },
    { name: 'cookie-session fixture, correct mode (expiry through auth.sessions.expire_sql)', target: cookieFixture() },
    {
      name: 'cookie-session fixture, correct mode, expiry proven by waiting out a 2-second session',
      target: cookieFixture({
        sessionTtlSeconds: 2,
        mapping: ({ sessions: _sessions, ...rest }) => rest,
      }),
      with: { session_ttl_s: 2, expiry_wait_max_s: 30, expiry_leeway_s: 2 },
    },
  ],
  invalid: [
    {
      name: 'session id not rotated at login (fixation)',
      target: cookieFixture({ flaws: ['no-rotation'] }),
      expect: /session fixation: the session id is not rotated at login \(the planted sessionid became the session\)/,
    },
    {
      // PHP's session_regenerate_id() without delete_old_session: the response carries a new id, so the rotation
      // looks done, but the planted id the client came with was signed in too.
      name: 'a new session id at login, while the planted one is signed in as well (old session kept)',
      target: cookieFixture({ flaws: ['old-session-kept'] }),
      expect:
        /session fixation: the planted sessionid still answered 200 after login: a new id was issued but the old one was not ended/,
    },
    {
      name: 'session cookie without HttpOnly and SameSite on the MFA response',
      target: cookieFixture({ flaws: ['cookie-flags-after-mfa'] }),
      expect: /the session cookie sessionid set by the mfa_verify response lacks HttpOnly, SameSite/,
    },
    {
      name: 'logout does not invalidate the session',
      target: cookieFixture({ flaws: ['logout-not-invalidating'] }),
      expect: /logout does not invalidate the session server-side: the old credential still answered 200/,
    },
    {
      name: 'sessions never expire server-side',
      target: cookieFixture({ flaws: ['no-session-expiry'] }),
      expect:
        /the session does not expire server-side: replayed after its end \(aged with auth.sessions.expire_sql\) it answered 200/,
    },
  ],
});

const base: SessionObservation = {
  credentialName: 'sessionid',
  credentialIn: 'cookie',
  equalsPlanted: false,
  reusedPreAuthCookies: [],
  credentialSetCookie: 'sessionid=x; Path=/; HttpOnly; Secure; SameSite=Lax',
  credentialStep: 'mfa_verify',
  oldIdsAfterLogin: [{ label: 'the planted sessionid', status: 403 }],
  afterLogout: undefined,
  afterExpiry: undefined,
};

describe('auth.session-controls judges', () => {
  it.each([
    [base, true],
    [{ ...base, equalsPlanted: true }, false],
    [{ ...base, reusedPreAuthCookies: ['sessionid'] }, false],
  ])('rotation %#', (seen, ok) => {
    expect(judgeRotation(seen).ok).toBe(ok);
  });
  it.each([
    [base, true, /HttpOnly, Secure and SameSite/],
    [{ ...base, credentialSetCookie: 'sessionid=x; Path=/; Secure' }, false, /lacks HttpOnly, SameSite/],
    [{ ...base, credentialSetCookie: undefined }, false, /set no sessionid cookie/],
    [{ ...base, credentialIn: 'body' as const }, undefined, /no credential cookie to judge/],
  ])('credential cookie %#', (seen, ok, note) => {
    const observation = judgeCredentialCookie(seen);
    expect(observation.ok).toBe(ok);
    expect(observation.note).toMatch(note);
  });
  it.each([
    ['logout' as const, 403, true],
    ['logout' as const, 200, false],
    ['expiry' as const, 401, true],
    ['expiry' as const, 204, false],
  ])('%s answered %d', (what, status, ok) => {
    expect(judgeEnded(what, { status, detail: 'd' }, [401, 403]).ok).toBe(ok);
  });
  it('a replay that was not sent is no verdict', () => {
    expect(judgeEnded('logout', undefined, [401]).ok).toBeUndefined();
  });
});
