/** The pure decisions behind lockout, IP blocking and the HTTP surface. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, decideIpBlock, decideLockout, type LockoutState } from '../../src/service/auth/policy.js';
import { allowedOrigin, isApiDocumentationPath, isPublicRoute, normaliseIp } from '../../src/service/http-policy.js';
import { redirectLocation } from '../../src/service/redirect.js';

const start = new Date('2026-01-01T00:00:00Z');
const later = (seconds: number) => new Date(start.getTime() + seconds * 1000);
const fresh: LockoutState = { failedLoginCount: 0, firstFailedAt: null, lockedUntil: null };

describe('decideLockout', () => {
  it('locks on the 5th consecutive failure within the window, for the cooldown', () => {
    let state = fresh;
    for (let failure = 1; failure <= 5; failure += 1) {
      const decision = decideLockout(state, 'bad_password', later(failure), DEFAULT_POLICY);
      expect(decision.eventType).toBe('bad_password');
      expect(decision.lockedNow).toBe(failure === 5);
      state = decision.next;
    }
    expect(state.lockedUntil).toEqual(later(5 + DEFAULT_POLICY.lockoutDurationSeconds));
  });

  it('records attempts during the lock as locked_account and changes nothing', () => {
    const locked: LockoutState = { failedLoginCount: 5, firstFailedAt: start, lockedUntil: later(600) };
    expect(decideLockout(locked, 'bad_password', later(10), DEFAULT_POLICY)).toEqual({
      next: locked,
      eventType: 'locked_account',
      lockedNow: false,
    });
  });

  it('starts a new window once the old one has passed', () => {
    const old: LockoutState = { failedLoginCount: 4, firstFailedAt: start, lockedUntil: null };
    const decision = decideLockout(old, 'bad_totp', later(DEFAULT_POLICY.lockoutWindowSeconds), DEFAULT_POLICY);
    expect(decision.next.failedLoginCount).toBe(1);
    expect(decision.lockedNow).toBe(false);
  });
});

describe('decideIpBlock', () => {
  it('blocks above the threshold only, and never twice', () => {
    expect(decideIpBlock(10, false, DEFAULT_POLICY)).toBe(false);
    expect(decideIpBlock(11, false, DEFAULT_POLICY)).toBe(true);
    expect(decideIpBlock(50, true, DEFAULT_POLICY)).toBe(false);
  });
});

describe('HTTP policy', () => {
  it('keeps public routes exact', () => {
    expect(isPublicRoute('GET', '/health')).toBe(true);
    expect(isPublicRoute('POST', '/api/v1/auth/login')).toBe(true);
    for (const [method, path] of [
      ['GET', '/health/'],
      ['GET', '/HEALTH'],
      ['GET', '/api/v1/auth/login'],
      ['POST', '/api/v1/auth/login/'],
      ['POST', '/api/v1/auth/logout'],
    ]) {
      expect(isPublicRoute(method as string, path as string), `${method} ${path}`).toBe(false);
    }
  });

  it('recognises API documentation paths and nothing else', () => {
    for (const path of ['/docs', '/redoc', '/openapi.json', '/swagger-ui/index.html', '/api/docs', '/v3/api-docs'])
      expect(isApiDocumentationPath(path), path).toBe(true);
    for (const path of ['/documents', '/api/v1/notes', '/health'])
      expect(isApiDocumentationPath(path), path).toBe(false);
  });

  it('allows configured origins by exact match only', () => {
    const configured = new Set(['https://app.example.internal']);
    expect(allowedOrigin('https://app.example.internal', configured)).toBe('https://app.example.internal');
    expect(allowedOrigin('https://app.example.internal.evil', configured)).toBeUndefined();
    expect(allowedOrigin('null', new Set(['null']))).toBeUndefined();
  });

  it('normalises IPv4-mapped addresses and pins redirects to the HTTPS origin', () => {
    expect(normaliseIp('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(normaliseIp('::1')).toBe('::1');
    expect(redirectLocation('https://localhost:8443', '//evil.example/x')).toBe(
      'https://localhost:8443/evil.example/x',
    );
    expect(redirectLocation('https://localhost:8443', undefined)).toBe('https://localhost:8443/');
  });
});
