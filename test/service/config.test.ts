/**
 * Start-up configuration: missing, short or known-default secrets stop the
 * service with a message naming the variable and the rule; the explicit
 * development flag relaxes that and is visible in /health.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError, loadServiceSecrets, secretProblem } from '../../src/service/config.js';
import { startReferenceService } from '../../src/service/index.js';
import { type ReferenceTarget, startReferenceTarget } from '../support/reference-service.js';
import { serviceClient } from './client.js';

const STRONG = 'k3bT9x0QmZ7wV2sL5pR8yN4hJ6gF1dC0aE';
const STRONG_DB = `postgres://app:${'Zq8'.repeat(12)}@127.0.0.1:5432/app`;

function refusal(env: Record<string, string>): string {
  try {
    loadServiceSecrets(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('configuration rules', () => {
  it('classifies secrets', () => {
    expect(secretProblem(undefined)).toBe('missing');
    expect(secretProblem('')).toBe('missing');
    expect(secretProblem('short-but-random-9f')).toBe('too-short');
    expect(secretProblem('default_secret')).toBe('known-default');
    expect(secretProblem('changeme-changeme-changeme-changeme')).toBe('known-default');
    expect(secretProblem('a'.repeat(40))).toBe('known-default');
    expect(secretProblem(STRONG)).toBeUndefined();
  });

  it('names the variable and the rule for each refusal', () => {
    expect(refusal({ DATABASE_URL: STRONG_DB })).toMatch(/SECGATE_JWT_SECRET: the token signing secret is missing/);
    expect(refusal({ SECGATE_JWT_SECRET: 'too-short', DATABASE_URL: STRONG_DB })).toMatch(
      /SECGATE_JWT_SECRET: the token signing secret is shorter than 32 characters/,
    );
    expect(refusal({ SECGATE_JWT_SECRET: 'default_secret', DATABASE_URL: STRONG_DB })).toMatch(
      /SECGATE_JWT_SECRET: the token signing secret is a known default/,
    );
    expect(refusal({ SECGATE_JWT_SECRET: STRONG, DATABASE_URL: 'postgres://app@127.0.0.1/app' })).toMatch(
      /DATABASE_URL: the database password is missing/,
    );
    expect(refusal({ SECGATE_JWT_SECRET: STRONG, DATABASE_URL: 'postgres://app:admin123@127.0.0.1/app' })).toMatch(
      /DATABASE_URL: the database password is a known default/,
    );
    expect(refusal({ SECGATE_JWT_SECRET: STRONG, DATABASE_URL: 'postgres://app:password@db/app' })).toMatch(
      /known default/,
    );
    expect(refusal({ SECGATE_JWT_SECRET: STRONG, SECGATE_CORS_ORIGINS: '*' })).toMatch(
      /SECGATE_CORS_ORIGINS: '\*' is not allowed/,
    );
    expect(() => loadServiceSecrets({ SECGATE_JWT_SECRET: STRONG, DATABASE_URL: STRONG_DB })).not.toThrow();
  });

  it('refuses to start the service, before touching any database or port', async () => {
    await expect(
      startReferenceService({
        env: { SECGATE_JWT_SECRET: 'secret' },
        databaseUrl: 'postgres://postgres@127.0.0.1:1/none',
        logger: () => {},
      }),
    ).rejects.toThrow(
      /refusing to start: SECGATE_JWT_SECRET: .*known default.*; DATABASE_URL: the database password is missing/,
    );
  });
});

describe('development mode', () => {
  let target: ReferenceTarget | undefined;
  afterAll(async () => {
    await target?.close();
  });

  it('starts with weak secrets only when SECGATE_SERVICE_DEV_INSECURE=1, and says so in /health', async () => {
    target = await startReferenceTarget({ env: { SECGATE_SERVICE_DEV_INSECURE: '1', SECGATE_JWT_SECRET: 'dev' } });
    const client = serviceClient(target);
    try {
      const health = await client.call('/health');
      expect(health.status).toBe(200);
      expect(health.json).toEqual({ status: 'ok', insecure_dev_mode: true });
    } finally {
      await client.close();
    }
  });
});
