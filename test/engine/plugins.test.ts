// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${VAR}` is literal checklist text under test
/**
 * Checks from outside the tree (`plugin:`): loaded from a file or a package next to the checklist,
 * held to the contract built-in checks are held to, and every way a plugin can be wrong is exit 2
 * at the entry's file:line:column, with a sentence and no stack trace.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { allChecks } from '../../checks/index.js';
import type { CliIo } from '../../src/cli/io.js';
import { runVerify } from '../../src/cli/verify.js';
import { checkShapeProblems } from '../../src/engine/check-shape.js';
import { ChecklistError, formatProblem } from '../../src/engine/checklist/errors.js';
import { type LoadedChecklist, loadChecklist, loadPluginChecks } from '../../src/engine/checklist/load.js';
import { loadPlugin } from '../../src/engine/checklist/plugins.js';
import { compareChecklists } from '../../src/guard/compare.js';

/** A plugin module's text: a check with this id, and whatever else a case changes. */
function pluginSource(id: string, extra = '', params = 'z.object({ path: z.string().default("/") }).strict()'): string {
  return `import { defineCheck, z } from 'secgate';
export default defineCheck({
  id: '${id}',
  title: 'A control proven by a plugin of the test',
  source: 'test/engine/plugins.test.ts',
  remediation: 'Nothing to remediate: this is a test',
  effects: 'none',
  params: ${params},
  ${extra}
  async run() {
    return { status: 'pass', summary: 'fine', observations: [{ probe: 'nothing', ok: true }] };
  },
});
`;
}

const discard = () => new Writable({ write: (_chunk, _encoding, done) => done() });

interface Layout {
  dir: string;
  checklist: string;
}

/** The folder as a git repository whose main branch holds its checklist and acme.js (the base ref). */
async function commitBase(dir: string): Promise<void> {
  const git = (...args: string[]) =>
    execa('git', args, {
      cwd: dir,
      env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
    });
  await git('init', '-q', '-b', 'main');
  await git('add', 'checklist.yaml', 'acme.js');
  await git('commit', '-q', '-m', 'base');
}

/** A folder with the checklist and the files a case needs (paths relative to the folder). */
async function layout(checklist: string, files: Record<string, string> = {}): Promise<Layout> {
  const dir = await mkdtemp(path.join(tmpdir(), 'secgate-plugin-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  await writeFile(path.join(dir, 'checklist.yaml'), checklist);
  return { dir, checklist: path.join(dir, 'checklist.yaml') };
}

const checklistWith = (entries: string) => `version: 1
target:
  url: https://localhost:8443
checks:
${entries}`;

const load = (where: Layout, env: Record<string, string> = {}) =>
  loadChecklist(where.checklist, { env, registry: allChecks });

async function problemsOf(where: Layout, env: Record<string, string> = {}): Promise<string[]> {
  const error = await load(where, env).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ChecklistError)) throw new Error(`expected a ChecklistError, got ${String(error)}`);
  return error.problems.map((problem) => formatProblem(problem).replace(`${where.dir}/`, ''));
}

describe('plugin: a check from a module file', () => {
  it('loads the module next to the checklist, validates with: by its schema and records where it came from', async () => {
    const source = pluginSource('acme.file-check');
    const where = await layout(
      checklistWith('  - check: acme.file-check\n    plugin: ./checks/acme.js\n    with: { path: /x }\n'),
      { 'checks/acme.js': source },
    );
    const loaded: LoadedChecklist = await load(where);
    const [entry] = loaded.entries;
    expect(entry?.check.id).toBe('acme.file-check');
    expect(entry?.params).toEqual({ path: '/x' });
    expect(entry?.plugin).toEqual({
      specifier: './checks/acme.js',
      path: './checks/acme.js',
      sha256: createHash('sha256').update(source).digest('hex'),
    });
  });

  it('reports an unknown with: key of a plugin as it does a built-in', async () => {
    const where = await layout(
      checklistWith('  - check: acme.strict\n    plugin: ./acme.js\n    with: { pth: /x }\n'),
      { 'acme.js': pluginSource('acme.strict') },
    );
    expect(await problemsOf(where)).toEqual([
      "checklist.yaml:7:13: checks[0].with.pth: unknown key 'pth' (did you mean 'path'? expected one of: path)",
    ]);
  });

  it('loads a package installed next to the checklist, by name and by a path inside it', async () => {
    const manifest = JSON.stringify({
      name: '@acme/secgate-checks',
      type: 'module',
      exports: { './cookies': './c.js' },
    });
    const where = await layout(
      checklistWith(
        '  - check: acme.pkg\n    plugin: secgate-check-acme\n  - check: acme.scoped\n    plugin: "@acme/secgate-checks/cookies"\n',
      ),
      {
        'node_modules/secgate-check-acme/package.json': JSON.stringify({ name: 'secgate-check-acme', type: 'module' }),
        'node_modules/secgate-check-acme/index.js': pluginSource('acme.pkg'),
        'node_modules/@acme/secgate-checks/package.json': manifest,
        'node_modules/@acme/secgate-checks/c.js': pluginSource('acme.scoped'),
      },
    );
    // As installed beside secgate: the packages import it by name (the built package, as for a user).
    await symlink(process.cwd(), path.join(where.dir, 'node_modules/secgate'), 'dir');
    const loaded = await load(where);
    expect(loaded.entries.map((entry) => [entry.check.id, entry.plugin?.path])).toEqual([
      ['acme.pkg', './node_modules/secgate-check-acme/index.js'],
      ['acme.scoped', './node_modules/@acme/secgate-checks/c.js'],
    ]);
  });

  it('imports one module once however many entries run it', async () => {
    const where = await layout(
      checklistWith(
        '  - check: acme.twice\n    plugin: ./acme.js\n  - check: acme.twice\n    id: acme.twice.again\n    plugin: ./acme.js\n',
      ),
      { 'acme.js': pluginSource('acme.twice') },
    );
    const loaded = await load(where);
    expect(loaded.entries.map((entry) => entry.id)).toEqual(['acme.twice', 'acme.twice.again']);
    expect(loaded.entries[0]?.check).toBe(loaded.entries[1]?.check);
  });
});

describe('plugin: every mistake is exit 2 at the entry, in one sentence', () => {
  const oneEntry = (id: string, specifier: string) => checklistWith(`  - check: ${id}\n    plugin: ${specifier}\n`);

  it.each([
    [
      'a file that does not exist',
      oneEntry('acme.x', './missing.js'),
      {},
      /:6:13: checks\[0\]\.plugin: cannot load plugin \.\/missing\.js: no such file$/,
    ],
    [
      'a TypeScript file',
      oneEntry('acme.x', './acme.ts'),
      { 'acme.ts': 'export {}' },
      /\.\/acme\.ts is not a JavaScript module \(\.js, \.mjs or \.cjs\); compile/,
    ],
    [
      'a package that is not installed',
      oneEntry('acme.x', 'secgate-check-absent'),
      {},
      /cannot find package 'secgate-check-absent' from .*npm install secgate-check-absent\)$/,
    ],
    ['a Node.js built-in module', oneEntry('acme.x', 'fs'), {}, /'fs' is a Node\.js built-in module, not a check$/],
    [
      'neither a path nor a package',
      oneEntry('acme.x', 'C:checks'),
      {},
      /'C:checks' is neither a module file .* nor a package name/,
    ],
    [
      'a module that exports nothing',
      oneEntry('acme.x', './acme.js'),
      { 'acme.js': 'export const other = 1;\n' },
      /plugin \.\/acme\.js exports no check: expected `export default defineCheck\(\{\.\.\.\}\)`/,
    ],
    [
      'a check with a loose params schema',
      oneEntry('acme.loose', './acme.js'),
      { 'acme.js': pluginSource('acme.loose', '', 'z.object({})') },
      /does not export a valid check: params: expected a strict object schema \(z\.object\(\{\.\.\.\}\)\.strict\(\)\)/,
    ],
    [
      'a check with a misspelt key and a wrong effect',
      oneEntry('acme.typo', './acme.js'),
      { 'acme.js': pluginSource('acme.typo', "requries: () => ['database'],").replace("'none'", "'nothing'") },
      /unknown key 'requries' .*; effects: expected one of none, locks-account, blocks-ip, runs-commands, got 'nothing'/,
    ],
    [
      'an id other than the entry names',
      oneEntry('acme.expected', './acme.js'),
      { 'acme.js': pluginSource('acme.other') },
      /checks\[0\]\.plugin: \.\/acme\.js exports check 'acme\.other', but this entry names check: acme\.expected$/,
    ],
    [
      'a built-in id in check:',
      oneEntry('tls.protocols', './acme.js'),
      { 'acme.js': pluginSource('tls.protocols') },
      /:5:12: checks\[0\]\.check: 'tls\.protocols' is a built-in check: a plugin cannot replace it/,
    ],
    [
      'a module exporting a built-in id',
      oneEntry('acme.sneaky', './acme.js'),
      { 'acme.js': pluginSource('http.headers') },
      /exports check 'http\.headers', a built-in check's id: a plugin cannot replace a built-in$/,
    ],
    [
      'requirements the loader does not know',
      oneEntry('acme.needs', './acme.js'),
      { 'acme.js': pluginSource('acme.needs', "requires: () => ['databse'],") },
      /checks\[0\]\.check: acme\.needs: requires\(\) returned 'databse', expected one of database/,
    ],
    [
      'a deadlineMs that throws',
      oneEntry('acme.slow', './acme.js'),
      { 'acme.js': pluginSource('acme.slow', "deadlineMs: () => { throw new Error('no limits'); },") },
      /checks\[0\]\.check: acme\.slow: deadlineMs\(\) threw: no limits$/,
    ],
    [
      // Past Node's longest timer a deadline fires at once: the check would end before it starts.
      'a deadlineMs past the longest timer',
      oneEntry('acme.slow', './acme.js'),
      { 'acme.js': pluginSource('acme.slow', 'deadlineMs: () => 2 ** 31,') },
      /checks\[0\]\.check: acme\.slow: its deadlineMs gave 2147483648, not a positive number of ms up to \d+$/,
    ],
    [
      'a ${VAR} in the specifier',
      oneEntry('acme.x', '"./${DIR}/acme.js"'),
      {},
      /a plugin is named as written: \$\{VAR\} is not interpolated here/,
    ],
  ])('%s', async (_name, text, files, expected) => {
    const problems = await problemsOf(await layout(text, files), { DIR: 'x' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it('a module that throws on import: its message, first line only, secrets scrubbed, no stack', async () => {
    const secret = randomBytes(12).toString('hex');
    const where = await layout(oneEntry('acme.x', './acme.js'), {
      'acme.js': `throw new Error('cannot reach the vault with ${secret}\\nsecond line');\n`,
    });
    const problems = await problemsOf(where, { VAULT_TOKEN: secret });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/importing plugin \.\/acme\.js threw: Error: cannot reach the vault with \[redacted/);
    expect(problems.join('\n')).not.toContain(secret);
    expect(problems.join('\n')).not.toMatch(/second line|\n\s+at /);
  });

  it("list -c and explain -c (loadPluginChecks) scrub a throwing module's message the same way", async () => {
    const secret = randomBytes(12).toString('hex');
    const where = await layout(oneEntry('acme.x', './acme.js'), {
      'acme.js': `throw new Error('cannot reach the vault with ${secret}');\n`,
    });
    const error = await loadPluginChecks(where.checklist, allChecks, { VAULT_TOKEN: secret }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ChecklistError);
    const text = (error as ChecklistError).problems.map((problem) => formatProblem(problem)).join('\n');
    expect(text).toMatch(/importing plugin \.\/acme\.js threw: Error: cannot reach the vault with \[redacted/);
    expect(text).not.toContain(secret);
  });

  it("a plugin cannot take the id of one of the gate's own records (secgate.cleanup)", async () => {
    const where = await layout(oneEntry('secgate.cleanup', './acme.js'), {
      'acme.js': pluginSource('secgate.cleanup'),
    });
    expect(await problemsOf(where, {})).toEqual([
      expect.stringContaining("'secgate.cleanup': ids starting with secgate. are the gate's own records"),
    ]);
  });

  it('a secret the message cuts at its length bound is scrubbed whole: redaction comes before the cut', async () => {
    const secret = randomBytes(24).toString('hex');
    // The secret starts before the bound and ends after it: cut first, its first half would show.
    const padding = 'x'.repeat(170);
    const where = await layout(oneEntry('acme.x', './acme.js'), {
      'acme.js': `throw new Error('${padding} ${secret} tail');\n`,
    });
    const problems = await problemsOf(where, { VAULT_TOKEN: secret });
    expect(problems).toHaveLength(1);
    expect(problems.join('\n')).not.toContain(secret.slice(0, 12));
  });

  it('a module whose top level never finishes: refused after a bound, not waited on forever', async () => {
    const where = await layout(oneEntry('acme.x', './acme.js'), { 'acme.js': 'await new Promise(() => {});\n' });
    expect(await loadPlugin('./acme.js', where.dir, (text) => text, 200)).toEqual({
      ok: false,
      message: 'importing plugin ./acme.js: its top level did not finish within 0.2 s',
    });
  });

  it('two modules claiming one id', async () => {
    const where = await layout(
      checklistWith(
        '  - check: acme.same\n    plugin: ./a.js\n  - check: acme.same\n    id: acme.same.b\n    plugin: ./b.js\n',
      ),
      { 'a.js': pluginSource('acme.same'), 'b.js': pluginSource('acme.same') },
    );
    expect(await problemsOf(where)).toEqual([
      "checklist.yaml:9:13: checks[1].plugin: ./b.js exports check 'acme.same', which ./a.js in this checklist exports too",
    ]);
  });

  it('an unknown id without plugin: says how to name a check of your own', async () => {
    const where = await layout(checklistWith('  - check: acme.mine\n'));
    expect((await problemsOf(where))[0]).toMatch(/unknown check 'acme\.mine' .*named with plugin: beside check:/);
  });
});

describe('the check contract, at run time', () => {
  it('holds every built-in check: a plugin is asked for nothing a built-in is not', () => {
    expect(allChecks.map((check) => [check.id, checkShapeProblems(check)])).toEqual(
      allChecks.map((check) => [check.id, []]),
    );
  });

  it('refuses what is not a check', () => {
    expect(checkShapeProblems(null)).toEqual(['expected a check (the value of defineCheck({...})), got null']);
    expect(checkShapeProblems({ id: 'Bad Id', run: 1 })).toEqual(
      expect.arrayContaining([
        "id: expected a dotted id such as example.cookie-flags, got 'Bad Id'",
        'title: expected a non-empty string, got nothing',
        'run: expected a function, got number 1',
        "params: expected a zod schema (z from 'secgate'), got nothing",
      ]),
    );
  });
});

describe('the weakening guard and plugins', () => {
  const entry = (plugin?: string) => ({ check: 'acme.cookies', ...(plugin ? { plugin } : {}) });

  it('blocks another module for the same check, and lets the same one through', () => {
    const same = compareChecklists(
      { checks: [entry('./checks/cookies.js')], waivers: [] },
      { checks: [entry('./checks/cookies.js')], waivers: [] },
      { registry: [] },
    );
    expect(same.weakenings).toEqual([]);
    const moved = compareChecklists(
      { checks: [entry('./checks/cookies.js')], waivers: [] },
      { checks: [entry('./checks/always-pass.js')], waivers: [] },
      { registry: [] },
    );
    expect(moved.weakenings.map((change) => [change.kind, change.message])).toEqual([
      [
        'plugin-changed',
        'acme.cookies: the check is now loaded from ./checks/always-pass.js instead of ./checks/cookies.js, other code that nothing proves as strict',
      ],
    ]);
  });

  it('blocks an edited module file at the same path, and passes the untouched one (verify --baseline-ref)', async () => {
    const where = await layout(checklistWith('  - check: acme.guarded\n    plugin: ./acme.js\n'), {
      'acme.js': pluginSource('acme.guarded'),
    });
    await commitBase(where.dir);
    const io: CliIo = { stdout: discard(), stderr: discard(), env: {}, cwd: where.dir };
    const guardOf = async () =>
      (await runVerify({ checklist: 'checklist.yaml', baselineRef: 'main' }, io)).statement?.predicate.checks.find(
        (record) => record.id === 'secgate.baseline',
      );
    expect((await guardOf())?.status).toBe('pass');
    await writeFile(path.join(where.dir, 'acme.js'), pluginSource('acme.guarded').replace("'fine'", "'always fine'"));
    const guard = await guardOf();
    expect(guard?.status).toBe('fail');
    expect(guard?.summary).toMatch(
      /acme\.guarded: \.\/acme\.js differs from its version at main \(sha256 [0-9a-f]{12} → [0-9a-f]{12}\): other code judges the control/,
    );
  });

  it('blocks a plugin the base does not have: its code runs inside the gate, so it is reviewed, not assumed stronger', () => {
    const added = compareChecklists(
      { checks: [{ check: 'tls.protocols' }], waivers: [] },
      { checks: [{ check: 'tls.protocols' }, entry('./checks/cookies.js')], waivers: [] },
      { registry: [] },
    );
    expect(added.weakenings.map((change) => [change.kind, change.entry])).toEqual([['plugin-added', 'acme.cookies']]);
    const builtInAdded = compareChecklists(
      { checks: [{ check: 'tls.protocols' }], waivers: [] },
      { checks: [{ check: 'tls.protocols' }, { check: 'tls.certificate' }], waivers: [] },
      { registry: [] },
    );
    expect(builtInAdded.weakenings).toEqual([]);
  });

  it("judges a plugin's parameters without its own strength table: the head's code cannot vouch for itself", async () => {
    // The plugin claims a lower limit is stronger; nothing but its own code says so.
    const where = await layout(
      checklistWith('  - check: acme.limits\n    plugin: ./acme.js\n    with: { limit: 5 }\n'),
      {
        'acme.js': pluginSource(
          'acme.limits',
          "strength: { limit: 'lower' },",
          'z.object({ limit: z.number().int().default(5) }).strict()',
        ),
      },
    );
    await commitBase(where.dir);
    await writeFile(
      where.checklist,
      checklistWith('  - check: acme.limits\n    plugin: ./acme.js\n    with: { limit: 3 }\n'),
    );
    const io: CliIo = { stdout: discard(), stderr: discard(), env: {}, cwd: where.dir };
    const guard = (
      await runVerify({ checklist: 'checklist.yaml', baselineRef: 'main' }, io)
    ).statement?.predicate.checks.find((record) => record.id === 'secgate.baseline');
    expect(guard?.status).toBe('fail');
    expect(guard?.summary).toMatch(/acme\.limits/);
  });

  it('blocks a plugin check removed, as any check', () => {
    const removed = compareChecklists(
      { checks: [entry('./checks/cookies.js'), { check: 'tls.protocols' }], waivers: [] },
      { checks: [{ check: 'tls.protocols' }], waivers: [] },
      { registry: [] },
    );
    expect(removed.weakenings.map((change) => change.kind)).toEqual(['check-removed']);
  });
});
