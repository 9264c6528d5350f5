/**
 * The pure pieces under the auth checks, and two properties every auth check
 * must keep: it records whether it undid its effect, and no secret it was
 * given or obtained appears in its outcome.
 */
import { describe, expect, it } from 'vitest';
import ipBlock from '../../../checks/auth/ip-block.js';
import lockout from '../../../checks/auth/lockout.js';
import refreshRotation from '../../../checks/auth/refresh-rotation.js';
import tokenTransport from '../../../checks/auth/token-transport.js';
import tokenValidation from '../../../checks/auth/token-validation.js';
import { normaliseAddress, sqlIdentifier } from '../../../src/probes/auth-audit.js';
import { bodyToken, totpCode } from '../../../src/probes/auth-client.js';
import {
  decodeJwt,
  elevatedPayload,
  hmacToken,
  tamperedToken,
  unsignedToken,
} from '../../../src/probes/auth-tokens.js';
import { runCheckOn } from '../../harness/check-tester.js';
import { authFixture, SIGNING_KEY_ENV } from './support/auth-fixture-target.js';

describe('sqlIdentifier', () => {
  it('quotes plain and schema-qualified names', () => {
    expect(sqlIdentifier('auth_failure_events')).toBe('"auth_failure_events"');
    expect(sqlIdentifier('audit.ip_blocks')).toBe('"audit"."ip_blocks"');
  });
  it('refuses anything that could smuggle SQL', () => {
    for (const name of ['users; DROP TABLE users', 'a"b', 'Events', 'a.b.c', '', '1col']) {
      expect(() => sqlIdentifier(name), name).toThrow(/not a plain SQL identifier/);
    }
  });
});

describe('normaliseAddress', () => {
  it('treats inet text, mapped IPv6 and plain text as one client', () => {
    expect(normaliseAddress('127.0.0.9/32')).toBe('127.0.0.9');
    expect(normaliseAddress('::ffff:127.0.0.9')).toBe('127.0.0.9');
    expect(normaliseAddress('::1/128')).toBe('::1');
    expect(normaliseAddress(null)).toBeNull();
  });
});

describe('auth client helpers', () => {
  it('reads non-empty token fields only (the seed returns "" for absent tokens)', () => {
    expect(bodyToken('{"access_token":"","mfa_required":true}', 'access_token')).toBeUndefined();
    expect(bodyToken('{"access_token":"abc"}', 'access_token')).toBe('abc');
    expect(bodyToken('not json', 'access_token')).toBeUndefined();
  });
  it('computes RFC 6238 codes (test vector, SHA-1, 6 digits)', () => {
    // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s → 94287082 (8 digits), so 287082.
    expect(totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', new Date(59_000))).toBe('287082');
  });
});

describe('forged tokens', () => {
  const payload = { sub: 'alice', role: 'user', exp: 4_102_444_800 };
  it('builds alg:none with an empty signature', () => {
    const token = unsignedToken(payload);
    expect(token.endsWith('.')).toBe(true);
    expect(decodeJwt(token)?.header).toEqual({ alg: 'none', typ: 'JWT' });
  });
  it('tampers the payload and keeps the original signature', async () => {
    const original = decodeJwt(await hmacToken(payload, 'secret'));
    if (!original) throw new Error('not a JWT');
    const tampered = decodeJwt(tamperedToken(original, elevatedPayload(original.payload)));
    expect(tampered?.payload.role).toBe('admin');
    expect(tampered?.signature).toBe(original.signature);
  });
});

describe('auth checks keep their promises', () => {
  it('records that nothing was undone when the checklist gives no cleanup', async () => {
    const target = await authFixture({ withoutCleanup: true })();
    try {
      const outcome = await runCheckOn(lockout, target);
      expect(outcome.status).toBe('pass');
      expect(outcome.observations).toContainEqual(
        expect.objectContaining({ probe: 'cleanup unlock_account_sql for secgate-probe', actual: 'not configured' }),
      );
    } finally {
      await target.close();
    }
  });

  it('sends no wrong passwords for a shared probe account whose lockout it could not reset, and says so', async () => {
    const target = await authFixture({ withoutCleanup: true })();
    try {
      const outcome = await runCheckOn(ipBlock, target);
      expect(outcome.summary).toMatch(/after 11 failures \(0 of them wrong passwords for a real account\)/);
      expect(outcome.observations).toContainEqual(
        expect.objectContaining({
          note: expect.stringMatching(
            /^not tried: probe_account is shared with other checks and auth\.cleanup\.unlock_account_sql is not set/,
          ),
        }),
      );
    } finally {
      await target.close();
    }
  });

  it('never puts a password, TOTP secret, signing key or token into an outcome', async () => {
    const target = await authFixture({ flaws: ['token-in-query'] })();
    try {
      const given = target.context.auth as { probe_account: { password: string; totp_secret: string } };
      const secrets = [given.probe_account.password, given.probe_account.totp_secret];
      const signingKey = target.context.env?.[SIGNING_KEY_ENV] ?? '';
      for (const [check, params] of [
        [tokenValidation, { signing_key_env: SIGNING_KEY_ENV }],
        [tokenTransport, {}],
        [refreshRotation, {}],
      ] as const) {
        const outcome = await runCheckOn(check, target, params);
        const text = JSON.stringify(outcome);
        for (const secret of secrets)
          expect(text.includes(secret), `${check.id} leaks a configured secret`).toBe(false);
        expect(text.includes(signingKey.split('\n')[1] ?? '-'), `${check.id} leaks the signing key`).toBe(false);
        // Any JWT-shaped value in the evidence would be a leaked token.
        expect(text, `${check.id} leaks a token`).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*/);
      }
    } finally {
      await target.close();
    }
  });
});
