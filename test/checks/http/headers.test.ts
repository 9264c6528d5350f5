import { describe, expect, it } from 'vitest';
import httpHeaders, {
  frameAncestors,
  judgeSecurityHeaders,
  parseHsts,
  passSummary,
} from '../../../checks/http/headers.js';
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
      name: 'HSTS max-age=0, even where the checklist accepts any max-age',
      target: () => startHttpFixture({ flaw: 'hsts-max-age-zero' }),
      with: { hsts_min_max_age: 0 },
      expect: /Strict-Transport-Security max-age=0 tells browsers to forget HSTS for this host on 200, 401, 404, 400/,
    },
    {
      name: 'HSTS with a directive twice (browsers ignore the header)',
      target: () => startHttpFixture({ flaw: 'hsts-duplicate-directive' }),
      expect:
        /Strict-Transport-Security is invalid \(the directive max-age appears twice\), so browsers ignore it: as good as missing/,
    },
    {
      name: 'X-Frame-Options DENY overridden by CSP frame-ancestors *',
      target: () => startHttpFixture({ flaw: 'xfo-deny-frame-ancestors-any' }),
      expect: /CSP frame-ancestors allows any site \(\*\), and browsers then ignore X-Frame-Options "DENY"/,
    },
    {
      name: 'CSP frame-ancestors with scheme-only sources',
      target: () => startHttpFixture({ flaw: 'frame-ancestors-scheme-only' }),
      expect: /CSP frame-ancestors allows any site \(https: http:\)/,
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
      invalid: undefined,
    });
    expect(parseHsts('includeSubDomains')).toMatchObject({ maxAge: undefined, invalid: 'it has no valid max-age' });
  });
  it('finds an HSTS header invalid when a directive repeats, in any case', () => {
    expect(parseHsts('max-age=31536000; includeSubDomains; IncludeSubDomains').invalid).toBe(
      'the directive IncludeSubDomains appears twice',
    );
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
    expect(wildcard.find((finding) => finding.header.includes('frame'))?.ok).toBe(false);
  });
  const framingCases: { name: string; xfo?: string; csp?: string; ok: boolean }[] = [
    { name: 'XFO DENY alone', xfo: 'DENY', ok: true },
    { name: "XFO DENY with frame-ancestors 'self'", xfo: 'DENY', csp: "frame-ancestors 'self'", ok: true },
    { name: 'XFO DENY with frame-ancestors *', xfo: 'DENY', csp: 'frame-ancestors *', ok: false },
    { name: 'frame-ancestors https:', csp: 'frame-ancestors https:', ok: false },
    { name: 'frame-ancestors with a host', csp: 'frame-ancestors https://app.example', ok: true },
    { name: 'an empty frame-ancestors blocks like none', csp: 'frame-ancestors', ok: true },
    // Every enforced policy must allow the frame: one restrictive policy among several is enough.
    { name: 'two policies in one header, one restrictive', csp: "frame-ancestors *, frame-ancestors 'none'", ok: true },
    { name: 'XFO ALLOWALL, no CSP', xfo: 'ALLOWALL', ok: false },
  ];
  it.each(framingCases)('framing: $name → ok: $ok', ({ xfo, csp, ok }) => {
    const policy = { hstsMinMaxAge: 1, hstsIncludeSubdomains: false, failOnVersionBanner: true };
    const headers = {
      ...(xfo === undefined ? {} : { 'x-frame-options': xfo }),
      ...(csp === undefined ? {} : { 'content-security-policy': csp }),
    };
    const findings = judgeSecurityHeaders(headers, policy);
    expect(findings.find((finding) => /frame/i.test(finding.header))?.ok).toBe(ok);
  });
});

describe('the pass summary names what was seen', () => {
  it('lists each response with its status, and the classes never produced', () => {
    expect(
      passSummary([
        { probe: { label: 'health', method: 'GET', path: '/health', expect_status: 200 }, status: 200 },
        { probe: { label: 'unknown path', method: 'GET', path: '/x', expect_status: 404 }, status: 401 },
      ]),
    ).toBe(
      'security headers present on all 2 responses observed (health 200, unknown path 401); no 404 response was produced, so none was checked',
    );
  });
});
