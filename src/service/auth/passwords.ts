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
const CURRENT: ScryptParameters = { cost: 2 ** 14, blockSize: 8, parallelization: 1 };
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
  const key = await derive(password, salt, CURRENT);
  return [
    'scrypt',
    CURRENT.cost,
    CURRENT.blockSize,
    CURRENT.parallelization,
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

let dummyHash: Promise<string> | undefined;
/** A hash of a random password, made once per process, verified against when the user does not exist. */
function dummy(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(24).toString('base64'));
  return dummyHash;
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
