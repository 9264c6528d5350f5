/**
 * Fleet inventories: targets declared in the checklist or in an inventory
 * file load as one checklist per target, and every mistake in them is exit 2
 * at its own file:line:column, before anything is probed.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { allChecks } from '../../checks/index.js';
import { sharedAddressProblems, targetPool } from '../../src/cli/fleet-verify.js';
import { expandAddresses } from '../../src/engine/addresses.js';
import { ChecklistError, formatProblem } from '../../src/engine/checklist/errors.js';
import { fleetSourceAddresses, mergeTarget } from '../../src/engine/checklist/fleet.js';
import { loadChecklist, loadFleetInventory, parseChecklist } from '../../src/engine/checklist/load.js';

const BIN = path.resolve('bin/secgate');

const FLEET = `version: 1
target:
  timeout_ms: 2000
auth:
  login: { path: /api/login }
checks:
  - check: repo.secret-strength
    with: { names: [APP_SECRET] }
targets:
  eu:
    target: { url: "https://\${HOST}:8443" }
    auth:
      probe_account: { username: probe-eu, password: "\${EU_PROBE_PASSWORD}" }
    variables: { HOST: 127.0.0.2 }
  us:
    target: { url: "https://\${HOST}:9443" }
    variables: { HOST: 127.0.0.3 }
`;

async function directoryWith(files: Record<string, string>): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'secgate-fleet-'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(directory, name), text);
  return directory;
}

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ChecklistError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
}

const options = (target?: string, env: Record<string, string> = { EU_PROBE_PASSWORD: 'eu-probe-password-1' }) => ({
  env,
  registry: allChecks,
  ...(target ? { target } : {}),
});

describe('a checklist with targets', () => {
  it('loads one target: its own values merged over the checklist, its variables interpolated', () => {
    const loaded = parseChecklist(FLEET, 'fleet.yaml', options('eu'));
    expect(loaded.checklist.target.url).toBe('https://127.0.0.2:8443');
    expect(loaded.checklist.target.timeout_ms).toBe(2000);
    // Merged mapping by mapping: the target's probe account, the checklist's login path.
    expect(loaded.checklist.auth?.login.path).toBe('/api/login');
    expect(loaded.checklist.auth?.probe_account?.username).toBe('probe-eu');
    expect(loaded.secretValues).toContain('eu-probe-password-1');
    expect(loaded.fleet).toEqual({ targets: ['eu', 'us'], target: 'eu', index: 0, variables: { HOST: '127.0.0.2' } });
    expect(parseChecklist(FLEET, 'fleet.yaml', options('us')).checklist.target.url).toBe('https://127.0.0.3:9443');
  });

  it("a target's variables come before the environment's", () => {
    const loaded = parseChecklist(FLEET, 'fleet.yaml', options('us', { HOST: '127.9.9.9' }));
    expect(loaded.checklist.target.url).toBe('https://127.0.0.3:9443');
  });

  it("needs only the selected target's variables; without a selection every target must load", () => {
    expect(parseChecklist(FLEET, 'fleet.yaml', options('us', {})).checklist.target.url).toContain('9443');
    expect(problemsOf(() => parseChecklist(FLEET, 'fleet.yaml', options(undefined, {})))).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the message quotes checklist syntax
      'fleet.yaml:13:54: targets.eu.auth.probe_account.password: environment variable EU_PROBE_PASSWORD is not set (referenced as ${EU_PROBE_PASSWORD})',
    ]);
  });

  it.each([
    [
      'an unknown key in a target',
      FLEET.replace('variables: { HOST: 127.0.0.3 }', 'variables: { HOST: 127.0.0.3 }\n    tagets: {}'),
      "fleet.yaml:18:5: targets.us.tagets: unknown key 'tagets' (did you mean 'target'? expected one of: target, database, auth, variables)",
    ],
    [
      "an unknown key inside a target's target:",
      FLEET.replace('9443" }', '9443", ca_fil: x }'),
      "fleet.yaml:16:44: targets.us.target.ca_fil: unknown key 'ca_fil' (did you mean 'ca_file'? expected one of: url, http_url, ca_file, timeout_ms, source_addresses, max_failures_per_address, health_path)",
    ],
    [
      "a wrong type in a target's value",
      FLEET.replace('9443" }', '9443", timeout_ms: soon }'),
      "fleet.yaml:16:56: targets.us.target.timeout_ms: expected number, got the string 'soon'",
    ],
    [
      'a target name that cannot name a file',
      FLEET.replace('  us:', '  US West:'),
      'fleet.yaml:15:3: targets.US West: expected a target name of lower-case letters, digits, - and _ (such as eu-staging): it names files and CI matrix entries',
    ],
    [
      'a target declared twice',
      FLEET.replace('  us:', '  eu:'),
      'fleet.yaml:15:3: duplicate key: each key may appear only once in a mapping',
    ],
    [
      'no targets',
      FLEET.replace(/targets:[\s\S]*$/, 'targets: {}\n'),
      'fleet.yaml:9:10: targets: expected at least one target',
    ],
    [
      'both targets: and inventory:',
      `${FLEET}inventory: fleet-inventory.yaml\n`,
      'fleet.yaml:18:1: inventory: a checklist takes targets: or inventory:, not both: move the targets into one place',
    ],
  ])('%s is exit 2 at its position', (_name, text, expected) => {
    expect(problemsOf(() => parseChecklist(text, 'fleet.yaml', options()))).toContain(expected);
  });

  it('an unknown --target names the choices', () => {
    expect(problemsOf(() => parseChecklist(FLEET, 'fleet.yaml', options('uss')))).toEqual([
      "fleet.yaml:9:1: targets: no target named 'uss' (did you mean 'us'? expected one of: eu, us)",
    ]);
  });

  it('merges mapping by mapping; a list or a scalar replaces', () => {
    expect(
      mergeTarget(
        { version: 1, target: { url: 'a', source_addresses: ['x'], timeout_ms: 1 }, checks: [] },
        { target: { source_addresses: ['y'] }, variables: { A: 'b' } },
      ),
    ).toEqual({ version: 1, target: { url: 'a', source_addresses: ['y'], timeout_ms: 1 }, checks: [] });
  });
});

describe('an inventory file', () => {
  const CHECKLIST = FLEET.replace(/targets:[\s\S]*$/, 'inventory: inventory.yaml\n');
  const INVENTORY = FLEET.slice(FLEET.indexOf('targets:')).replace(/^/, 'version: 1\n');

  it('declares the targets; the evidence will name its digest', async () => {
    const directory = await directoryWith({ 'checklist.yaml': CHECKLIST, 'inventory.yaml': INVENTORY });
    const loaded = await loadChecklist(path.join(directory, 'checklist.yaml'), options('us'));
    expect(loaded.checklist.target.url).toBe('https://127.0.0.3:9443');
    expect(loaded.fleet?.inventory).toEqual({
      path: 'inventory.yaml',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const inventory = await loadFleetInventory(path.join(directory, 'checklist.yaml'));
    expect(inventory.targets).toEqual(['eu', 'us']);
  });

  it('a problem in it names the inventory file, line and column', async () => {
    const directory = await directoryWith({
      'checklist.yaml': CHECKLIST,
      'inventory.yaml': INVENTORY.replace('9443" }', '9443", ca_fil: x }'),
    });
    const error = await loadChecklist(path.join(directory, 'checklist.yaml'), options('us')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChecklistError);
    expect((error as ChecklistError).problems.map(formatProblem)[0]).toMatch(
      new RegExp(
        `^${path.join(directory, 'inventory.yaml')}:9:44: targets\\.us\\.target\\.ca_fil: unknown key 'ca_fil'`,
      ),
    );
  });

  it('an unreadable inventory is a problem at the key that names it', async () => {
    const directory = await directoryWith({ 'checklist.yaml': CHECKLIST });
    const error = await loadFleetInventory(path.join(directory, 'checklist.yaml')).catch((e: unknown) => e);
    expect((error as ChecklistError).problems.map(formatProblem)).toEqual([
      `${path.join(directory, 'checklist.yaml')}:9:12: inventory: cannot read the inventory inventory.yaml (ENOENT)`,
    ]);
  });

  it('secgate verify --all: exit 2 with the position, nothing probed', async () => {
    const directory = await directoryWith({
      'checklist.yaml': CHECKLIST,
      'inventory.yaml': INVENTORY.replace('version: 1', 'version: 2'),
    });
    const result = await execa('node', [BIN, 'verify', '--all'], {
      cwd: directory,
      reject: false,
      env: { CI: 'true', EU_PROBE_PASSWORD: 'x-password' },
      extendEnv: false,
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('nothing was probed');
    expect(result.stderr).toContain(`${path.join(directory, 'inventory.yaml')}:1:10: version: expected version: 1`);
  });
});

describe("each target's own source addresses", () => {
  it('are disjoint from the default pool, the addresses checks bind, and every other target', () => {
    const pools = [0, 1, 255, 256, 1000].map(
      (index) =>
        new Set((fleetSourceAddresses({ url: 'https://127.0.0.1:8443' }, index) ?? []).flatMap(expandAddresses)),
    );
    const seen = new Set<string>(['127.0.0.8', '127.0.0.9', '127.0.0.30', ...expandAddresses('127.0.0.128/25')]);
    for (const pool of pools) {
      expect(pool.size).toBe(128);
      for (const address of pool) {
        expect(seen.has(address)).toBe(false);
        seen.add(address);
      }
    }
  });

  it("leave a target's own addresses, and a remote target's default, alone", () => {
    expect(fleetSourceAddresses({ url: 'https://127.0.0.1', source_addresses: ['10.0.0.1'] }, 3)).toEqual(['10.0.0.1']);
    expect(fleetSourceAddresses({ url: 'https://example.com' }, 3)).toBeUndefined();
  });
});

describe('the example fleet in docs/ci/fleet', () => {
  const file = path.resolve('docs/ci/fleet/checklist.yaml');

  it('loads every target as written, each with its own ports and CA', async () => {
    expect((await loadFleetInventory(file)).targets).toEqual(['eu', 'us', 'ap']);
    const text = await readFile(file, 'utf8');
    const urls = ['eu', 'us', 'ap'].map((target) => {
      const loaded = parseChecklist(text, file, { env: {}, registry: allChecks, target });
      expect(loaded.checklist.target.ca_file).toBe(`../../../.secgate/fleet/${target}/pki/ca.crt`);
      return loaded.checklist.target.url;
    });
    expect(urls).toEqual(['https://127.0.0.1:9443', 'https://127.0.0.1:9444', 'https://127.0.0.1:9445']);
  });

  it('is what the CI examples plan over', async () => {
    const result = await execa('node', [BIN, 'plan', '-c', file, '--shards', '2', '--format', 'gitlab'], {
      reject: false,
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('SECGATE_TARGETS: "eu,ap"');
    for (const workflow of ['fleet-github-actions.yml', 'fleet-gitlab-ci.yml', 'fleet-gitlab-shard.yml']) {
      const yaml = await readFile(path.resolve('docs/ci', workflow), 'utf8');
      expect(yaml).toMatch(/docs\/ci\/fleet\/start-targets\.sh|fleet-gitlab-shard\.yml/);
      expect(parseDocument(yaml).errors, workflow).toEqual([]);
    }
  });
});

describe('targets run side by side', () => {
  const text = `version: 1
checks:
  - check: repo.secret-strength
    with: { names: [APP_SECRET] }
targets:
  a:
    target: { url: "https://127.0.0.1:1", source_addresses: [127.0.0.200] }
  b:
    target: { url: "https://127.0.0.1:2", source_addresses: [127.0.0.200/31] }
  c:
    target: { url: "https://127.0.0.1:3" }
`;
  const load = (target: string) => parseChecklist(text, 'fleet.yaml', { env: {}, registry: allChecks, target });

  it('may not share a source address: exit 2 at the second target', () => {
    expect(sharedAddressProblems(['a', 'b', 'c'].map(load).map(targetPool)).map(formatProblem)).toEqual([
      "fleet.yaml:9:61: targets.b.target.source_addresses: shares source addresses with another target run at the same time: 127.0.0.200 (also a's); give each target its own, or run them one at a time (--target)",
    ]);
    expect(sharedAddressProblems(['a', 'c'].map(load).map(targetPool))).toEqual([]);
  });
});
