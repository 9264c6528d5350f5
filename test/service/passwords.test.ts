import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_SCRYPT_COST,
  hashPassword,
  SCRYPT_COST_VARIABLE,
  scryptCostProblem,
  verifyPassword,
} from '../../src/service/auth/passwords.js';

// The run lowers the cost for speed (test/support/global-setup.ts); these cases set the variable themselves.
const runCost = process.env[SCRYPT_COST_VARIABLE];
afterEach(() => {
  if (runCost === undefined) delete process.env[SCRYPT_COST_VARIABLE];
  else process.env[SCRYPT_COST_VARIABLE] = runCost;
});

describe('password hashing cost', () => {
  it('hashes at the production cost, N=2^14, when the variable is unset', async () => {
    delete process.env[SCRYPT_COST_VARIABLE];
    const hash = await hashPassword('correct horse battery staple');
    expect(hash.split('$').slice(0, 4)).toEqual(['scrypt', String(DEFAULT_SCRYPT_COST), '8', '1']);
    expect(DEFAULT_SCRYPT_COST).toBe(16384);
  });

  it('verifies a hash by its own parameters, whatever the cost for new hashes is now', async () => {
    process.env[SCRYPT_COST_VARIABLE] = '1024';
    const cheap = await hashPassword('first');
    delete process.env[SCRYPT_COST_VARIABLE];
    expect(cheap.split('$')[1]).toBe('1024');
    await expect(verifyPassword('first', cheap)).resolves.toBe(true);
    await expect(verifyPassword('second', cheap)).resolves.toBe(false);
    await expect(verifyPassword('first', undefined)).resolves.toBe(false);
  });

  it.each([
    ['unset', undefined, undefined],
    ['the lowest', '1024', undefined],
    ['the highest', '1048576', undefined],
    ['below the lowest', '512', 'expected a power of two from 1024 to 1048576'],
    ['not a power of two', '20000', 'expected a power of two from 1024 to 1048576'],
    ['not a number', '2^14', 'expected a power of two from 1024 to 1048576'],
    ['a float', '1024.0', 'expected a power of two from 1024 to 1048576'],
    ['negative', '-1024', 'expected a power of two from 1024 to 1048576'],
  ])('%s: %s', (_name, value, problem) => {
    expect(scryptCostProblem(value)).toBe(problem === undefined ? undefined : `${SCRYPT_COST_VARIABLE}: ${problem}`);
  });

  it('refuses to hash at a cost it does not accept, rather than fall back', async () => {
    process.env[SCRYPT_COST_VARIABLE] = '16';
    await expect(hashPassword('x')).rejects.toThrow(/SECGATE_SERVICE_SCRYPT_COST: expected a power of two/);
  });
});
