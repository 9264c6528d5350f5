/**
 * Password hashing with scrypt (node:crypto). Verification compares in
 * constant time, and an unknown user is checked against a dummy hash with the
 * same parameters, so "no such user" costs the same as "wrong password".
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

interface ScryptParameters {
  cost: number;
  blockSize: number;
  parallelization: number;
}

/** N=2^14, r=8: 16 MiB and tens of milliseconds per guess (OWASP's scrypt floor is N=2^17 with r=8,p=1 or an equivalent). */
export const DEFAULT_SCRYPT_COST = 2 ** 14;
/**
 * Lowers the cost of new hashes, for test suites only (as Django's docs advise a fast hasher in test settings):
 * thousands of logins per suite run at tens of milliseconds of CPU each. The service names it in its start-up
 * warnings; stored hashes keep their own parameters, so it never weakens a hash made without it.
 */
export const SCRYPT_COST_VARIABLE = 'SECGATE_SERVICE_SCRYPT_COST';
const LOWEST_SCRYPT_COST = 2 ** 10;
const HIGHEST_SCRYPT_COST = 2 ** 20;

/** Why `value` is not an acceptable scrypt cost, or undefined when it is (or is unset: the default). */
export function scryptCostProblem(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const cost = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  const powerOfTwo = Number.isSafeInteger(cost) && cost > 0 && (cost & (cost - 1)) === 0;
  if (powerOfTwo && cost >= LOWEST_SCRYPT_COST && cost <= HIGHEST_SCRYPT_COST) return undefined;
  return `${SCRYPT_COST_VARIABLE}: expected a power of two from ${LOWEST_SCRYPT_COST} to ${HIGHEST_SCRYPT_COST}`;
}

/** The parameters new hashes (and the unknown-user dummy) use now. */
function currentParameters(): ScryptParameters {
  const value = process.env[SCRYPT_COST_VARIABLE];
  const problem = scryptCostProblem(value);
  if (problem) throw new Error(problem);
  return { cost: value ? Number(value) : DEFAULT_SCRYPT_COST, blockSize: 8, parallelization: 1 };
}
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function derive(password: string, salt: Buffer, parameters: ScryptParameters): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFKC'),
      salt,
      KEY_LENGTH,
      {
        N: parameters.cost,
        r: parameters.blockSize,
        p: parameters.parallelization,
        maxmem: 64 * 1024 * 1024,
      },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** `scrypt$N$r$p$<salt base64>$<key base64>` */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const parameters = currentParameters();
  const key = await derive(password, salt, parameters);
  return [
    'scrypt',
    parameters.cost,
    parameters.blockSize,
    parameters.parallelization,
    salt.toString('base64'),
    key.toString('base64'),
  ].join('$');
}

interface ParsedHash {
  parameters: ScryptParameters;
  salt: Buffer;
  key: Buffer;
}

function parseHash(encoded: string): ParsedHash | undefined {
  const [scheme, cost, blockSize, parallelization, salt, key] = encoded.split('$');
  if (scheme !== 'scrypt' || !cost || !blockSize || !parallelization || !salt || !key) return undefined;
  return {
    parameters: { cost: Number(cost), blockSize: Number(blockSize), parallelization: Number(parallelization) },
    salt: Buffer.from(salt, 'base64'),
    key: Buffer.from(key, 'base64'),
  };
}

const dummyHashes = new Map<number, Promise<string>>();
/**
 * A hash of a random password, made once per process and cost, verified against when the user does not exist:
 * at the cost new hashes get, so an unknown user costs what a user provisioned beside it does.
 */
function dummy(): Promise<string> {
  const { cost } = currentParameters();
  let hash = dummyHashes.get(cost);
  if (!hash) {
    hash = hashPassword(randomBytes(24).toString('base64'));
    dummyHashes.set(cost, hash);
  }
  return hash;
}

/**
 * True when `password` matches `encoded`. With `encoded` undefined (unknown
 * user) the same work is done against the dummy hash and false is returned.
 */
export async function verifyPassword(password: string, encoded: string | undefined): Promise<boolean> {
  const parsed = parseHash(encoded ?? (await dummy())) ?? parseHash(await dummy());
  if (!parsed) return false;
  const derived = await derive(password, parsed.salt, parsed.parameters);
  const matches = derived.length === parsed.key.length && timingSafeEqual(derived, parsed.key);
  return encoded !== undefined && matches;
}

/** Warms the dummy hash so the first unknown-user login is not slower than the rest. */
export async function preparePasswordHashing(): Promise<void> {
  await dummy();
}
