/**
 * docs/runbook.md section 10, "Running the gate against a live instance", as
 * an operator follows it: a real user exists, the probe accounts are created
 * with the runbook's own commands, the gate runs the shipped checklist's live
 * checks, and afterwards the real user still signs in from the operator's
 * address. The forget statements are left out (as the runbook allows when
 * retention forbids deleting rows), so the failure rows the probes wrote stay
 * behind to show whose accounts and addresses they name.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { SCRYPT_COST_VARIABLE } from '../../src/service/auth/passwords.js';
import { currentCode } from '../../src/service/auth/totp.js';
import { serviceClient } from '../service/client.js';
import { queryService } from '../support/reference-service.js';
import { shippedChecklistEnv, shippedLiveGate, verdicts, withLoggedReference } from '../support/shipped-checklist.js';

const BIN = path.resolve('bin/secgate');
/** Where the operator runs the gate from: the address the operating system picks for 127.0.0.1. */
const OPERATOR_ADDRESS = '127.0.0.1';
/** Generated, never written down: a literal password in a test is a finding of the gate's own history scan. */
const newPassword = () => randomBytes(24).toString('base64url');

describe('docs/runbook.md: running the gate against a live instance', () => {
  it('locks, blocks and counts only its own accounts and addresses; the real user signs in afterwards', async () => {
    await withLoggedReference(async (reference, logFile) => {
      const client = serviceClient(reference);
      try {
        const secgate = async (args: string[], input?: string, env: Record<string, string> = {}) => {
          const result = await execa('node', [BIN, 'service', ...args], {
            reject: false,
            ...(input === undefined ? {} : { input }),
            env: {
              PATH: process.env.PATH ?? '',
              SECGATE_JWT_SECRET: reference.jwtSecret,
              // The in-process service hashes at the run's test cost; users it serves must be hashed at the same.
              [SCRYPT_COST_VARIABLE]: process.env[SCRYPT_COST_VARIABLE] ?? '',
              ...env,
            },
            extendEnv: false,
          });
          expect(result.exitCode, `secgate service ${args.join(' ')}: ${result.stderr}`).toBe(0);
          return result.stdout;
        };
        const addUser = async (username: string, password: string, mfa: 'totp' | 'none', totpSecret?: string) => {
          const shared = totpSecret ? ['--totp-secret-env', 'SECGATE_PROBE_TOTP_SECRET'] : [];
          const out = await secgate(
            ['user', 'add', username, '--mfa', mfa, ...shared, '--database-url', reference.service.databaseUrl],
            `${password}\n`,
            totpSecret ? { SECGATE_PROBE_TOTP_SECRET: totpSecret } : {},
          );
          return /TOTP secret \(shown once, add it to the authenticator\): ([A-Z2-7]+)/.exec(out)?.[1];
        };

        const alice = { username: 'alice', password: newPassword() };
        // The runbook's commands, with passwords of their own (at once: each is a process start).
        const probePassword = newPassword();
        const noMfaPassword = newPassword();
        const [aliceTotp, probeTotpSecret, , signingKeyPem] = await Promise.all([
          addUser(alice.username, alice.password, 'totp'),
          addUser('secgate-probe', probePassword, 'totp'),
          addUser('secgate-nomfa', noMfaPassword, 'none'),
          secgate(['signing-key']),
        ]);
        // One account per check that locks or counts, with the probe account's password and TOTP secret.
        await Promise.all(
          ['secgate-probe-lockout', 'secgate-probe-ipblock', 'secgate-probe-events', 'secgate-probe-enum'].map(
            (username) => addUser(username, probePassword, 'totp', probeTotpSecret),
          ),
        );
        expect(aliceTotp).toBeDefined();
        expect(probeTotpSecret).toBeDefined();
        expect(signingKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);

        const env = shippedChecklistEnv(reference, logFile, {
          probePassword,
          probeTotpSecret: String(probeTotpSecret),
          noMfaPassword,
          signingKeyPem,
        });
        const gate = await shippedLiveGate(env, (auth) => {
          if (auth.cleanup) {
            delete auth.cleanup.forget_address_failures_sql;
            delete auth.cleanup.forget_account_failures_sql;
          }
        });
        // Without forget statements there is nothing left for the final cleanup entry to do.
        expect(verdicts(await gate.run())).toEqual(gate.liveIds.map((id) => `${id}: pass`));

        // The probes did provoke failures, a lockout and a block: on the gate's own accounts and addresses only.
        const provoked = await queryService<{ username: string | null; ip_address: string }>(
          reference,
          'SELECT username, host(ip_address) AS ip_address, event_type, method, path, detail FROM auth_failure_events',
        );
        expect(provoked.length).toBeGreaterThan(20);
        expect(provoked.filter((row) => row.username === alice.username)).toEqual([]);
        expect(provoked.filter((row) => row.ip_address === OPERATOR_ADDRESS)).toEqual([]);
        const blocked = await queryService(reference, 'SELECT host(ip_address) AS ip_address FROM ip_blocks');
        expect(blocked.length, 'the gate provoked a block').toBeGreaterThan(0);
        // …and undid them.
        expect(
          await queryService(
            reference,
            'SELECT ip_address FROM ip_blocks WHERE lifted_at IS NULL AND expires_at > now()',
          ),
        ).toEqual([]);
        expect(
          await queryService(
            reference,
            'SELECT username FROM users WHERE locked_until IS NOT NULL AND locked_until > now()',
          ),
        ).toEqual([]);

        const login = await client.call('/api/v1/auth/login', { body: alice, from: OPERATOR_ADDRESS });
        expect(login.status, login.text).toBe(200);
        const verified = await client.call('/api/v1/auth/mfa/verify', {
          body: { mfa_challenge_id: login.json.mfa_challenge_id, code: currentCode(String(aliceTotp)) },
          from: OPERATOR_ADDRESS,
        });
        expect(verified.status, verified.text).toBe(200);
        expect(verified.json.access_token).toEqual(expect.any(String));
      } finally {
        await client.close();
      }
    });
  });
});
