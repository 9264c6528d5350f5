/** The pure decisions behind lockout, IP blocking and the HTTP surface. */
import { describe, expect, it } from 'vitest';
import {
  type AdmissionState,
  DEFAULT_POLICY,
  decideAdmission,
  decideLockout,
  type LockoutState,
} from '../../src/service/auth/policy.js';
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

describe('decideAdmission', () => {
  const state = (overrides: Partial<AdmissionState>): AdmissionState => ({
    activeBlock: false,
    failures: 0,
    staleAdmissions: 0,
    pendingAdmissions: 0,
    ...overrides,
  });

  it('admits while the failures and the checks in flight stay under the threshold', () => {
    expect(decideAdmission(state({}), DEFAULT_POLICY)).toBe('admit');
    expect(decideAdmission(state({ failures: 5, pendingAdmissions: 4 }), DEFAULT_POLICY)).toBe('admit');
  });

  it('waits when the checks in flight could spend the threshold, instead of admitting or refusing', () => {
    expect(decideAdmission(state({ pendingAdmissions: 10 }), DEFAULT_POLICY)).toBe('wait');
    expect(decideAdmission(state({ failures: 9, pendingAdmissions: 1 }), DEFAULT_POLICY)).toBe('wait');
  });

  it('blocks on the attempt after the threshold-th failure, counting stale admissions as failures', () => {
    expect(decideAdmission(state({ failures: 10 }), DEFAULT_POLICY)).toBe('block');
    expect(decideAdmission(state({ failures: 10, pendingAdmissions: 3 }), DEFAULT_POLICY)).toBe('block');
    expect(decideAdmission(state({ failures: 6, staleAdmissions: 4 }), DEFAULT_POLICY)).toBe('block');
  });

  it('refuses a blocked address without blocking it again', () => {
    expect(decideAdmission(state({ activeBlock: true }), DEFAULT_POLICY)).toBe('refuse');
    expect(decideAdmission(state({ activeBlock: true, failures: 50 }), DEFAULT_POLICY)).toBe('refuse');
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
