import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allChecks } from '../../checks/index.js';
import { describeParams, registerExplainCommand } from '../../src/cli/explain.js';
import { registerInitCommand, renderStarterChecklist } from '../../src/cli/init.js';
import { UsageError } from '../../src/cli/io.js';
import { registerListCommand } from '../../src/cli/list.js';
import { ChecklistError } from '../../src/engine/checklist/errors.js';
import { loadPluginChecks, parseChecklist } from '../../src/engine/checklist/load.js';
import { runProgram } from './cli-io.js';
import { sampleChecks } from './sample-checks.js';

let workdir: string;
beforeAll(async () => {
  workdir = await mkdtemp(path.join(os.tmpdir(), 'secgate-cli-help-'));
});
afterAll(async () => {
  await rm(workdir, { recursive: true, force: true });
});

const catalogue = (checks = sampleChecks) => ({
  register: (
    program: Parameters<typeof registerListCommand>[0],
    io: Parameters<typeof registerListCommand>[1]['io'],
  ) => {
    registerListCommand(program, { io, checks });
    registerExplainCommand(program, { io, checks });
    registerInitCommand(program, { io, checks });
  },
});

describe('secgate list', () => {
  it('shows every check grouped by surface, with its seed control and effects', async () => {
    const { stdout, error } = await runProgram(workdir, ['list'], catalogue().register);
    expect(error).toBeUndefined();
    expect(stdout).toContain('tls:\n  tls.protocols  TLS 1.2 is the minimum; SSLv3, TLS 1.0 and 1.1 are refused\n');
    expect(stdout).toContain(
      '  auth.lockout   Repeated wrong passwords lock the account [locks-account]\n                 control: seed 002, checklist item 6',
    );
    expect(stdout).toContain('5 checks.');
    expect(stdout.indexOf('auth:')).toBeLessThan(stdout.indexOf('command:'));
  });

  it('prints JSON with --json', async () => {
    const { stdout } = await runProgram(workdir, ['list', '--json'], catalogue().register);
    expect(JSON.parse(stdout)).toContainEqual({
      id: 'repo.secrets',
      title: 'No credentials are committed',
      source: 'seed 002, checklist item 9',
      effects: 'none',
    });
  });

  it('lists the real registry, every check naming its control in docs/controls.md', async () => {
    const { stdout } = await runProgram(
      workdir,
      ['list', '--json'],
      catalogue(allChecks as typeof sampleChecks).register,
    );
    const listed = JSON.parse(stdout) as { id: string; source: string }[];
    expect(listed.map((check) => check.id).sort()).toEqual(allChecks.map((check) => check.id).sort());
    for (const check of listed) expect(check.source).toMatch(/^control [A-Z][0-9]+ \(docs\/controls\.md#/);
  });
});

describe('secgate explain', () => {
  it('says what the check verifies, why, its parameters, and how to fix it', async () => {
    const { stdout } = await runProgram(workdir, ['explain', 'tls.protocols'], catalogue().register);
    expect(stdout).toBe(
      [
        'tls.protocols: TLS 1.2 is the minimum; SSLv3, TLS 1.0 and 1.1 are refused',
        '',
        'Control:      seed 002, checklist item 3',
        'Docs:         docs/controls.md#T3',
        'Side effects: none: it only observes',
        'Severity:     high (a checklist entry may set its own with severity:)',
        '',
        'Why it matters:',
        '  SSLv3 and TLS 1.0/1.1 are cryptographically broken.',
        '',
        'How to fix a failure:',
        '  Set ssl_protocols TLSv1.2 TLSv1.3 on the proxy.',
        '',
        'Parameters (under with:):',
        '  minimum: "TLSv1.2" | "TLSv1.3", default "TLSv1.2" — lowest protocol accepted (stronger in the order TLSv1.2 < TLSv1.3)',
        '  (with --baseline-ref, a parameter may change only in the direction marked stronger; any other change blocks)',
        '',
        'In checklist.yaml:',
        '  - check: tls.protocols',
        '    with:',
        '      minimum: TLSv1.2',
        '',
      ].join('\n'),
    );
  });

  it('shows required parameters as placeholders', async () => {
    const { stdout } = await runProgram(workdir, ['explain', 'command.gates'], catalogue().register);
    expect(stdout).toContain('  commands: list of string, required\n');
    expect(stdout).toContain('  - check: command.gates\n    with:\n      commands: <list of string>\n');
    expect(stdout).toMatch(/Side effects: runs the commands/);
  });

  it("prints each parameter's description and the direction the weakening guard accepts", async () => {
    const { stdout } = await runProgram(
      workdir,
      ['explain', 'auth.lockout'],
      catalogue(allChecks as typeof sampleChecks).register,
    );
    expect(stdout).toMatch(/\n {2}attempts: integer, default 5 — wrong passwords sent .+ \(stronger when lower\)\n/);
    expect(stdout).toMatch(/\n {2}account: string, default "probe_account" — the account .+[^)]\n/);
    expect(stdout).toContain('Docs:         docs/controls.md#A2\n');
    expect(stdout).toMatch(/Side effects: locks the probe account on purpose; while it runs, no other check signs in/);
  });

  it('suggests the closest id for a typo', async () => {
    const { error } = await runProgram(workdir, ['explain', 'tls.protocol'], catalogue().register);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      "unknown check 'tls.protocol'; did you mean tls.protocols? (secgate list shows every built-in check; a plugin's is known with -c <checklist>)",
    );
  });

  it('describes every parameter of every registered check, so a new parameter without docs fails here', () => {
    const undescribed = allChecks.flatMap((check) =>
      describeParams(check)
        .filter((param) => !param.description?.trim())
        .map((param) => `${check.id}: ${param.name}`),
    );
    expect(undescribed).toEqual([]);
    for (const check of allChecks) expect(describeParams(check).length, check.id).toBeGreaterThan(0);
  });

  it('explains every check of the real registry', async () => {
    for (const check of allChecks) {
      const { stdout, error } = await runProgram(
        workdir,
        ['explain', check.id],
        catalogue(allChecks as typeof sampleChecks).register,
      );
      expect(error).toBeUndefined();
      expect(stdout).toContain(check.remediation);
      expect(stdout).toContain(`  - check: ${check.id}`);
      expect(stdout).toContain(`\nDocs:         ${check.docs}\n`);
    }
  });
});

describe('secgate init', () => {
  it('writes a commented starter checklist that the real loader accepts', async () => {
    const { stdout, error } = await runProgram(
      workdir,
      [
        'init',
        '--url',
        'https://node-1.example.internal:8443',
        '--http-url',
        'http://node-1.example.internal:8080',
        '--out',
        'starter.yaml',
      ],
      catalogue().register,
    );
    expect(error).toBeUndefined();
    expect(stdout).toMatch(
      /^Wrote starter\.yaml\. Next: review it, then run {2}secgate verify --checklist starter\.yaml/,
    );
    const text = await readFile(path.join(workdir, 'starter.yaml'), 'utf8');
    const loaded = parseChecklist(text, path.join(workdir, 'starter.yaml'), { env: {}, registry: sampleChecks });
    expect(loaded.checklist.target).toEqual({
      url: 'https://node-1.example.internal:8443',
      http_url: 'http://node-1.example.internal:8080',
      timeout_ms: 5000,
      max_failures_per_address: 5,
      health_path: '/health',
    });
    // Runnable as written: only the checks that need nothing but the target and the repo.
    expect(loaded.entries.map((entry) => entry.id)).toEqual(['repo.secrets', 'tls.protocols']);
    expect(text).toContain(
      '  # (locks the probe account on purpose: needs auth.probe_account and auth.cleanup)\n  # - check: auth.lockout',
    );
    expect(text).toContain('  # (needs the auth: and database: sections above)\n  # - check: auth.required');
    expect(text).toContain('  # (runs commands in the repository: list them under with:)\n  # - check: command.gates');
    expect(text).toContain('  # control: seed 002, checklist item 3\n  - check: tls.protocols');
  });

  it('refuses to overwrite an existing file unless --force', async () => {
    await writeFile(path.join(workdir, 'existing.yaml'), 'keep me\n');
    const refused = await runProgram(
      workdir,
      ['init', '--url', 'https://a.example', '--out', 'existing.yaml'],
      catalogue().register,
    );
    expect((refused.error as Error).message).toBe('existing.yaml already exists; pass --force to overwrite it');
    expect(await readFile(path.join(workdir, 'existing.yaml'), 'utf8')).toBe('keep me\n');
    const forced = await runProgram(
      workdir,
      ['init', '--url', 'https://a.example', '--out', 'existing.yaml', '--force'],
      catalogue().register,
    );
    expect(forced.error).toBeUndefined();
    expect(await readFile(path.join(workdir, 'existing.yaml'), 'utf8')).toMatch(/^# secgate checklist for a\.example/);
  });

  it('rejects a target that is not https', async () => {
    const { error } = await runProgram(
      workdir,
      ['init', '--url', 'http://a.example', '--out', 'x.yaml'],
      catalogue().register,
    );
    expect((error as Error).message).toBe("--url must be an https:// URL, got 'http://a.example'");
    expect(() => renderStarterChecklist({ url: 'not a url' }, sampleChecks)).toThrow(/--url 'not a url' is not a URL/);
  });

  it('writes a starter for the real registry that the real loader accepts', () => {
    const text = renderStarterChecklist({ url: 'https://localhost:8443', caFile: '.secgate/pki/ca.crt' }, allChecks);
    const loaded = parseChecklist(text, path.join(workdir, 'real.yaml'), { env: {}, registry: allChecks });
    expect(loaded.entries.length).toBeGreaterThan(0);
    for (const check of allChecks) expect(text).toContain(`- check: ${check.id}`);
  });
});

describe('secgate list and explain with --checklist: the plugin checks it names', () => {
  const EXAMPLE = path.resolve('examples/cookie-flags/checklist.yaml');
  const withPlugins = (checks = allChecks as typeof sampleChecks) => ({
    register: (
      program: Parameters<typeof registerListCommand>[0],
      io: Parameters<typeof registerListCommand>[1]['io'],
    ) => {
      const loadPlugins = (file: string) => loadPluginChecks(path.resolve(io.cwd, file), checks, io.env);
      registerListCommand(program, { io, checks, loadPlugins });
      registerExplainCommand(program, { io, checks, loadPlugins });
    },
  });
  const moduleSha256 = async () =>
    createHash('sha256')
      .update(await readFile('examples/cookie-flags/cookie-flags.js'))
      .digest('hex');

  it('lists the example plugin beside the built-ins, with its file and digest, only when asked', async () => {
    const plain = await runProgram(workdir, ['list'], withPlugins().register);
    expect(plain.stdout).not.toContain('example.cookie-flags');
    const { stdout, error } = await runProgram(workdir, ['list', '-c', EXAMPLE], withPlugins().register);
    expect(error).toBeUndefined();
    const sha256 = await moduleSha256();
    expect(stdout).toMatch(
      new RegExp(
        `\\n {2}example\\.cookie-flags +.+\\n +control: .+\\n +plugin: {2}\\.\\/cookie-flags\\.js \\(sha256 ${sha256.slice(0, 12)}…\\)\\n`,
      ),
    );
    expect(stdout).toContain(`${allChecks.length + 1} checks.`);
    const json = await runProgram(workdir, ['list', '--json', '--checklist', EXAMPLE], withPlugins().register);
    expect(JSON.parse(json.stdout)).toContainEqual(
      expect.objectContaining({
        id: 'example.cookie-flags',
        plugin: { specifier: './cookie-flags.js', path: './cookie-flags.js', sha256 },
      }),
    );
  });

  it('explains the plugin check, naming its module, with an entry that loads it', async () => {
    const unknown = await runProgram(workdir, ['explain', 'example.cookie-flags'], withPlugins().register);
    expect(unknown.error).toBeInstanceOf(UsageError);
    expect((unknown.error as Error).message).toMatch(/a plugin's is known with -c <checklist>/);
    const { stdout, error } = await runProgram(
      workdir,
      ['explain', 'example.cookie-flags', '-c', EXAMPLE],
      withPlugins().register,
    );
    expect(error).toBeUndefined();
    expect(stdout).toMatch(/^example\.cookie-flags: /);
    expect(stdout).toContain(`\nPlugin:       ./cookie-flags.js (sha256 ${await moduleSha256()})\n`);
    expect(stdout).toContain('\n  - check: example.cookie-flags\n    plugin: ./cookie-flags.js\n');
  });

  it.each([
    [
      'a module that is not there',
      'checks:\n  - check: acme.none\n    plugin: ./missing.js\n',
      /checklist\.yaml:3:13: .*cannot load plugin \.\/missing\.js: no such file/,
    ],
    [
      "a module that takes a built-in's id",
      'checks:\n  - check: acme.tls\n    plugin: ./tls.js\n',
      /checklist\.yaml:3:13: .*\.\/tls\.js exports check 'tls\.protocols', a built-in check's id/,
    ],
    [
      'a module whose id is not the one its entry names (verify refuses it; list must not show it)',
      'checks:\n  - check: acme.named\n    plugin: ./real.js\n',
      /checklist\.yaml:3:13: .*\.\/real\.js exports check 'acme\.real', but this entry names check: acme\.named/,
    ],
    [
      'two modules exporting one id',
      'checks:\n  - check: acme.real\n    plugin: ./real.js\n  - check: acme.real\n    plugin: ./copy.js\n',
      /checklist\.yaml:5:13: .*\.\/copy\.js exports check 'acme\.real', which \.\/real\.js in this checklist exports too/,
    ],
  ])('refuses %s at the entry, with its position', async (_what, checklist, message) => {
    const dir = await mkdtemp(path.join(workdir, 'plugins-'));
    await writeFile(path.join(dir, 'checklist.yaml'), checklist);
    // Valid checks, importing secgate by name as an installed plugin does: one under a built-in's id.
    const module = (id: string) => `import { defineCheck, z } from 'secgate';
export default defineCheck({
  id: '${id}', title: 'A plugin of the test', source: 'a test', remediation: 'none', effects: 'none',
  params: z.object({}).strict(),
  async run() { return { status: 'pass', summary: 'fine', observations: [] }; },
});
`;
    await writeFile(path.join(dir, 'tls.js'), module('tls.protocols'));
    await writeFile(path.join(dir, 'real.js'), module('acme.real'));
    await writeFile(path.join(dir, 'copy.js'), module('acme.real'));
    await mkdir(path.join(dir, 'node_modules'));
    await symlink(process.cwd(), path.join(dir, 'node_modules/secgate'), 'dir');
    const { error } = await runProgram(dir, ['list', '-c', 'checklist.yaml'], withPlugins().register);
    expect(error).toBeInstanceOf(ChecklistError);
    expect(String((error as Error).message)).toMatch(message);
  });
});
