import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import {
  couldNotVerifyPredicate,
  failingPredicate,
  HOSTILE_TEXT,
  hostilePredicate,
  passingPredicate,
  waivedPredicate,
} from '../../fixtures/evidence/predicates.js';
import { parseReportSpec, REPORT_FORMATS, ReportSpecError, reporters } from '../../src/report/index.js';
import { checkPredicate } from '../../src/report/predicate-shape.js';
import { formatDetails } from '../../src/report/text.js';
import { loadSarifValidator } from './sarif-validator.js';

const validateSarif = loadSarifValidator();

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
  suppressions?: { kind: string; status: string; justification: string }[];
  properties: { checkId: string; status: string; commit?: string };
}
interface SarifLog {
  runs: {
    tool: { driver: { rules: { id: string; help: { text: string } }[] } };
    results: SarifResult[];
  }[];
}

function sarifOf(predicate: typeof failingPredicate): SarifLog {
  return JSON.parse(reporters.sarif({ predicate })) as SarifLog;
}

describe('sarif', () => {
  const fixtures = { passingPredicate, failingPredicate, couldNotVerifyPredicate, waivedPredicate, hostilePredicate };
  for (const [name, predicate] of Object.entries(fixtures)) {
    it(`is valid against the official SARIF 2.1.0 schema: ${name}`, () => {
      const log: unknown = JSON.parse(reporters.sarif({ predicate }));
      expect(validateSarif(log)).toEqual([]);
    });
  }

  it('the schema validator rejects what is not SARIF (it is not vacuous)', () => {
    const log = sarifOf(failingPredicate) as unknown as { runs: { results: Record<string, unknown>[] }[] };
    const result = log.runs[0]?.results[0];
    if (!result) throw new Error('expected a result');
    delete result.message;
    result.level = 'critical';
    const errors = validateSarif(log);
    expect(errors.map((error) => error.message).join('; ')).toMatch(/message|allowed values/);
    expect(validateSarif({ version: '2.0.0', runs: [] }).length).toBeGreaterThan(0);
  });

  it('has one rule per control (checklist entry), whose help is the remediation', () => {
    const run = sarifOf(failingPredicate).runs[0];
    const ids = run?.tool.driver.rules.map((rule) => rule.id);
    expect(ids).toEqual(failingPredicate.checks.map((check) => check.id));
    const tls = run?.tool.driver.rules.find((rule) => rule.id === 'tls.protocols');
    expect(tls?.help.text).toContain('Set ssl_protocols TLSv1.2 TLSv1.3');
  });

  it('locates repository findings at file and line, one result each, and other failures at the checklist', () => {
    const results = sarifOf(failingPredicate).runs[0]?.results ?? [];
    const secrets = results.filter((result) => result.ruleId === 'repo.secrets');
    expect(secrets.map((result) => result.locations[0]?.physicalLocation)).toEqual([
      {
        artifactLocation: { uri: 'server/api/src/services/auth_service.py', uriBaseId: '%SRCROOT%' },
        region: { startLine: 14, startColumn: 45 },
      },
      { artifactLocation: { uri: 'deploy/.env', uriBaseId: '%SRCROOT%' }, region: { startLine: 3 } },
    ]);
    expect(secrets[1]?.properties.commit).toBe('8d4c2b1a9f0e7d6c5b4a39281706f5e4d3c2b1a0');
    const tls = results.find((result) => result.ruleId === 'tls.protocols');
    // A live-target failure points at the line of its own entry in the checklist, not at line 1.
    expect(tls?.locations[0]?.physicalLocation).toEqual({
      artifactLocation: { uri: 'checklist.yaml', uriBaseId: '%SRCROOT%' },
      region: { startLine: 14 },
    });
    expect(tls?.message.text).toMatch(/TLSv1\.1 accepted/);
    expect(tls?.level).toBe('error');
  });

  it('reports fail, error and waived (suppressed, with the reason) but never pass or skip', () => {
    const results = sarifOf(failingPredicate).runs[0]?.results ?? [];
    expect(new Set(results.map((result) => result.properties.status))).toEqual(new Set(['fail', 'error', 'waived']));
    const waived = results.find((result) => result.properties.status === 'waived');
    expect(waived?.suppressions).toEqual([
      {
        kind: 'external',
        status: 'accepted',
        justification:
          'Swagger UI behind VPN until the portal migration, change CHG-1234 (waived until 2026-12-31, UTC end of day)',
      },
    ]);
    const error = results.find((result) => result.properties.status === 'error');
    expect(error?.message.text).toMatch(/^Could not verify \[High\]: auth\.ip-block: could not read ip_blocks/);
    expect(sarifOf(passingPredicate).runs[0]?.results).toEqual([]);
  });

  it('percent-encodes paths, which stay relative to the repository top level wherever secgate ran', () => {
    // secgate ran in services/api (the repo: it verified); findings are reported from the top level already.
    const results = sarifOf({ ...hostilePredicate, target: { ...hostilePredicate.target, repo: '.' } }).runs[0]
      ?.results;
    expect(results?.[0]?.locations[0]?.physicalLocation.artifactLocation.uri).toBe('src/routes/a%20dmin%2C%3A%25.ts');
  });
});

describe('junit', () => {
  const xml = reporters.junit({ predicate: failingPredicate });

  it('has one testcase per check, with failure, error and skipped elements', () => {
    expect(xml.match(/<testcase /g)?.length).toBe(failingPredicate.checks.length);
    expect(xml).toMatch(
      /<testsuite name="secgate https:\/\/node-1\.example\.internal:8443" tests="8" failures="3" errors="1" skipped="1"/,
    );
    expect(xml).toMatch(
      /<testcase classname="secgate\.tls" name="tls\.protocols"[^>]*>\s*<failure message="TLSv1\.1 accepted \(expected refused\)" type="control-failed">/,
    );
    expect(xml).toMatch(/name="auth\.ip-block"[^>]*>\s*<error message="could not read ip_blocks/);
    expect(xml).toMatch(/name="command\.gates"[^>]*>\s*<skipped message=/);
  });

  it('reports a waived failure as passed, with the waiver in system-out', () => {
    const waived = xml.slice(xml.indexOf('name="http.docs-disabled"'));
    const testcase = waived.slice(0, waived.indexOf('</testcase>'));
    expect(testcase).not.toMatch(/<failure|<error/);
    expect(testcase).toMatch(/<system-out>[^<]*Waived until 2026-12-31 \(UTC end of day\): Swagger UI behind VPN/);
  });

  it('carries the failing evidence and the remediation in the failure body', () => {
    expect(xml).toContain(
      'ClientHello TLSv1.1\n  expected: refused\n  actual:   ServerHello TLSv1.1 ECDHE-RSA-AES128-SHA',
    );
    expect(xml).toContain('at:       deploy/.env:3 (commit 8d4c2b1a9f0e)');
    expect(xml).toContain('Fix: Set ssl_protocols TLSv1.2 TLSv1.3');
  });

  it('escapes markup and drops characters XML cannot carry', () => {
    const hostile = reporters.junit({ predicate: hostilePredicate });
    expect(hostile).not.toContain('<script>');
    expect(hostile).not.toContain('<img');
    expect(hostile).not.toContain('\u0000');
    expect(hostile).not.toContain('\u0007');
    expect(hostile).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;quotes&apos;');
    expect(hostile).toContain('\\u0000\\u0007');
  });
});

describe('markdown', () => {
  const markdown = reporters.markdown({
    predicate: failingPredicate,
    signature: { status: 'valid', keyid: 'ab'.repeat(32) },
  });

  it('starts with the verdict and the tally', () => {
    const [heading, , tally] = markdown.split('\n');
    expect(heading).toBe('## ❌ secgate: Gate failed: at least one control was observed to be broken.');
    expect(tally).toMatch(
      /^2 passed, 3 failed, 1 could not be verified, 1 waived, 1 skipped\. Target https:\/\/node-1/,
    );
    expect(markdown).toContain('Evidence signed and verified (key abababababababab…).');
  });

  it('has a table row per check and details with evidence and remediation for each noteworthy one', () => {
    for (const check of failingPredicate.checks) expect(markdown).toContain(`| ${check.id.replace(/-/g, '-')} |`);
    expect(markdown).toContain('### ❌ tls.protocols: Failed');
    expect(markdown).toContain(
      '| ClientHello TLSv1.1 | refused | ServerHello TLSv1.1 ECDHE-RSA-AES128-SHA — the server negotiated a deprecated protocol |  |',
    );
    expect(markdown).toContain(
      '**How to fix:** Set ssl\\_protocols TLSv1.2 TLSv1.3 on the reverse proxy and reload it.',
    );
    expect(markdown).toContain('> Waived until 2026-12-31 (UTC end of day): Swagger UI behind VPN');
    expect(markdown).toContain('deploy/.env:3 (commit 8d4c2b1a9f0e)');
    expect(markdown).toContain('The waiver for http.headers expired on 2026-01-31');
    expect(markdown).not.toContain('### ✅');
  });

  it('says when the evidence is unsigned', () => {
    expect(reporters.markdown({ predicate: passingPredicate, signature: { status: 'unsigned' } })).toContain(
      '**Evidence is UNSIGNED**',
    );
  });

  it('cannot be broken by evidence text: no HTML, no extra table cells', () => {
    const hostile = reporters.markdown({ predicate: hostilePredicate });
    expect(hostile).not.toMatch(/<(script|img|b|html)\b/);
    const row = hostile.split('\n').find((line) => line.startsWith('| ❌ | http.status.admin | Critical |'));
    expect(row?.replace(/\\\|/g, '').split('|').length).toBe(8);
  });
});

describe('github annotations', () => {
  const lines = reporters.github({ predicate: failingPredicate }).trimEnd().split('\n');

  it('annotates located findings at file and line, and other failures at the checklist', () => {
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^::error file=server\/api\/src\/services\/auth_service\.py,line=14,col=45,title=secgate repo\.secrets failed \(severity critical\)::No credentials/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^::error file=deploy\/\.env,line=3,title=secgate repo\.secrets failed \(severity critical\)::/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^::error file=checklist\.yaml,line=14,title=secgate tls\.protocols failed \(severity high\)::.*TLSv1\.1 accepted.*%0AFix: Set ssl_protocols/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^::error file=checklist\.yaml,line=36,title=secgate auth\.ip-block could not verify \(severity high\)::/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^::notice file=checklist\.yaml,line=29,title=secgate http\.docs-disabled waived failure \(severity medium\)::/,
      ),
    );
    expect(lines.some((line) => line.includes('tls.certificate'))).toBe(false);
  });

  it('prints nothing for a passing gate', () => {
    expect(reporters.github({ predicate: passingPredicate })).toBe('');
  });

  it('keeps each annotation on one line and escapes property separators', () => {
    const hostile = reporters.github({ predicate: hostilePredicate });
    const hostileLines = hostile.trimEnd().split('\n');
    expect(hostileLines.length).toBe(2);
    for (const line of hostileLines) expect(line).toMatch(/^::(error|notice) file=[^:]*::/);
    expect(hostileLines[0]).toContain('file=src/routes/a dmin%2C%3A%25.ts,line=7,');
    expect(hostile).not.toContain('\n::error::injected');
    expect(hostile).toContain('%0A::error::injected');
    expect(hostile).toContain('%250A');
  });
});

describe('github annotations within GitHub limits', () => {
  // 19 located findings from one check and an unverifiable control: more than the 10 errors GitHub shows.
  const [secrets, ...rest] = failingPredicate.checks.filter((check) => check.id === 'repo.secrets');
  const finding = secrets?.observations[0];
  if (!secrets || !finding || rest.length > 0) throw new Error('fixture changed');
  const many = {
    ...failingPredicate,
    checks: [
      ...failingPredicate.checks.filter((check) => check.id !== 'repo.secrets'),
      {
        ...secrets,
        observations: Array.from({ length: 19 }, (_, index) => ({
          ...finding,
          location: { path: `src/leak-${index + 1}.ts`, line: index + 1 },
        })),
      },
    ],
  };
  const lines = reporters.github({ predicate: many }).trimEnd().split('\n');
  const errors = lines.filter((line) => line.startsWith('::error '));

  it('emits at most 10 errors, controls seen broken first, the tenth naming the rest', () => {
    expect(errors).toHaveLength(10);
    // Failed controls outrank the unverifiable auth.ip-block, which is among the rest.
    expect(errors.slice(0, 9).every((line) => / failed \(severity \w+\)::/.test(line))).toBe(true);
    const last = errors[9] ?? '';
    expect(last).toMatch(
      /^::error file=checklist\.yaml,title=13 more secgate error annotations not shown::GitHub shows at most 10 error annotations per step/,
    );
    expect(last).toContain('secgate auth.ip-block could not verify (severity high) at checklist.yaml:36');
    expect(last).toContain('src/leak-19.ts:19');
    // The waived failure keeps its own notice.
    expect(lines.filter((line) => line.startsWith('::notice '))).toHaveLength(1);
  });

  it('counts exactly what it left out: 9 shown + 13 named = every error-level annotation', () => {
    // repo.secrets: 19 located findings; each other failed or unverifiable check: 1 annotation.
    const named = (errors[9] ?? '').split('::').pop()?.split('; ') ?? [];
    expect(named).toHaveLength(13);
    expect(9 + named.length).toBe(
      19 + many.checks.filter((c) => c.status === 'fail' || c.status === 'error').length - 1,
    );
  });
});

describe('parseReportSpec', () => {
  it('splits format and path at the first colon', () => {
    expect(parseReportSpec('junit:out.xml')).toEqual({ format: 'junit', path: 'out.xml' });
    expect(parseReportSpec('sarif:C:\\reports\\out.sarif')).toEqual({
      format: 'sarif',
      path: 'C:\\reports\\out.sarif',
    });
    expect(parseReportSpec('markdown:-')).toEqual({ format: 'markdown', path: '-' });
    expect(parseReportSpec('github')).toEqual({ format: 'github', path: '-' });
    expect(REPORT_FORMATS).toEqual(['junit', 'sarif', 'markdown', 'html', 'github']);
  });

  it('names the problem and the expected form', () => {
    expect(() => parseReportSpec('xml:out.xml')).toThrow(
      new ReportSpecError(
        "--report 'xml:out.xml': unknown format 'xml'; expected one of junit, sarif, markdown, html, github as format:path (e.g. junit:secgate.xml)",
      ),
    );
    expect(() => parseReportSpec('junit')).toThrow(/expected a path after 'junit:' \(e\.g\. junit:secgate\.xml/);
    expect(() => parseReportSpec('toString:x')).toThrow(/unknown format 'toString'/);
  });
});

describe('predicate shape', () => {
  it('accepts every fixture and names what is wrong with a malformed predicate', () => {
    for (const predicate of [passingPredicate, failingPredicate, hostilePredicate]) {
      expect(checkPredicate(JSON.parse(JSON.stringify(predicate))).ok).toBe(true);
    }
    const broken = { ...failingPredicate, checks: [{ ...failingPredicate.checks[0], status: '"><script>' }] };
    expect(checkPredicate(broken)).toEqual({
      ok: false,
      problem: expect.stringMatching(/^not a secgate evidence predicate at predicate\.checks\.0\.status: /),
    });
  });

  it('fixtures contain the hostile text they claim to', () => {
    expect(hostilePredicate.checks[0]?.summary).toBe(HOSTILE_TEXT);
  });
});

describe('markdown size', () => {
  it('stays under the pull-request comment limit, keeping the table whole', () => {
    const many = Array.from({ length: 400 }, (_, index) => ({
      ...failingPredicate.checks[0],
      id: `tls.protocols.${index}`,
      summary: `finding ${index} ${'x'.repeat(150)}`,
    })) as typeof failingPredicate.checks;
    const markdown = reporters.markdown({ predicate: { ...failingPredicate, checks: many } });
    const details = markdown.slice(markdown.indexOf('### Details'));
    expect(details.length).toBeLessThan(61_000);
    expect(markdown).toMatch(/… details of \d+ more checks are in the evidence file\./);
    expect(markdown).toContain('| ❌ | tls.protocols.399 |');
  });
});

describe('severity in every report', () => {
  // tls.protocols (high) failed; repo.secrets (critical) failed; auth.ip-block (high) could not verify.
  const input = { predicate: failingPredicate };

  it('shows each noteworthy control with its severity, in every format', () => {
    const text = formatDetails(failingPredicate.checks, new Chalk({ level: 0 })).join('\n');
    expect(text).toContain('FAIL tls.protocols [high] — ');
    expect(text).toContain('FAIL repo.secrets [critical] — ');
    const junit = reporters.junit(input);
    expect(junit).toMatch(/name="repo\.secrets"[^>]*>\s*<failure [^>]*>[^<]*Severity: critical/);
    expect(reporters.markdown(input)).toContain('| ❌ | repo.secrets | Critical | Failed |');
    expect(reporters.html(input)).toMatch(
      /data-check="repo\.secrets"[\s\S]*?Severity: <span class="severity">Critical<\/span>/,
    );
    expect(reporters.github(input)).toContain('title=secgate repo.secrets failed (severity critical)::');
    const sarif = JSON.parse(reporters.sarif(input)) as {
      runs: { tool: { driver: { rules: { id: string; properties: Record<string, string> }[] } } }[];
    };
    const rule = sarif.runs[0]?.tool.driver.rules.find((candidate) => candidate.id === 'repo.secrets');
    expect(rule?.properties).toMatchObject({ severity: 'critical', 'security-severity': '9.5' });
  });

  it('says "unrated" for evidence written before controls had a severity, rather than guessing', () => {
    const old = { ...failingPredicate, checks: failingPredicate.checks.map(({ severity: _, ...record }) => record) };
    expect(reporters.markdown({ predicate: old })).toContain('| ❌ | repo.secrets | Unrated | Failed |');
    const sarif = JSON.parse(reporters.sarif({ predicate: old })) as {
      runs: { tool: { driver: { rules: { properties: Record<string, string> }[] } } }[];
    };
    expect(sarif.runs[0]?.tool.driver.rules.every((rule) => !('security-severity' in rule.properties))).toBe(true);
  });
});
