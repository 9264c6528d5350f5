import { describe, expect, it } from 'vitest';
import { createCookieJar, parseSetCookie } from '../../src/probes/cookie-jar.js';

const origin = new URL('https://127.0.0.1:8443/api/auth/login/');

describe('the probe session cookie jar', () => {
  it('keeps cookies per origin, never sending one to another host or port', () => {
    const jar = createCookieJar();
    jar.store(origin, ['sessionid=abc; Path=/; HttpOnly; Secure; SameSite=Lax']);
    expect(jar.header(new URL('https://127.0.0.1:8443/api/me/'))).toBe('sessionid=abc');
    expect(jar.header(new URL('https://127.0.0.1:9443/api/me/'))).toBeUndefined();
    expect(jar.header(new URL('https://127.0.0.2:8443/api/me/'))).toBeUndefined();
  });

  it('sends a cookie only where its path applies, longer paths first', () => {
    const jar = createCookieJar();
    jar.store(origin, ['mfa_pending=c1; Path=/api/auth/', 'csrftoken=t; Path=/']);
    expect(jar.header(new URL('https://127.0.0.1:8443/api/auth/mfa/'))).toBe('mfa_pending=c1; csrftoken=t');
    expect(jar.header(new URL('https://127.0.0.1:8443/api/me/'))).toBe('csrftoken=t');
    expect(jar.header(new URL('https://127.0.0.1:8443/api/authx'))).toBe('csrftoken=t');
  });

  it('replaces a cookie by name and drops it when the service expires it', () => {
    const jar = createCookieJar();
    jar.store(origin, ['sessionid=old; Path=/']);
    jar.store(origin, ['sessionid=new; Path=/']);
    expect(jar.get(origin, 'sessionid')?.value).toBe('new');
    jar.store(origin, ['sessionid=; Max-Age=0; Path=/']);
    expect(jar.get(origin, 'sessionid')).toBeUndefined();
    jar.store(origin, ['a=1; Path=/', 'a=2; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
    expect(jar.all(origin)).toEqual([]);
  });

  it('parses a Set-Cookie line, keeping its attributes for the flag checks', () => {
    expect(parseSetCookie('sessionid=a=b; Path=/x; HttpOnly; Secure; SameSite=Lax')).toEqual({
      name: 'sessionid',
      value: 'a=b',
      path: '/x',
      attributes: ['path=/x', 'httponly', 'secure', 'samesite=lax'],
      expired: false,
    });
    expect(parseSetCookie('=nameless')).toBeUndefined();
    expect(parseSetCookie('no-equals-sign')).toBeUndefined();
  });
});
