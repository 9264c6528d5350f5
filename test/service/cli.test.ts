/**
 * `secgate service` administrative commands against the service's real
 * database: enrolment in two steps, unlock, unblock-ip, and the refusals
 * (unknown account, bad address, wrong code) with their exit codes.
 */
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { registerServiceCommand } from '../../src/cli/service.js';
import { currentCode } from '../../src/service/auth/totp.js';
import { provisionAccount } from '../../src/service/index.js';
import type { ReferenceTarget } from '../support/reference-service.js';
import { loginWithMfa, queryService, type ServiceClient, useReferenceService } from './client.js';

let target: ReferenceTarget;
let client: ServiceClient;

useReferenceService((service) => {
  target = service.target;
  client = service.client;
});
afterEach(() => {
  process.exitCode = undefined;
});

/** Runs one command in-process and returns what it wrote and the exit code it set. */
async function secgate(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  const program = new Command('secgate').exitOverride();
  // The code the command hands to runCli, which makes it the process's exit code (not process.exitCode).
  let code = 0;
  registerServiceCommand(program, (set) => {
    code = set;
  });
  let out = '';
  let err = '';
  const stdoutWrite = process.stdout.write.bind(process.stdout);
  const stderrWrite = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    process.exitCode = undefined;
    await program.parseAsync(['node', 'secgate', 'service', ...args, '--database-url', target.service.databaseUrl]);
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
  }
  return { out, err, code };
}

describe('secgate service', () => {
  it('enrols TOTP in two steps: provisioning URI, then the first code; only then can the account sign in', async () => {
    const password = 'correct horse battery staple';
    await provisionAccount(target.service.databaseUrl, { username: 'carol', password, mfa: 'none' });
    const begin = await secgate('mfa', 'enroll', 'carol');
    const secret = /secret=([A-Z2-7]+)/.exec(begin.out)?.[1];
    expect(begin.out).toMatch(/^provisioning URI.*\notpauth:\/\/totp\/secgate:carol\?/s);
    expect(secret).toBeDefined();
    const loginBefore = await client.call('/api/v1/auth/login', { body: { username: 'carol', password } });
    expect(loginBefore.json.error).toBe('mfa_enrollment_required');

    expect(await secgate('mfa', 'enroll', 'carol', '--code', '000000')).toMatchObject({
      code: 1,
      err: expect.stringMatching(/does not match/),
    });
    const confirmed = await secgate('mfa', 'enroll', 'carol', '--code', currentCode(secret as string));
    expect(confirmed).toMatchObject({ code: 0, out: expect.stringMatching(/verified/) });
    expect((await client.call('/api/v1/auth/login', { body: { username: 'carol', password } })).json.mfa_required).toBe(
      true,
    );
  });

  it('unlocks a locked account and lifts an IP block', async () => {
    const account = target.context.auth.probe_account;
    await queryService(
      target,
      `UPDATE users SET locked_until = now() + interval '1 hour', failed_login_count = 5 WHERE username = $1`,
      [account.username],
    );
    await expect(loginWithMfa(client, target)).rejects.toThrow(/401/);
    expect(await secgate('unlock', account.username)).toMatchObject({
      code: 0,
      out: `account ${account.username} unlocked\n`,
    });
    await expect(loginWithMfa(client, target)).resolves.toHaveProperty('access_token');

    await queryService(
      target,
      `INSERT INTO ip_blocks (ip_address, reason, expires_at) VALUES ('127.0.50.1', 'test', now() + interval '1 hour')`,
    );
    expect((await client.call('/health', { from: '127.0.50.1' })).status).toBe(403);
    expect(await secgate('unblock-ip', '127.0.50.1')).toMatchObject({ code: 0, out: 'block of 127.0.50.1 lifted\n' });
    expect((await client.call('/health', { from: '127.0.50.1' })).status).toBe(200);
  });

  it('refuses an unknown account and a malformed address with exit code 2', async () => {
    expect(await secgate('unlock', 'nobody-here')).toMatchObject({
      code: 2,
      err: 'secgate service: no account named "nobody-here"\n',
    });
    expect(await secgate('unblock-ip', '1.2.3')).toMatchObject({
      code: 2,
      err: 'secgate service: expected an IPv4 or IPv6 address\n',
    });
  });

  it('user add --totp-secret-env refuses, before reading the password, a secret it cannot use — and never echoes it', async () => {
    const variable = 'SECGATE_TEST_SHARED_TOTP';
    const previous = process.env[variable];
    try {
      delete process.env[variable];
      expect(await secgate('user', 'add', 'dave', '--mfa', 'none', '--totp-secret-env', variable)).toMatchObject({
        code: 2,
        err: expect.stringMatching(/--totp-secret-env needs --mfa totp/),
      });
      expect(await secgate('user', 'add', 'dave', '--mfa', 'totp', '--totp-secret-env', variable)).toMatchObject({
        code: 2,
        err: expect.stringMatching(/SECGATE_TEST_SHARED_TOTP is not set/),
      });
      process.env[variable] = 'not-base32-but-long-enough';
      const refused = await secgate('user', 'add', 'dave', '--mfa', 'totp', '--totp-secret-env', variable);
      expect(refused).toMatchObject({ code: 2, err: expect.stringMatching(/is not a base32 TOTP secret/) });
      expect(refused.err).not.toContain('not-base32-but-long-enough');
    } finally {
      if (previous === undefined) delete process.env[variable];
      else process.env[variable] = previous;
    }
  });
});
