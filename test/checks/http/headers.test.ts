import { describe, expect, it } from 'vitest';
import httpHeaders, { frameAncestors, judgeSecurityHeaders, parseHsts } from '../../../checks/http/headers.js';
import { startHttpFixture, startUnreachableTarget } from '../../../fixtures/http/servers.js';
import { testCheck } from '../../harness/check-tester.js';
import { validTargets } from './valid-targets.js';

testCheck(httpHeaders, {
  valid: [
    ...validTargets(),
    {
      name: 'includeSubDomains required and present',
      target: () => startHttpFixture(),
      with: { hsts_include_subdomains: true },
    },
    {
      name: 'version banner only reported',
      target: () => startHttpFixture({ flaw: 'version-banner' }),
      with: { banners: 'report' },
    },
  ],
  invalid: [
    {
      name: 'headers only on 200 responses',
      target: () => startHttpFixture({ flaw: 'headers-only-on-200' }),
      expect: /Strict-Transport-Security missing on 401, 404, 400 responses/,
    },
    {
      name: 'HSTS missing',
      target: () => startHttpFixture({ flaw: 'no-hsts' }),
      expect: /^Strict-Transport-Security missing on 200, 401, 404, 400 responses$/,
    },
    {
      name: 'HSTS too short',
      target: () => startHttpFixture({ flaw: 'hsts-too-short' }),
      expect: /max-age=86400 is below 31536000/,
    },
    {
      name: 'HSTS without includeSubDomains when required',
      target: () => startHttpFixture({ flaw: 'hsts-too-short' }),
      with: { hsts_include_subdomains: true, hsts_min_max_age: 3600 },
      expect: /lacks includeSubDomains/,
    },
    {
      name: 'version banners',
      target: () => startHttpFixture({ flaw: 'version-banner' }),
      expect:
        /Server banner discloses a version: nginx\/1\.18\.0 \(Ubuntu\).*X-Powered-By banner discloses a version: Express 4\.17\.1/,
    },
    { name: 'target unreachable', target: startUnreachableTarget, status: 'error', expect: /health: refused/ },
  ],
});

describe('header parsing', () => {
  it('reads HSTS directives case-insensitively and with a quoted max-age', () => {
    expect(parseHsts('Max-Age="31536000"; IncludeSubDomains; preload')).toEqual({
      maxAge: 31536000,
      includeSubdomains: true,
    });
    expect(parseHsts('includeSubDomains').maxAge).toBeUndefined();
  });
  it('finds frame-ancestors in a CSP', () => {
    expect(frameAncestors("default-src 'self'; frame-ancestors 'none'")).toEqual(["'none'"]);
    expect(frameAncestors("default-src 'self'")).toBeUndefined();
  });
  it('accepts CSP frame-ancestors instead of X-Frame-Options, but not a wildcard', () => {
    const policy = { hstsMinMaxAge: 1, hstsIncludeSubdomains: false, failOnVersionBanner: true };
    const restricted = judgeSecurityHeaders({ 'content-security-policy': "frame-ancestors 'self'" }, policy);
    expect(restricted.find((finding) => finding.header.includes('frame'))?.ok).toBe(true);
    const wildcard = judgeSecurityHeaders({ 'content-security-policy': 'frame-ancestors *' }, policy);
    expect(wildcard.find((finding) => finding.header === 'X-Frame-Options')?.ok).toBe(false);
  });
});
