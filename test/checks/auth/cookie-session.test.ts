/**
 * Every auth check against the cookie-session fixture (a Django/DRF-shaped
 * service: CSRF echo, the MFA challenge in a pre-auth cookie, the credential a
 * session cookie, Django-style audit tables with per-table columns and their
 * own event kinds): each passes its correct mode and fails the flaw that
 * breaks its control, naming the observation.
 */

import { describe, expect, it } from 'vitest';
import failureEvents from '../../../checks/auth/failure-events.js';
import ipBlock from '../../../checks/auth/ip-block.js';
import lockout from '../../../checks/auth/lockout.js';
import mfaEnforced from '../../../checks/auth/mfa-enforced.js';
import noEnumeration from '../../../checks/auth/no-enumeration.js';
import tokenTransport from '../../../checks/auth/token-transport.js';
import tokenValidation from '../../../checks/auth/token-validation.js';
import { REJECTION_PATHS } from '../../../src/engine/checklist/schema.js';
import { runCheckOn, testCheck } from '../../harness/check-tester.js';
import { cookieFixture } from './support/cookie-fixture-target.js';

testCheck(mfaEnforced, {
  valid: [{ name: 'cookie-session fixture, correct mode (challenge in a pre-auth cookie)', target: cookieFixture() }],
  invalid: [
    {
      name: 'cookie-session fixture: an authenticated session cookie from the password step',
      target: cookieFixture({ flaws: ['session-before-mfa'] }),
      // The password step hands out the credential itself (a session cookie): MFA is skipped.
      expect: /MFA skipped: secgate-probe got an access token from the password alone/,
    },
    {
      name: 'cookie-session fixture: the anonymous session bound to the user by the password step',
      target: cookieFixture({ flaws: ['preauth-session-accepted'] }),
      expect:
        /session before MFA: every cookie the client holds after the password step \(csrftoken, sessionid, mfa_pending\) from the password step of secgate-probe answered 200/,
    },
    {
      name: 'cookie-session fixture: the pre-auth challenge cookie takes another code after a wrong one',
      target: cookieFixture({ flaws: ['challenge-survives-wrong-code'] }),
      expect: /MFA challenge takes more than one code: after a wrong code, the same challenge took the current code/,
    },
  ],
});

const sessionExpiry = { session_expiry_sql: true };
testCheck(tokenValidation, {
  concurrent: true,
  valid: [
    {
      name: 'cookie-session fixture, correct mode, expiry through auth.sessions.expire_sql',
      target: cookieFixture(),
      with: sessionExpiry,
    },
  ],
  invalid: [
    {
      name: 'cookie-session fixture: a session replayed after logout',
      target: cookieFixture({ flaws: ['logout-not-invalidating'] }),
      with: sessionExpiry,
      expect: /forged session accepted: a session replayed after logout got 200/,
    },
    {
      name: 'cookie-session fixture: sessions never expire server-side',
      target: cookieFixture({ flaws: ['no-session-expiry'] }),
      with: sessionExpiry,
      expect: /forged session accepted: a session aged past its lifetime with auth\.sessions\.expire_sql got 200/,
    },
    {
      name: 'cookie-session fixture: an opaque session whose expiry the checklist gives no way to prove',
      target: cookieFixture(),
      with: { expiry_wait_max_s: 1 },
      status: 'error',
      expect: /expired sessions: the credential is an opaque session id, whose expiry cannot be forged/,
    },
  ],
});

testCheck(tokenTransport, {
  valid: [
    { name: 'cookie-session fixture, correct mode', target: cookieFixture() },
    {
      // A Set-Cookie that expires the cookie carries no credential: its flags protect nothing.
      name: 'cookie-session fixture: the password step clears the anonymous session with a bare deletion line',
      target: cookieFixture({ flaws: ['login-clears-anonymous-session'] }),
    },
  ],
  invalid: [
    {
      name: 'cookie-session fixture: the session cookie set after MFA lacks HttpOnly and SameSite',
      target: cookieFixture({ flaws: ['cookie-flags-after-mfa'] }),
      expect: /credential cookie sessionid lacks HttpOnly, SameSite/,
    },
    {
      // The default ?token= and ?access_token= are refused: only the cookie's own name gets the session in.
      name: 'cookie-session fixture: the session id taken from the query string under the cookie name',
      target: cookieFixture({ flaws: ['session-id-in-query'] }),
      expect: /token accepted from the URL query \?sessionid= \(200\)/,
    },
  ],
});

testCheck(failureEvents, {
  valid: [
    {
      // Its own kinds ("anonymous", "no-mfa-device", "bad-session" …) come from auth.event_types; an
      // expired session is aged through auth.sessions.expire_sql, with no signing key anywhere.
      name: 'cookie-session fixture, every path, its own event kinds, per-table columns',
      target: cookieFixture(),
      with: {
        events: [...REJECTION_PATHS],
      },
    },
  ],
  invalid: [],
});

testCheck(lockout, { valid: [{ name: 'cookie-session fixture, correct mode', target: cookieFixture() }], invalid: [] });
testCheck(ipBlock, { valid: [{ name: 'cookie-session fixture, correct mode', target: cookieFixture() }], invalid: [] });
testCheck(noEnumeration, {
  valid: [{ name: 'cookie-session fixture, correct mode', target: cookieFixture() }],
  invalid: [],
});

describe('a backend that closes kept-alive connections early', () => {
  it('auth.no-enumeration still reaches its verdict: safe requests and unprocessed logins are sent once more, and the evidence says so', async () => {
    // Without CSRF, every login goes straight out on a pooled connection: the one the backend has closed.
    const target = await cookieFixture({
      flaws: ['keepalive-closes-early', 'no-csrf'],
      mapping: ({ csrf: _csrf, ...rest }) => rest,
    })();
    try {
      const outcome = await runCheckOn(noEnumeration, target, { samples: 5 });
      expect(outcome.status, JSON.stringify(outcome, null, 2)).toBe('pass');
      const retried = outcome.observations.find((observation) => observation.probe.includes('fresh connection'));
      expect(retried?.note).toMatch(/logins met a kept-alive connection that closed without an answer/);
      expect(JSON.stringify(retried?.actual)).toMatch(
        /axes_accessfailure holds no row of it .* since .* sent once more on a fresh connection/,
      );
    } finally {
      await target.close();
    }
  });
});
