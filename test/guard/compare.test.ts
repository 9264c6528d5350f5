// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${VAR}` is literal checklist text under test
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allChecks } from '../../checks/index.js';
import { type CheckDefinition, defineCheck, type Strength } from '../../src/engine/types.js';
import {
  BASELINE_CHECK_ID,
  baselineOutcome,
  type ComparableChecklist,
  compareChecklists,
  parseComparableChecklist,
} from '../../src/guard/index.js';

const BASE_YAML = `
version: 1
target: { url: https://localhost:8443 }
database:
  url: \${DATABASE_URL}
checks:
  - check: tls.protocols
    with: { minimum: TLSv1.2 }
  - check: http.headers
    with: { hsts_min_max_age: 31536000, hsts_include_subdomains: true }
  - check: auth.lockout
    with: { attempts: 5 }
  - check: http.status
    id: http.status.health
    with: { path: /health, status: 200 }
  - check: repo.history
    with: { include_unreachable: true }
  - check: http.redirect
    with: { paths: [/, /health], allowed_hosts: [] }
  - check: command.run
    id: command.run.lint
    with: { name: lint, command: [node, lint.js] }
waivers:
  - check: http.status.health
    reason: health endpoint moves in CHG-42
    expires: 2026-12-01
`;

/** The built-in checks: each declares which way its parameters are stronger. */
const builtIn = { registry: allChecks };

const base = parseComparableChecklist(BASE_YAML, 'checklist.yaml at origin/main');

function edit(change: (checklist: ComparableChecklist) => void): ComparableChecklist {
  const copy = structuredClone(base);
  change(copy);
  return copy;
}

function withParams(checklist: ComparableChecklist, id: string, params: Record<string, unknown>): void {
  const entry = checklist.checks.find((candidate) => (candidate.id ?? candidate.check) === id);
  if (!entry) throw new Error(`no entry ${id}`);
  entry.with = { ...entry.with, ...params };
}

/** auth.lockout as the registry knows it: 10 attempts by default, severity high. */
const lockout = defineCheck({
  id: 'auth.lockout',
  title: 'Repeated wrong passwords lock the account',
  source: 'seed 002, checklist item 6',
  remediation: 'Lock the account after N failures.',
  effects: 'locks-account',
  severity: 'high',
  params: z.object({ attempts: z.number().int().default(10) }).strict(),
  strength: { attempts: 'lower' },
  async run() {
    return { status: 'pass', summary: 'unused', observations: [] };
  },
});

describe('compareChecklists', () => {
  it('finds nothing when the checklist is unchanged or proven stricter', () => {
    expect(compareChecklists(base, base, builtIn)).toEqual({ changes: [], weakenings: [] });
    const stricter = edit((checklist) => {
      withParams(checklist, 'tls.protocols', { minimum: 'TLSv1.3' });
      withParams(checklist, 'auth.lockout', { attempts: 3 });
      withParams(checklist, 'http.headers', { hsts_min_max_age: 63072000 });
      withParams(checklist, 'http.redirect', { paths: ['/', '/health', '/login'] });
      checklist.checks.push({ check: 'auth.ip-block' });
      checklist.waivers = [];
    });
    expect(compareChecklists(base, stricter, builtIn).weakenings).toEqual([]);
  });

  it('reports a removed check', () => {
    const head = edit((checklist) => {
      checklist.checks = checklist.checks.filter((entry) => entry.check !== 'auth.lockout');
    });
    expect(compareChecklists(base, head, builtIn).weakenings).toEqual([
      expect.objectContaining({
        kind: 'check-removed',
        entry: 'auth.lockout',
        message: 'auth.lockout: check auth.lockout removed from the checklist',
      }),
    ]);
  });

  it('reports an id that now runs a different check as removed', () => {
    const head = edit((checklist) => {
      const entry = checklist.checks.find((candidate) => candidate.id === 'http.status.health');
      if (entry) entry.check = 'http.redirect';
    });
    expect(compareChecklists(base, head, builtIn).weakenings[0]?.message).toBe(
      'http.status.health: check http.status removed from the checklist (the id now runs http.redirect instead of http.status)',
    );
  });

  it.each([
    ['auth.lockout', 'attempts', 10, "auth.lockout: 'attempts' loosened from 5 to 10"],
    ['http.headers', 'hsts_min_max_age', 86400, "http.headers: 'hsts_min_max_age' loosened from 31536000 to 86400"],
    [
      'http.headers',
      'hsts_include_subdomains',
      false,
      "http.headers: 'hsts_include_subdomains' loosened from true to false",
    ],
    ['repo.history', 'include_unreachable', false, "repo.history: 'include_unreachable' loosened from true to false"],
    ['http.redirect', 'paths', ['/'], `http.redirect: 'paths' loosened from ["/","/health"] to ["/"]`],
    [
      'http.redirect',
      'allowed_hosts',
      ['cdn.example'],
      `http.redirect: 'allowed_hosts' loosened from [] to ["cdn.example"]`,
    ],
  ])('reports %s %s loosened', (id, param, value, message) => {
    const head = edit((checklist) => withParams(checklist, id, { [param]: value }));
    expect(compareChecklists(base, head, builtIn).weakenings).toEqual([
      expect.objectContaining({ kind: 'threshold-loosened', entry: id, param, blocking: true, message }),
    ]);
  });

  it('reports the TLS minimum lowered, and accepts it raised', () => {
    const raised = edit((checklist) => withParams(checklist, 'tls.protocols', { minimum: 'TLSv1.3' }));
    expect(compareChecklists(raised, base, builtIn).weakenings).toEqual([
      expect.objectContaining({
        kind: 'threshold-loosened',
        message: `tls.protocols: 'minimum' loosened from "TLSv1.3" to "TLSv1.2"`,
      }),
    ]);
    expect(compareChecklists(base, raised, builtIn).weakenings).toEqual([]);
  });

  it('blocks arguments added to a command: a longer argv is not a stronger one', () => {
    const head = edit((checklist) =>
      withParams(checklist, 'command.run.lint', { command: ['node', '-e', 'process.exit(0)', 'lint.js'] }),
    );
    expect(compareChecklists(base, head, builtIn).weakenings).toEqual([
      expect.objectContaining({
        kind: 'param-changed',
        entry: 'command.run.lint',
        param: 'command',
        blocking: true,
        message: `command.run.lint: 'command' changed from ["node","lint.js"] to ["node","-e","process.exit(0)","lint.js"], which secgate cannot prove stronger; treated as a weakening`,
      }),
    ]);
  });

  it('blocks a changed expected status, in either direction', () => {
    for (const status of [503, 204]) {
      const head = edit((checklist) => withParams(checklist, 'http.status.health', { status }));
      expect(compareChecklists(base, head, builtIn).weakenings).toEqual([
        expect.objectContaining({ kind: 'param-changed', param: 'status', before: 200, after: status, blocking: true }),
      ]);
    }
  });

  it('fails closed on a parameter its check declares no direction for', () => {
    const head = edit((checklist) => withParams(checklist, 'auth.lockout', { window_seconds: 60 }));
    const headChanged = edit((checklist) => withParams(checklist, 'auth.lockout', { window_seconds: 30 }));
    const [weakening] = compareChecklists(head, headChanged, builtIn).weakenings;
    expect(weakening?.message).toBe(
      "auth.lockout: 'window_seconds' changed from 60 to 30, which secgate cannot prove stronger; treated as a weakening",
    );
  });

  it('fails closed on a change it cannot judge, such as a probed path moved elsewhere', () => {
    const head = edit((checklist) => withParams(checklist, 'http.status.health', { path: '/healthz' }));
    const comparison = compareChecklists(base, head, builtIn);
    expect(comparison.weakenings).toEqual([
      expect.objectContaining({
        kind: 'param-changed',
        blocking: true,
        message: `http.status.health: 'path' changed from "/health" to "/healthz", which secgate cannot prove stronger; treated as a weakening`,
      }),
    ]);
  });

  it('blocks a longer deadline for an entry, and accepts a shorter one', () => {
    const longer = edit((checklist) => {
      const entry = checklist.checks.find((candidate) => candidate.check === 'auth.lockout');
      if (entry) entry.timeout_ms = 600_000;
    });
    const withDeadline = edit((checklist) => {
      const entry = checklist.checks.find((candidate) => candidate.check === 'auth.lockout');
      if (entry) entry.timeout_ms = 60_000;
    });
    expect(compareChecklists(withDeadline, longer, builtIn).weakenings.map((change) => change.message)).toEqual([
      'auth.lockout: timeout_ms loosened from 60000 to 600000',
    ]);
    expect(compareChecklists(longer, withDeadline, builtIn).weakenings).toEqual([]);
  });

  it("blocks an entry's severity lowered (the check's own counts when the entry sets none), accepts it raised", () => {
    const rated = (severity: 'critical' | 'medium') =>
      edit((checklist) => {
        const entry = checklist.checks.find((candidate) => candidate.check === 'auth.lockout');
        if (entry) entry.severity = severity;
      });
    const registry = { registry: [lockout] };
    expect(compareChecklists(base, rated('medium'), registry).weakenings.map((change) => change.message)).toEqual([
      'auth.lockout: severity loosened from "high" to "medium"',
    ]);
    expect(compareChecklists(base, rated('critical'), registry).weakenings).toEqual([]);
    expect(compareChecklists(rated('critical'), base, registry).weakenings.map((change) => change.message)).toEqual([
      'auth.lockout: severity loosened from "critical" to "high"',
    ]);
  });

  it('treats a wider list of accepted answers as weaker', () => {
    const head = edit((checklist) => withParams(checklist, 'http.redirect', { statuses: [301, 302, 308] }));
    const based = edit((checklist) => withParams(checklist, 'http.redirect', { statuses: [301, 308] }));
    expect(compareChecklists(based, head, builtIn).weakenings.map((change) => change.message)).toEqual([
      `http.redirect: 'statuses' loosened from [301,308] to [301,302,308]`,
    ]);
    expect(compareChecklists(head, based, builtIn).weakenings).toEqual([]);
  });

  it('reports waivers added or extended, but not one that accepts the weakening itself', () => {
    const head = edit((checklist) => {
      checklist.waivers = [
        { check: 'http.status.health', reason: 'health endpoint moves in CHG-42', expires: '2027-06-01' },
        { check: 'tls.protocols', reason: 'legacy client until Q3, CHG-77', expires: '2026-09-30' },
        { check: BASELINE_CHECK_ID, reason: 'lockout relaxed for load test, CHG-90', expires: '2026-12-31' },
      ];
    });
    expect(compareChecklists(base, head, builtIn).weakenings.map((change) => change.message)).toEqual([
      'http.status.health: waiver extended from 2026-12-01 to 2027-06-01 (health endpoint moves in CHG-42)',
      'tls.protocols: waiver added until 2026-09-30 (legacy client until Q3, CHG-77)',
    ]);
  });

  it('with the registry, dropping a parameter compares against the check default', () => {
    const head = edit((checklist) => {
      const entry = checklist.checks.find((candidate) => candidate.check === 'auth.lockout');
      if (entry) delete entry.with;
    });
    expect(compareChecklists(base, head, { registry: [lockout] }).weakenings[0]?.message).toBe(
      "auth.lockout: 'attempts' loosened from 5 to 10",
    );
    // A check the registry does not know has no defaults and no directions: a vanished number fails closed.
    expect(compareChecklists(base, head, { registry: [] }).weakenings[0]?.message).toMatch(
      /'attempts' changed from 5 to \(not set\).*treated as a weakening/,
    );
  });
});

describe('compareChecklists: what the checks verify (scope)', () => {
  const withScope = (yaml: string) => parseComparableChecklist(yaml, 'checklist.yaml');
  const cases: { name: string; from: string; to: string; blocking: boolean; message: RegExp }[] = [
    {
      name: 'the target moved to another service',
      from: 'https://localhost:8443',
      to: 'https://staging.invalid',
      blocking: true,
      message: /^target\.url changed from "https:\/\/localhost:8443" to "https:\/\/staging\.invalid": the checks/,
    },
    {
      name: 'the database pointed elsewhere',
      from: 'url: ${DATABASE_URL}',
      to: 'url: postgres://fake@127.0.0.1/empty',
      blocking: true,
      message: /^database\.url changed/,
    },
  ];
  it.each(cases.map((testCase) => [testCase.name, testCase] as const))('%s', (_name, testCase) => {
    const head = withScope(BASE_YAML.replace(testCase.from, testCase.to));
    const [change] = compareChecklists(base, head, builtIn).changes;
    expect(change?.kind).toBe('scope-changed');
    expect(change?.blocking).toBe(testCase.blocking);
    expect(change?.message).toMatch(testCase.message);
  });

  it('blocks auth tables, repo and settings changed, and compares ${VAR} as written', () => {
    const head = withScope(
      `${BASE_YAML}repo: ./elsewhere\nauth:\n  tables: { ip_blocks: fake_blocks }\nsettings: { concurrency: 2 }\n`,
    );
    const changes = compareChecklists(base, head, builtIn).changes;
    expect(changes.map((change) => [change.entry, change.blocking])).toEqual([
      ['auth.tables.ip_blocks', true],
      ['repo', true],
      ['settings.concurrency', true],
    ]);
    // The environment is not consulted: the same text is the same scope, whatever DATABASE_URL holds.
    expect(compareChecklists(base, withScope(BASE_YAML), builtIn).changes).toEqual([]);
  });

  it('never shows the value of a credential-looking key', () => {
    const head = withScope(
      BASE_YAML.replace('url: ${DATABASE_URL}', 'url: ${DATABASE_URL}\n  password: hunter2-secret'),
    );
    const [change] = compareChecklists(base, head, builtIn).changes;
    expect(change?.entry).toBe('database.password');
    expect(change?.message).not.toContain('hunter2');
    expect(JSON.stringify(change)).not.toContain('hunter2');
  });

  it('never shows the password inside a URL, and still blocks the change', () => {
    const head = withScope(BASE_YAML.replace('url: ${DATABASE_URL}', 'url: postgres://app:hunter2-secret@db/app'));
    const [change] = compareChecklists(base, head, builtIn).changes;
    expect(change?.entry).toBe('database.url');
    expect(change?.blocking).toBe(true);
    expect(change?.message).toContain('postgres://***@db/app');
    expect(JSON.stringify(change)).not.toContain('hunter2');
  });

  it('accepts a shorter probe deadline and blocks a longer one', () => {
    const shorter = withScope(
      BASE_YAML.replace('url: https://localhost:8443 }', 'url: https://localhost:8443, timeout_ms: 2000 }'),
    );
    const longer = withScope(
      BASE_YAML.replace('url: https://localhost:8443 }', 'url: https://localhost:8443, timeout_ms: 9000 }'),
    );
    expect(compareChecklists(longer, shorter, builtIn).changes).toEqual([]);
    expect(compareChecklists(shorter, longer, builtIn).weakenings.map((change) => change.entry)).toEqual([
      'target.timeout_ms',
    ]);
  });

  it('without the text as written on one side (no scope), compares checks and waivers only', () => {
    const { scope: _scope, ...withoutScope } = withScope(BASE_YAML.replace('localhost:8443', 'other:1'));
    expect(compareChecklists(base, withoutScope, builtIn).changes).toEqual([]);
  });
});

describe('baselineOutcome', () => {
  const input = {
    ref: 'origin/main',
    checklistPath: 'checklist.yaml',
    baseSha256: 'a'.repeat(64),
    headSha256: 'b'.repeat(64),
  };

  it('fails naming every weakening, each as a failing observation at the checklist', () => {
    const head = edit((checklist) => {
      withParams(checklist, 'auth.lockout', { attempts: 50 });
      checklist.checks = checklist.checks.filter((entry) => entry.check !== 'repo.history');
    });
    const outcome = baselineOutcome({ ...input, comparison: compareChecklists(base, head, builtIn) });
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(
      "2 weakenings against origin/main: auth.lockout: 'attempts' loosened from 5 to 50; repo.history: check repo.history removed from the checklist",
    );
    expect(outcome.observations.filter((observation) => observation.ok === false)).toEqual([
      expect.objectContaining({ ok: false }),
      expect.objectContaining({
        probe: 'threshold-loosened auth.lockout.with.attempts',
        expected: 5,
        actual: 50,
        location: { path: 'checklist.yaml' },
      }),
      expect.objectContaining({ probe: 'check-removed repo.history', ok: false }),
    ]);
  });

  it('passes with evidence of both digests when nothing weakened', () => {
    const outcome = baselineOutcome({ ...input, comparison: compareChecklists(base, base, builtIn) });
    expect(outcome.status).toBe('pass');
    expect(outcome.observations[0]?.actual).toEqual({
      baseSha256: 'a'.repeat(64),
      headSha256: 'b'.repeat(64),
      changes: 0,
    });
  });
});

describe('parseComparableChecklist', () => {
  it('reads checks and waivers without needing the environment', () => {
    expect(base.checks.map((entry) => entry.id ?? entry.check)).toEqual([
      'tls.protocols',
      'http.headers',
      'auth.lockout',
      'http.status.health',
      'repo.history',
      'http.redirect',
      'command.run.lint',
    ]);
  });

  it('names what is wrong with a malformed base checklist', () => {
    expect(() => parseComparableChecklist('checks: [ {check: 1} ]', 'checklist.yaml at origin/main')).toThrow(
      /^checklist\.yaml at origin\/main: checks\.0\.check: /,
    );
    expect(() => parseComparableChecklist('checks: [', 'base')).toThrow(/^base is not valid YAML/);
  });
});

describe("the checks' strength metadata", () => {
  type Property = { type?: string | string[]; enum?: unknown[]; anyOf?: Property[] };
  const propertiesOf = (check: CheckDefinition): Record<string, Property> =>
    (z.toJSONSchema(check.params, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, Property> })
      .properties ?? {};
  /** What a parameter must be for a direction to mean anything: a typo or a wrong kind would block or allow silently. */
  const fits = (strength: Strength, property: Property): boolean => {
    if (typeof strength !== 'string') return (property.enum ?? []).every((value) => strength.includes(String(value)));
    if (strength === 'higher' || strength === 'lower') return property.type === 'number' || property.type === 'integer';
    if (strength === 'requirement' || strength === 'exception') return property.type === 'boolean';
    return property.type === 'array';
  };

  it.each(allChecks.filter((check) => check.strength).map((check) => [check.id, check] as const))(
    '%s declares directions only for its own parameters, each of a kind that has one',
    (_id, check) => {
      const properties = propertiesOf(check);
      for (const [name, strength] of Object.entries(check.strength ?? {})) {
        const property = properties[name];
        expect(property, `${check.id}: strength names '${name}', which is not a parameter`).toBeDefined();
        if (property && strength)
          expect(fits(strength, property), `${check.id}.${name}: ${String(strength)}`).toBe(true);
      }
    },
  );

  it('fails closed on a parameter its check gives no direction', () => {
    const unrated = defineCheck({ ...lockout, strength: {} });
    const head = edit((checklist) => withParams(checklist, 'auth.lockout', { attempts: 3 }));
    expect(compareChecklists(base, head, { registry: [unrated] }).weakenings.map((change) => change.kind)).toEqual([
      'param-changed',
    ]);
    expect(compareChecklists(base, head, { registry: [lockout] }).weakenings).toEqual([]);
  });
});
