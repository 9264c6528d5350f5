/** The plugin's table, as a built-in check's: the targets it must pass, the ones it must fail and why. */
import { testCheck } from 'secgate/testing';
import cookieFlags from './cookie-flags.js';
import { FLAGGED, startCookieServer } from './fixture.js';

testCheck(cookieFlags, {
  valid: [
    {
      name: 'every cookie Secure, HttpOnly, SameSite=Lax',
      target: () => startCookieServer(),
      with: { path: '/login' },
    },
    {
      name: 'SameSite=None accepted when the checklist says so',
      target: () => startCookieServer('Secure; HttpOnly; SameSite=None'),
      with: { path: '/login', same_site: ['Lax', 'None'] },
    },
  ],
  invalid: [
    {
      name: 'session cookie without Secure',
      target: () => startCookieServer('HttpOnly; SameSite=Lax'),
      with: { path: '/login' },
      expect: /cookie session lacks Secure$/,
    },
    {
      name: 'session cookie with no flag at all',
      target: () => startCookieServer(''),
      with: { path: '/login' },
      expect: /"note":"cookie session lacks Secure, HttpOnly, SameSite=Strict\|Lax"/,
    },
    {
      name: 'SameSite=None where only Strict or Lax is accepted',
      target: () => startCookieServer('Secure; HttpOnly; SameSite=None'),
      with: { path: '/login' },
      expect: /"actual":\{"secure":true,"httpOnly":true,"sameSite":"None"\}/,
    },
    {
      name: 'a path that sets no cookie proves nothing',
      status: 'error',
      target: () => startCookieServer(FLAGGED),
      with: { path: '/' },
      expect: /GET \/ set no cookie \(answered 200\)/,
    },
  ],
});
