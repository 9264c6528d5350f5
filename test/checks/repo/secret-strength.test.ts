import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import secretStrength from '../../../checks/repo/secret-strength.js';
import { runCheckOn, type TargetHandle, testCheck } from '../../harness/check-tester.js';
import { startReferenceTarget } from '../../support/reference-service.js';

/** The reference service, with the secret it signs tokens with passed to the gate as the deploy would. */
async function referenceService(): Promise<TargetHandle> {
  const reference = await startReferenceTarget();
  return {
    context: { ...reference.context, env: { SECGATE_JWT_SECRET: reference.jwtSecret } },
    close: () => reference.close(),
  };
}

/** The check reads only the environment; the target URL is never contacted. */
function environment(env: Record<string, string | undefined>): () => Promise<TargetHandle> {
  return async () => ({
    context: { target: { url: 'https://127.0.0.1:9' }, env },
    close: async () => {},
  });
}

const strong = (): string => randomBytes(48).toString('base64url');
const names = { names: ['AUTH_SECRET', 'JWT_SECRET_KEY'] };

testCheck(secretStrength, {
  valid: [
    {
      name: 'reference service (its JWT signing secret)',
      target: referenceService,
      with: { names: ['SECGATE_JWT_SECRET'] },
    },
    {
      name: 'two random 64-character secrets',
      target: environment({ AUTH_SECRET: strong(), JWT_SECRET_KEY: strong() }),
      with: names,
    },
    {
      name: 'a 32-character hex secret at the default minimum',
      target: environment({ AUTH_SECRET: randomBytes(16).toString('hex') }),
      with: { names: ['AUTH_SECRET'] },
    },
  ],
  invalid: [
    {
      name: 'a missing secret',
      target: environment({ AUTH_SECRET: strong() }),
      with: names,
      expect: /JWT_SECRET_KEY is not set/,
    },
    {
      name: 'a 31-character secret',
      target: environment({
        AUTH_SECRET: randomBytes(24).toString('base64url').slice(0, 31),
        JWT_SECRET_KEY: strong(),
      }),
      with: names,
      expect: /AUTH_SECRET is shorter than 32 characters/,
    },
    {
      name: 'the seed default `default_secret`',
      target: environment({ AUTH_SECRET: 'default_secret', JWT_SECRET_KEY: strong() }),
      with: names,
      expect: /AUTH_SECRET[^"]*is a known default secret/,
    },
    {
      name: 'a long known default (your-secret-key padded is still weak, admin123 is a default)',
      target: environment({ AUTH_SECRET: strong(), JWT_SECRET_KEY: 'admin123' }),
      with: names,
      expect: /JWT_SECRET_KEY[^"]*is a known default secret/,
    },
    {
      name: 'a repeated single character',
      target: environment({ AUTH_SECRET: 'a'.repeat(64), JWT_SECRET_KEY: strong() }),
      with: names,
      expect: /AUTH_SECRET[^"]*has low entropy/,
    },
    {
      name: 'digits 0-9 repeated',
      target: environment({ AUTH_SECRET: '0123456789'.repeat(4), JWT_SECRET_KEY: strong() }),
      with: names,
      expect: /AUTH_SECRET[^"]*short pattern repeated/,
    },
    {
      name: 'the alphabet in order',
      target: environment({ AUTH_SECRET: 'abcdefghijklmnopqrstuvwxyz0123456789', JWT_SECRET_KEY: strong() }),
      with: names,
      expect: /AUTH_SECRET[^"]*sequential run/,
    },
  ],
});

it('never puts the secret value in the outcome', async () => {
  const value = `${randomBytes(10).toString('hex')}`; // 20 characters: too short, so it fails with detail
  const outcome = await runCheckOn(
    secretStrength,
    { context: { target: { url: 'https://127.0.0.1:9' }, env: { AUTH_SECRET: value } }, close: async () => {} },
    { names: ['AUTH_SECRET'] },
  );
  expect(outcome.status).toBe('fail');
  expect(JSON.stringify(outcome)).not.toContain(value);
  expect(JSON.stringify(outcome)).toMatch(/"length":20,"sha256":"[0-9a-f]{12}"/);
});
