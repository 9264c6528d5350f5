/**
 * The weakening guard on the checklist this repository ships: compared with
 * itself at HEAD it must pass, whatever the environment interpolates, so that
 * nobody is pushed to a standing waiver that would then accept any weakening.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runVerify } from '../../src/cli/verify.js';
import { sharedReferencePkiDir } from '../support/reference-pki.js';

const sink = () =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });

const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };

async function repositoryWithShippedChecklist(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'secgate-default-guard-'));
  await copyFile('checklist.yaml', path.join(directory, 'checklist.yaml'));
  await copyFile('secgate-baseline.json', path.join(directory, 'secgate-baseline.json'));
  const git = (...args: string[]) => execa('git', args, { cwd: directory, env: GIT_ENV });
  await git('init', '-q', '-b', 'main');
  await git('add', 'checklist.yaml', 'secgate-baseline.json');
  await git('commit', '-q', '-m', 'the shipped gate');
  return directory;
}

describe('verify --baseline-ref HEAD on the untouched default checklist', () => {
  const pki = sharedReferencePkiDir();
  const env = {
    DATABASE_URL: 'postgres://secgate@127.0.0.1:1/none',
    SECGATE_PROBE_PASSWORD: 'probe-password-for-the-guard-test',
    SECGATE_PROBE_TOTP_SECRET: 'JBSWY3DPEHPK3PXP',
    SECGATE_NOMFA_PASSWORD: 'nomfa-password-for-the-guard-test',
    SECGATE_JWT_SECRET: randomBytes(32).toString('base64url'),
    // Named by auth.token-validation's signing_key_env: the checklist does not load without it.
    SECGATE_TEST_SIGNING_KEY: 'not-a-key-the-guard-test-never-signs',
    SECGATE_CA_FILE: pki ? path.join(pki, 'ca.crt') : 'ca.crt',
    // Values that differ from the checklist's own defaults: as written, the two sides are still equal.
    SECGATE_TARGET_URL: 'https://127.0.0.1:1',
    SECGATE_SERVICE_LOG: '/var/log/elsewhere.log',
  };

  it('passes the guard, and a weakened copy still fails it', async () => {
    const directory = await repositoryWithShippedChecklist();
    const run = () =>
      runVerify(
        { checklist: 'checklist.yaml', baselineRef: 'HEAD', only: ['repo.secret-strength'] },
        { stdout: sink(), stderr: sink(), env, cwd: directory },
      );
    const untouched = await run();
    const guard = untouched.statement?.predicate.checks.find((record) => record.id === 'secgate.baseline');
    expect(guard?.summary).toBe('the checklist is as strict as at HEAD');
    expect(guard?.status).toBe('pass');

    const text = await readFile(path.join(directory, 'checklist.yaml'), 'utf8');
    await writeFile(path.join(directory, 'checklist.yaml'), text.replace('attempts: 5', 'attempts: 50'));
    const weakened = await run();
    const failed = weakened.statement?.predicate.checks.find((record) => record.id === 'secgate.baseline');
    expect(failed?.status).toBe('fail');
    expect(failed?.summary).toBe("1 weakening against HEAD: auth.lockout: 'attempts' loosened from 5 to 50");
  });
});
