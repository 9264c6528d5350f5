// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${VAR}` is literal checklist text under test
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allChecks } from '../../checks/index.js';
import { ChecklistError, formatProblem } from '../../src/engine/checklist/errors.js';
import { DEADLINE_MARGIN_MS, entryDeadline, loadChecklist, parseChecklist } from '../../src/engine/checklist/load.js';
import { sampleRegistry } from './sample-checks.js';

const FILE = '/repo/checklist.yaml';
const env = {
  DATABASE_URL: 'postgres://gate:s3cret-db-password@127.0.0.1:5432/app',
  PROBE_PASSWORD: 'probe-password-123',
};

function problemsOf(text: string, environment: Record<string, string | undefined> = env): string[] {
  try {
    parseChecklist(text, FILE, { env: environment, registry: sampleRegistry });
  } catch (error) {
    if (error instanceof ChecklistError) return error.problems.map(formatProblem);
    throw error;
  }
  throw new Error('expected the checklist to be rejected');
}

const valid = `version: 1
target:
  url: https://localhost:8443
checks:
  - check: sample.passing
`;

describe('checklist loading', () => {
  it('accepts a minimal checklist and applies defaults', () => {
    const loaded = parseChecklist(valid, FILE, { env, registry: sampleRegistry });
    expect(loaded.entries.map((entry) => entry.id)).toEqual(['sample.passing']);
    expect(loaded.entries[0]?.params).toEqual({ threshold: 5 });
    expect(loaded.checklist.target.timeout_ms).toBe(5000);
    expect(loaded.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('interpolates ${VAR} and remembers secret-looking values for redaction', () => {
    const loaded = parseChecklist(`${valid}database:\n  url: \${DATABASE_URL}\n`, FILE, {
      env,
      registry: sampleRegistry,
    });
    expect(loaded.checklist.database?.url).toBe(env.DATABASE_URL);
    expect(loaded.secretValues).toContain(env.DATABASE_URL);
  });

  it('uses ${VAR:-default} when the variable is unset or empty', () => {
    const text = valid.replace('https://localhost:8443', '${TARGET_URL:-https://localhost:9443}');
    const unset = parseChecklist(text, FILE, { env, registry: sampleRegistry });
    expect(unset.checklist.target.url).toBe('https://localhost:9443');
    const set = parseChecklist(text, FILE, { env: { TARGET_URL: 'https://gate.internal' }, registry: sampleRegistry });
    expect(set.checklist.target.url).toBe('https://gate.internal');
  });

  it('keeps $$ as a literal dollar', () => {
    const loaded = parseChecklist(valid.replace('https://localhost:8443', 'https://localhost:8443/$$x'), FILE, {
      env,
      registry: sampleRegistry,
    });
    expect(loaded.checklist.target.url).toBe('https://localhost:8443/$x');
  });

  // The table of broken checklists: each names the exact position and what was expected.
  const broken: { name: string; text: string; env?: Record<string, string | undefined>; expected: string[] }[] = [
    {
      name: 'YAML indented with a tab',
      text: 'version: 1\ntarget:\n\turl: https://x\n',
      expected: ['/repo/checklist.yaml:3:1: invalid YAML: Tabs are not allowed as indentation'],
    },
    {
      name: 'YAML with an unterminated quote',
      text: 'version: 1\ntarget:\n  url: "https://localhost:8443\nchecks: []\n',
      expected: ['/repo/checklist.yaml:5:1: invalid YAML: Missing closing "quote'],
    },
    {
      name: 'unknown top-level key with a suggestion',
      text: `${valid}waiver: []\n`,
      expected: [
        "/repo/checklist.yaml:6:1: waiver: unknown key 'waiver' (did you mean 'waivers'? expected one of: version, target, repo, database, auth, settings, checks, waivers)",
      ],
    },
    {
      name: 'unknown key inside target',
      text: 'version: 1\ntarget:\n  url: https://localhost:8443\n  ca: ./ca.pem\nchecks:\n  - check: sample.passing\n',
      expected: ["/repo/checklist.yaml:4:3: target.ca: unknown key 'ca' (did you mean 'ca_file'?"],
    },
    {
      name: 'unknown key inside a check entry',
      text: `${valid}    whith: { threshold: 3 }\n`,
      expected: ["/repo/checklist.yaml:6:5: checks[0].whith: unknown key 'whith' (did you mean 'with'?"],
    },
    {
      name: 'wrong type for version',
      text: valid.replace('version: 1', 'version: "one"'),
      expected: ["/repo/checklist.yaml:1:10: version: expected version: 1, got the string 'one'"],
    },
    {
      name: 'missing target',
      text: 'version: 1\nchecks:\n  - check: sample.passing\n',
      expected: ["/repo/checklist.yaml:1:1: target: missing required key 'target' (expected object)"],
    },
    {
      name: 'target url over plain http',
      text: valid.replace('https://localhost:8443', 'http://localhost:8443'),
      expected: [
        "/repo/checklist.yaml:3:8: target.url: expected an https:// URL, got the string 'http://localhost:8443'",
      ],
    },
    {
      name: 'unset environment variable',
      text: `${valid}database:\n  url: \${MISSING_DB_URL}\n`,
      expected: [
        '/repo/checklist.yaml:7:8: database.url: environment variable MISSING_DB_URL is not set (referenced as ${MISSING_DB_URL})',
      ],
    },
    {
      name: 'unquoted ${VAR} inside a flow mapping',
      text: `${valid}database: { url: \${DATABASE_URL} }\n`,
      expected: [
        '/repo/checklist.yaml:6:19: invalid YAML: Unexpected flow-map-start at node end (inside { }, quote values that use ${VAR}: "${VAR}")',
      ],
    },
    {
      name: 'unknown check id with suggestion',
      text: valid.replace('sample.passing', 'sample.pasing'),
      expected: [
        "/repo/checklist.yaml:5:12: checks[0].check: unknown check 'sample.pasing'; did you mean 'sample.passing'? (secgate list shows them all)",
      ],
    },
    {
      name: 'duplicate check ids',
      text: `${valid}  - check: sample.passing\n`,
      expected: [
        "/repo/checklist.yaml:6:12: checks[1]: duplicate id 'sample.passing' (first used by checks[0]); give one of them a distinct 'id:'",
      ],
    },
    {
      name: 'duplicate YAML keys',
      text: valid.replace('target:', 'version: 1\ntarget:'),
      expected: ['/repo/checklist.yaml:2:1: duplicate key: each key may appear only once in a mapping'],
    },
    {
      name: 'check params of the wrong type',
      text: `${valid}    with: { threshold: "five" }\n`,
      expected: ["/repo/checklist.yaml:6:24: checks[0].with.threshold: expected number, got the string 'five'"],
    },
    {
      name: 'unknown check param',
      text: `${valid}    with: { treshold: 3 }\n`,
      expected: [
        "/repo/checklist.yaml:6:13: checks[0].with.treshold: unknown key 'treshold' (did you mean 'threshold'?",
      ],
    },
    {
      name: 'waiver without reason',
      text: `${valid}waivers:\n  - check: sample.passing\n    expires: 2026-12-31\n`,
      expected: ["/repo/checklist.yaml:7:5: waivers[0].reason: missing required key 'reason' (expected string)"],
    },
    {
      name: 'waiver with an impossible date',
      text: `${valid}waivers:\n  - check: sample.passing\n    reason: CSP rollout, change CHG-1234\n    expires: 2026-02-30\n`,
      expected: [
        "/repo/checklist.yaml:9:14: waivers[0].expires: '2026-02-30' is not a calendar date; expected YYYY-MM-DD (UTC)",
      ],
    },
    {
      name: 'waiver with a badly formatted date',
      text: `${valid}waivers:\n  - check: sample.passing\n    reason: CSP rollout, change CHG-1234\n    expires: 31/12/2026\n`,
      expected: [
        "/repo/checklist.yaml:9:14: waivers[0].expires: expected a date as YYYY-MM-DD (UTC), got the string '31/12/2026'",
      ],
    },
    {
      name: 'waiver for a check that is not in the checklist',
      text: `${valid}waivers:\n  - check: sample.failing\n    reason: CSP rollout, change CHG-1234\n    expires: 2026-12-31\n`,
      expected: [
        "/repo/checklist.yaml:7:12: waivers[0].check: waiver names 'sample.failing', which is not a check in this checklist",
      ],
    },
    {
      name: 'no checks at all',
      text: 'version: 1\ntarget:\n  url: https://localhost:8443\nchecks: []\n',
      expected: ['/repo/checklist.yaml:4:9: checks: expected at least one check, got a list'],
    },
    {
      name: 'document is a list',
      text: '- version: 1\n',
      expected: ['/repo/checklist.yaml:1:1: expected a mapping with version, target and checks'],
    },
  ];

  for (const testCase of broken) {
    it(`rejects: ${testCase.name}`, () => {
      const problems = problemsOf(testCase.text, testCase.env ?? env);
      for (const expected of testCase.expected) {
        expect(
          problems.some((problem) => problem.startsWith(expected)),
          `expected a problem starting with\n  ${expected}\ngot\n  ${problems.join('\n  ')}`,
        ).toBe(true);
      }
    });
  }

  it('never echoes a value that came from the environment', () => {
    const problems = problemsOf(`${valid}database:\n  url: \${DATABASE_URL}\n`, {
      DATABASE_URL: 'host=db user=app password=Sup3rS3cretPassw0rd',
    });
    expect(problems.join('\n')).toContain('got a value from the environment (not shown)');
    expect(problems.join('\n')).not.toContain('Sup3r');
  });

  it('never shows the credentials of a URL written into the checklist', () => {
    const problems = problemsOf(valid.replace('https://localhost:8443', 'http://deploy:Hunter2-inline@localhost:8443'));
    expect(problems.join('\n')).toContain("got the string 'http://***@localhost:8443'");
    expect(problems.join('\n')).not.toContain('Hunter2');
  });

  it('never shows a secret value in an error', () => {
    const problems = problemsOf(`${valid}database:\n  url: \${DATABASE_URL}\n  extra: 1\n`);
    expect(problems.join('\n')).not.toContain('s3cret-db-password');
  });
});

describe('what a check needs from the checklist (requires), verified at load', () => {
  const problemsWith = (text: string) => {
    try {
      parseChecklist(text, FILE, { env: {}, registry: allChecks });
    } catch (error) {
      if (error instanceof ChecklistError) return error.problems.map(formatProblem);
      throw error;
    }
    return [];
  };
  const head = 'version: 1\ntarget:\n  url: https://localhost:8443\n';

  it('names each entry that needs a section the checklist does not set (exit 2, not an error while probing)', () => {
    expect(
      problemsWith(
        `${head}checks:\n  - check: http.redirect\n  - check: auth.lockout\n    with: { account: no_mfa_account }\n`,
      ),
    ).toEqual([
      '/repo/checklist.yaml:5:12: checks[0]: http.redirect needs target.http_url in the checklist, which does not set it',
      '/repo/checklist.yaml:6:12: checks[1]: auth.lockout needs auth.no_mfa_account in the checklist, which does not set it',
      '/repo/checklist.yaml:6:12: checks[1]: auth.lockout needs database in the checklist, which does not set it',
    ]);
  });

  it('names an environment variable a parameter points to when it is not set, and a promise it cannot keep', () => {
    const probeAccount = 'auth:\n  probe_account: { username: probe, password: probe-password-123 }\n';
    expect(
      problemsWith(
        `${head}${probeAccount}checks:\n  - check: auth.token-validation\n    with: { signing_key_env: STAGING_JWT_KEY }\n`,
      ),
    ).toEqual([
      '/repo/checklist.yaml:7:12: checks[0]: auth.token-validation needs the environment variable STAGING_JWT_KEY (named in its with:), which is not set',
    ]);
    expect(problemsWith(`${head}${probeAccount}checks:\n  - check: auth.token-validation\n`)).toEqual([
      expect.stringMatching(
        /^\/repo\/checklist\.yaml:\d+:\d+: checks\[0\]\.with\.prove_expiry: expiry can only be proven with the signing key/,
      ),
    ]);
  });

  it('refuses an argv array with shell: true at its shell key (the shell would lose the argv quoting)', () => {
    expect(
      problemsWith(
        `${head}checks:\n  - check: command.run\n    with:\n      name: lint\n      command: [sh, -c, "exit 1"]\n      shell: true\n`,
      ),
    ).toEqual([
      '/repo/checklist.yaml:9:14: checks[0].with.shell: shell: true needs command as one string; an argv array runs without a shell (its words would be joined and lose their quoting): drop shell: true, or write command as a string, got boolean true',
    ]);
  });

  it('loads a check whose optional variables (env?:) are unset: the check judges them itself', () => {
    // repo.secret-strength fails on an unset secret (a finding), so the checklist still loads without it.
    expect(
      problemsWith(`${head}checks:\n  - check: repo.secret-strength\n    with: { names: [UNSET_SECRET] }\n`),
    ).toEqual([]);
  });

  const database = 'database:\n  url: postgres://postgres@127.0.0.1:5432/test\n';
  it('loads auth.failure-events whose signing key is unset: expired_token can age a session instead (env?:)', () => {
    const accounts =
      'auth:\n  probe_account: { username: probe, password: probe-password-123 }\n' +
      '  no_mfa_account: { username: nomfa, password: nomfa-password-123 }\n';
    expect(
      problemsWith(
        `${head}${database}${accounts}checks:\n  - check: auth.failure-events\n    with: { signing_key_env: STAGING_JWT_KEY }\n`,
      ),
    ).toEqual([]);
  });

  it.each([['an entry id', 'checks:\n  - check: tls.protocols\n    id: secgate.cleanup\n', "'secgate.cleanup'"]])(
    "refuses %s in the gate's own secgate. namespace (its records in the evidence)",
    (_what, checks, quoted) => {
      expect(problemsWith(`${head}${checks}`)).toEqual([
        expect.stringContaining(`${quoted}: ids starting with secgate. are the gate's own records; choose another`),
      ]);
    },
  );

  it('names an account a check is given that the checklist does not define', () => {
    const lockout = 'checks:\n  - check: auth.lockout\n    with: { account: lockout_probe }\n';
    expect(problemsWith(`${head}${database}${lockout}`)).toEqual([
      '/repo/checklist.yaml:7:12: checks[0]: auth.lockout needs auth.accounts.lockout_probe in the checklist, which does not set it',
    ]);
    const accounts =
      'auth:\n  accounts:\n    lockout_probe: { username: lockout-probe, password: lockout-password-123 }\n';
    expect(problemsWith(`${head}${database}${accounts}${lockout}`)).toEqual([]);
  });

  it('accepts the same entries once the checklist provides what they need', () => {
    const complete =
      'version: 1\ntarget:\n  url: https://localhost:8443\n  http_url: http://localhost:8080\n' +
      'database:\n  url: postgres://postgres@127.0.0.1:5432/test\n' +
      'auth:\n  no_mfa_account: { username: nomfa, password: nomfa-password-123 }\n' +
      'checks:\n  - check: http.redirect\n  - check: auth.lockout\n    with: { account: no_mfa_account }\n';
    expect(problemsWith(complete)).toEqual([]);
  });
});

describe('the checklist digest in the evidence', () => {
  it('is the sha256 of the file bytes as stored, even bytes that are not valid UTF-8', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'secgate-digest-'));
    const file = path.join(directory, 'checklist.yaml');
    // A Latin-1 "é" in a comment: decoding turns it into U+FFFD, which a digest of the text would hide.
    const bytes = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from(`\n${valid}`)]);
    await writeFile(file, bytes);
    const loaded = await loadChecklist(file, { env: {}, registry: sampleRegistry });
    expect(loaded.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(loaded.sha256).not.toBe(createHash('sha256').update(bytes.toString('utf8')).digest('hex'));
  });
});

describe('hostile or mistaken checklists are refused at load, with a location', () => {
  const bomb = `version: 1
target:
  url: https://localhost:8443
checks:
  - check: sample.passing
laughs:
  a: &a [x, x, x, x, x, x, x, x, x]
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
  e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]
`;

  it('an alias bomb is a checklist error at its first alias, not an internal error', () => {
    expect(problemsOf(bomb)).toEqual([
      '/repo/checklist.yaml:8:10: YAML aliases expand to too much data (more than 100 expansions): reuse a few mappings at most',
    ]);
  });

  it('a few aliases reusing a mapping are fine', () => {
    const text = `${valid}  - check: sample.failing\n    with: &same { threshold: 3 }\n  - check: sample.locking\n    with: *same\n`;
    expect(() => parseChecklist(text, FILE, { env, registry: sampleRegistry })).toThrow(/unknown key 'threshold'/);
  });

  it('a checklist over 1 MiB is refused without being read further', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'secgate-huge-'));
    const file = path.join(directory, 'checklist.yaml');
    const entry = '  - check: sample.passing\n    id: sample.passing.x\n';
    await writeFile(file, `${valid}${entry.repeat(Math.ceil((1024 * 1024) / entry.length) + 1)}`);
    const error = await loadChecklist(file, { env: {}, registry: sampleRegistry }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ChecklistError);
    expect(error instanceof ChecklistError && error.problems.map(formatProblem)).toEqual([
      `${file}:1:1: the checklist is larger than 1 MiB; it was not read further (is this the right file?)`,
    ]);
  });

  it('lists the first 20 problems of a checklist full of them, and counts the rest', () => {
    const text = `${valid}${Array.from({ length: 30 }, (_, index) => `  - check: sample.nope${index}\n`).join('')}`;
    const problems = problemsOf(text);
    expect(problems).toHaveLength(21);
    expect(problems[20]).toMatch(/: … and 10 more problems$/);
  });
});

describe('files the checklist names are checked at load', () => {
  async function named(body: string, files: Record<string, string>) {
    const directory = await mkdtemp(path.join(tmpdir(), 'secgate-named-'));
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(directory, name), content);
    const file = path.join(directory, 'checklist.yaml');
    await writeFile(file, body);
    try {
      await loadChecklist(file, { env: {}, registry: allChecks });
    } catch (error) {
      if (error instanceof ChecklistError) return { file, problems: error.problems.map(formatProblem) };
      throw error;
    }
    return { file, problems: [] };
  }
  const unixAccounts = 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n';

  it('a trust anchor that is not PEM is exit 2 at target.ca_file', async () => {
    const { file, problems } = await named(
      'version: 1\ntarget:\n  url: https://localhost:8443\n  ca_file: ca.crt\nchecks:\n  - check: http.status\n',
      { 'ca.crt': 'this is not a certificate\n' },
    );
    expect(problems).toEqual([
      `${file}:4:12: target.ca_file: ca.crt: expected PEM certificates (-----BEGIN CERTIFICATE-----), found none`,
    ]);
  });

  it('a trust anchor that does not exist is exit 2 too', async () => {
    const { problems } = await named(
      'version: 1\ntarget:\n  url: https://localhost:8443\n  ca_file: missing.crt\nchecks:\n  - check: http.status\n',
      {},
    );
    expect(problems).toEqual([
      expect.stringMatching(/:4:12: target\.ca_file: missing\.crt: cannot be read \(ENOENT\)$/),
    ]);
  });

  it('a baseline that is not JSON is exit 2 at its key, and not one byte of it is echoed', async () => {
    const { file, problems } = await named(
      'version: 1\ntarget:\n  url: https://localhost:8443\nchecks:\n  - check: repo.history\n    with:\n      baseline: accounts\n',
      { accounts: unixAccounts },
    );
    expect(problems).toEqual([
      `${file}:7:17: checks[0].with.baseline: accounts: expected a JSON baseline ([{ "fingerprint": …, "reason": … }]); the file is not JSON`,
    ]);
    expect(problems.join('\n')).not.toContain('root');
  });

  it('a JSON file that is not a baseline is named by where its shape is wrong, without its values', async () => {
    const { problems } = await named(
      'version: 1\ntarget:\n  url: https://localhost:8443\nchecks:\n  - check: repo.committed-secrets\n    with: { baseline: other.json }\n',
      { 'other.json': JSON.stringify([{ fingerprint: 'root:x:0:0', reason: 'not a fingerprint' }]) },
    );
    expect(problems).toEqual([
      expect.stringMatching(/checks\[0\]\.with\.baseline: other\.json: not a findings baseline/),
    ]);
    expect(problems.join('\n')).not.toContain('root:x');
  });
});

describe('severity and where each entry lives', () => {
  const twoEntries = `version: 1
target:
  url: https://localhost:8443
checks:
  - check: sample.passing

  - check: sample.failing
    severity: low
`;

  it("records the line of each entry and an entry's own severity", () => {
    const loaded = parseChecklist(twoEntries, FILE, { env, registry: sampleRegistry });
    expect(loaded.entries.map((entry) => [entry.id, entry.line, entry.severity])).toEqual([
      ['sample.passing', 5, undefined],
      ['sample.failing', 7, 'low'],
    ]);
  });

  it('refuses a severity that is not one of critical, high, medium, low, at its line', () => {
    expect(problemsOf(twoEntries.replace('severity: low', 'severity: urgent'))).toEqual([
      "/repo/checklist.yaml:8:15: checks[1].severity: expected one of critical, high, medium, low, got the string 'urgent'",
    ]);
  });

  it('every built-in check declares its severity', () => {
    expect(allChecks.filter((check) => check.severity === undefined).map((check) => check.id)).toEqual([]);
  });
});

describe("an entry's deadline and the check's own limits", () => {
  const commandEntry = (extra: string) => `version: 1
target:
  url: https://localhost:8443
checks:
  - check: command.run
${extra}    with:
      name: tests
      command: [node, -e, "0"]
      timeout_ms: 300000
`;

  it.each([
    { name: 'an entry deadline given wins', entryMs: 90_000, settingsMs: 60_000, ownMs: 80_000, deadline: 90_000 },
    { name: 'no own limits: the settings', entryMs: undefined, settingsMs: 60_000, ownMs: undefined, deadline: 60_000 },
    { name: 'own limits past the settings', entryMs: undefined, settingsMs: 60_000, ownMs: 305_000, deadline: 315_000 },
    { name: 'own limits well inside', entryMs: undefined, settingsMs: 60_000, ownMs: 6_000, deadline: 60_000 },
  ])('$name', ({ entryMs, settingsMs, ownMs, deadline }) => {
    expect(entryDeadline(entryMs, settingsMs, ownMs)).toBe(deadline);
  });

  it('gives a command.run entry its own timeout_ms and grace, not check_timeout_ms', () => {
    const loaded = parseChecklist(commandEntry(''), FILE, { env, registry: allChecks });
    // 300000 ms to run, 5000 ms between SIGTERM and SIGKILL, then the margin for the evidence.
    expect(loaded.entries[0]?.timeoutMs).toBe(300_000 + 5_000 + DEADLINE_MARGIN_MS);
  });

  it('refuses an entry timeout_ms that would end the command before its own limits', () => {
    let problems: string[] = [];
    try {
      parseChecklist(commandEntry('    timeout_ms: 60000\n'), FILE, { env, registry: allChecks });
    } catch (error) {
      if (!(error instanceof ChecklistError)) throw error;
      problems = error.problems.map(formatProblem);
    }
    expect(problems).toEqual([
      expect.stringMatching(
        /checklist\.yaml:6:17: checks\[0\]\.timeout_ms: 60000 ms ends the check before its own limits can \(305000 ms by its parameters/,
      ),
    ]);
  });
});
