import { describe, expect, it } from 'vitest';
import httpHeaders, {
  frameAncestors,
  judgeSecurityHeaders,
  parseHsts,
  passSummary,
} from '../../../checks/http/headers.js';
import { startMisconfiguredServer } from '../../../fixtures/http/misconfigured-servers.js';
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
    { name: 'the misconfigured-server fixture with nothing misconfigured', target: () => startMisconfiguredServer() },
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
      name: 'CSP frame-ancestors https://* with no X-Frame-Options: any https site may frame',
      target: () =>
        startMisconfiguredServer({
          headers: {
            'x-frame-options': null,
            'content-security-policy': "default-src 'self'; frame-ancestors https://*",
          },
        }),
      expect: /^CSP frame-ancestors allows any site \(https:\/\/\*\) on 200, 401, 404, 400 responses$/,
    },
    {
      name: 'CSP frame-ancestors *:* (any host, any port)',
      target: () =>
        startMisconfiguredServer({
          headers: { 'x-frame-options': null, 'content-security-policy': "default-src 'self'; frame-ancestors *:*" },
        }),
      expect: /^CSP frame-ancestors allows any site \(\*:\*\) on 200, 401, 404, 400 responses$/,
    },
    {
      name: 'X-Frame-Options DENY overridden by CSP frame-ancestors https://*.github.io (any GitHub Pages site)',
      target: () => startHttpFixture({ flaw: 'frame-ancestors-public-suffix-wildcard' }),
      expect:
        /^CSP frame-ancestors allows any site under a public suffix \(https:\/\/\*\.github\.io\), and browsers then ignore X-Frame-Options "DENY" on 200, 401, 404, 400 responses$/,
    },
    {
      name: 'CSP frame-ancestors * and *.co.uk with no X-Frame-Options',
      target: () =>
        startMisconfiguredServer({
          headers: {
            'x-frame-options': null,
            'content-security-policy': "default-src 'self'; frame-ancestors * *.co.uk",
          },
        }),
      expect:
        /^CSP frame-ancestors allows any site \(\*\) and any site under a public suffix \(\*\.co\.uk\) on 200, 401, 404, 400 responses$/,
    },
    {
      name: 'two empty Content-Security-Policy headers',
      target: () => startMisconfiguredServer({ headers: { 'content-security-policy': ['', ''] } }),
      expect:
        /^Content-Security-Policy ", " has no fetch, document or navigation directive: it restricts nothing on 200, 401, 404, 400 responses$/,
    },
    {
      name: 'a CSP that only reports',
      target: () =>
        startMisconfiguredServer({ headers: { 'content-security-policy': 'report-uri /csp; report-to csp' } }),
      expect:
        /^Content-Security-Policy "report-uri \/csp; report-to csp" has no fetch, document or navigation directive/,
    },
    {
      name: 'HSTS max-age=31536000=0 (the value is not a number: browsers ignore the header)',
      target: () => startMisconfiguredServer({ headers: { 'strict-transport-security': 'max-age=31536000=0' } }),
      expect:
        /^Strict-Transport-Security is invalid \(its max-age value "31536000=0" is not a number of seconds\), so browsers ignore it: as good as missing on 200, 401, 404, 400 responses$/,
    },
    {
      name: 'HSTS with a half-quoted max-age',
      target: () => startMisconfiguredServer({ headers: { 'strict-transport-security': 'max-age="31536000' } }),
      expect: /^Strict-Transport-Security is invalid \(its max-age value "\\"31536000" is not a number of seconds\)/,
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
  it.each([
    ['max-age=31536000=0', 'its max-age value "31536000=0" is not a number of seconds'],
    ['max-age="31536000', 'its max-age value "\\"31536000" is not a number of seconds'],
    ['max-age=31536000"', 'its max-age value "31536000\\"" is not a number of seconds'],
    ['max-age=1e9', 'its max-age value "1e9" is not a number of seconds'],
    ['max-age; includeSubDomains', 'its max-age value "" is not a number of seconds'],
  ])('finds %s invalid: browsers ignore an HSTS header whose max-age is no delta-seconds', (value, invalid) => {
    expect(parseHsts(value)).toMatchObject({ maxAge: undefined, invalid });
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
    // A host-source whose host is `*` matches every host, whatever its scheme, port or path.
    { name: 'frame-ancestors https://*', csp: 'frame-ancestors https://*', ok: false },
    { name: 'XFO DENY with frame-ancestors *:*', xfo: 'DENY', csp: 'frame-ancestors *:*', ok: false },
    { name: 'frame-ancestors https://*:443/app', csp: 'frame-ancestors https://*:443/app', ok: false },
    { name: 'frame-ancestors with a wildcard subdomain', csp: 'frame-ancestors https://*.app.example', ok: true },
    // A wildcard directly under a public suffix matches every site anyone registers there.
    { name: 'frame-ancestors https://*.com', csp: 'frame-ancestors https://*.com', ok: false },
    { name: 'frame-ancestors *.co.uk (no scheme)', csp: 'frame-ancestors *.co.uk', ok: false },
    { name: 'frame-ancestors https://*.github.io', csp: "frame-ancestors 'self' https://*.github.io", ok: false },
    { name: 'frame-ancestors https://*.herokuapp.com', csp: 'frame-ancestors https://*.herokuapp.com', ok: false },
    {
      name: 'XFO DENY with frame-ancestors https://*.COM.:443/app',
      xfo: 'DENY',
      csp: 'frame-ancestors https://*.COM.:443/app',
      ok: false,
    },
    {
      name: 'frame-ancestors https://*.example.com (a registrable domain)',
      csp: 'frame-ancestors https://*.example.com',
      ok: true,
    },
    { name: 'frame-ancestors https://*.example.co.uk', csp: 'frame-ancestors https://*.example.co.uk', ok: true },
    {
      name: 'frame-ancestors https://*.team.github.io (a site under a private suffix)',
      csp: 'frame-ancestors https://*.team.github.io',
      ok: true,
    },
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

describe('a CSP counts only when it restricts something', () => {
  const policy = { hstsMinMaxAge: 1, hstsIncludeSubdomains: false, failOnVersionBanner: true };
  const cspFinding = (csp: string | string[]) =>
    judgeSecurityHeaders({ 'content-security-policy': csp }, policy).find(
      (finding) => finding.header === 'Content-Security-Policy',
    );
  it.each([
    [['', ''], false],
    [';', false],
    ['report-uri /csp', false],
    ['report-to csp; report-uri /csp', false],
    ['no-such-directive x', false],
    [', ;', false],
    ["default-src 'self'", true],
    ["Frame-Ancestors 'none'", true],
    ['upgrade-insecure-requests', true],
    // Every policy is enforced: one that restricts among empty ones is enough.
    [["default-src 'self'", ''], true],
  ])('%j → ok: %s', (csp, ok) => {
    expect(cspFinding(csp)?.ok).toBe(ok);
  });
  it('notes, without failing, a policy that lets scripts come from anywhere (control S3 asks for a policy)', () => {
    expect(cspFinding("default-src * 'unsafe-inline' 'unsafe-eval' data: blob:")).toMatchObject({
      ok: true,
      note: 'CSP present (not judged: scripts may come from any host (* data: blob:))',
    });
    expect(cspFinding("default-src 'self'; script-src 'self' 'unsafe-inline'")?.note).toBe(
      "CSP present (not judged: 'unsafe-inline' scripts without a nonce or hash)",
    );
    expect(cspFinding("script-src 'unsafe-inline' 'nonce-abc'")?.note).toBe('CSP present');
    expect(cspFinding("frame-ancestors 'none'")?.note).toBe(
      'CSP present (not judged: no script-src or default-src, so scripts may come from anywhere)',
    );
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
