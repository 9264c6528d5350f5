/**
 * The README's plugin checklist, run as written through the real CLI (bin/secgate on the build):
 * the example plugin loads from the checklist's folder, passes a server whose cookies are flagged,
 * fails one whose session cookie is not, and the evidence names the module and its sha256.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { startCookieServer } from '../../examples/cookie-flags/fixture.js';
import { renderHtml } from '../../src/report/html.js';
import { checkPredicate } from '../../src/report/predicate-shape.js';

const BIN = path.resolve('bin/secgate');
const CHECKLIST = 'examples/cookie-flags/checklist.yaml';

/** `secgate verify` on the example checklist against `target`, its evidence written to a temp folder. */
async function verify(sessionAttributes?: string) {
  const target = await startCookieServer(sessionAttributes);
  try {
    const dir = await mkdtemp(path.join(tmpdir(), 'secgate-plugin-doc-'));
    const caFile = path.join(dir, 'ca.crt');
    await writeFile(caFile, target.caPem);
    const evidenceFile = path.join(dir, 'evidence.json');
    const result = await execa('node', [BIN, 'verify', '-c', CHECKLIST, '--out', evidenceFile], {
      reject: false,
      extendEnv: false,
      env: { PATH: process.env.PATH ?? '', CI: 'true', TARGET_URL: target.url, CA_FILE: caFile },
    });
    const envelope = JSON.parse(await readFile(evidenceFile, 'utf8').catch(() => '{}')) as { payload?: string };
    const statement = envelope.payload
      ? (JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
          predicate: { checks: { id: string; status: string; plugin?: unknown }[] };
        })
      : undefined;
    return { ...result, statement };
  } finally {
    await target.close();
  }
}

describe('README: Checks of your own: plugins', () => {
  it('shows the example checklist word for word', async () => {
    const readme = await readFile('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('### Checks of your own: plugins'));
    const snippet = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(snippet).toBe(await readFile(CHECKLIST, 'utf8'));
  });

  it('passes a server whose cookies are Secure, HttpOnly and SameSite, and records the module', async () => {
    const result = await verify();
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^PASS +example\.cookie-flags/m);
    const module = await readFile('examples/cookie-flags/cookie-flags.js');
    expect(result.statement?.predicate.checks).toEqual([
      expect.objectContaining({
        id: 'example.cookie-flags',
        status: 'pass',
        plugin: {
          specifier: './cookie-flags.js',
          path: './cookie-flags.js',
          sha256: createHash('sha256').update(module).digest('hex'),
        },
      }),
    ]);
    // The page a reviewer reads names the module and its digest beside the verdict.
    const predicate = checkPredicate(result.statement?.predicate);
    expect(predicate.ok).toBe(true);
    if (predicate.ok) {
      expect(renderHtml({ predicate: predicate.predicate })).toContain(
        `Plugin <code>./cookie-flags.js</code> (sha256 <code>${createHash('sha256').update(module).digest('hex')}</code>)`,
      );
    }
  });

  it('fails a server whose session cookie is sent without Secure', async () => {
    const result = await verify('HttpOnly; SameSite=Lax');
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    // The duration column reads 12ms or, on a loaded machine, 1.5s: either shape, never a number asserted.
    expect(result.stdout).toMatch(
      /^FAIL +example\.cookie-flags +\d+(ms|\.\ds) +GET \/login: cookie session lacks Secure$/m,
    );
    expect(result.stdout).toMatch(/^ {2}Plugin: \.\/cookie-flags\.js \(sha256 [0-9a-f]{64}\)$/m);
  });

  it('a plugin that cannot load is exit 2 at its entry, in one sentence, before anything is probed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'secgate-plugin-doc-'));
    await writeFile(
      path.join(dir, 'checklist.yaml'),
      'version: 1\ntarget:\n  url: https://127.0.0.1:1\nchecks:\n  - check: acme.thrower\n    plugin: ./acme.js\n',
    );
    await writeFile(path.join(dir, 'acme.js'), "throw new TypeError('the vault is sealed');\n");
    const result = await execa('node', [BIN, 'verify'], {
      cwd: dir,
      reject: false,
      extendEnv: false,
      env: { PATH: process.env.PATH ?? '', CI: 'true' },
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(
      'checklist.yaml:6:13: checks[0].plugin: importing plugin ./acme.js threw: TypeError: the vault is sealed',
    );
    expect(result.stderr).toContain('nothing was probed');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('secgate explain -c names the plugin check the checklist loads, and the entry that loads it', async () => {
    const result = await execa('node', [BIN, 'explain', 'example.cookie-flags', '-c', CHECKLIST], {
      reject: false,
      extendEnv: false,
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^example\.cookie-flags: Every cookie/);
    expect(result.stdout).toMatch(/\nPlugin: +\.\/cookie-flags\.js \(sha256 [0-9a-f]{64}\)\n/);
    expect(result.stdout).toContain('    plugin: ./cookie-flags.js\n');
  });
});
