/**
 * vitest globalSetup: what the whole run shares, made once before any test
 * file starts and removed after the last one.
 *
 * - **A PostgreSQL server.** The one DATABASE_URL names (CI sets the
 *   machine's server), or else one embedded PostgreSQL for the run. Its URL
 *   goes into DATABASE_URL, which the workers inherit when they start and pass
 *   on to the processes tests spawn. Each case creates its own database on it
 *   (test/support/database.ts); starting a cluster per case cost seconds each,
 *   and creating a database a tenth of a second of the server's CPU, so a
 *   worker empties a case's database and hands it to its next case; the
 *   teardown drops what the run made. A run holds an advisory lock on its
 *   token while it lives, and drops what runs killed before their teardown
 *   left on a shared server (their lock is free).
 * - **Key material.** RSA key generation was a third of the suite's CPU time:
 *   every reference service made a 3072-bit CA and a server key, every TLS
 *   fixture its keys. The reference service's PKI is made here once and each
 *   service copies it into its data directory (test/support/reference-service.ts),
 *   and a pool of RSA key pairs is handed to the fixtures
 *   (fixtures/tls/key-pool.ts), which use each at most once per test file.
 *   test/support/worker-setup.ts passes both on inside each worker.
 * - **Cheaper password hashes.** Each reference-service login costs one scrypt
 *   hash; at the production cost (N=2^14) the suite's thousands of logins were
 *   a sixth of its CPU time. SECGATE_SERVICE_SCRYPT_COST lowers the cost for
 *   every service and provisioning in the run, in-process or spawned (they
 *   inherit the environment), so the unknown-user dummy hash always costs what
 *   a provisioned user's does. test/service/passwords.test.ts holds the
 *   production cost and the variable's bounds.
 */
import { createHash, generateKeyPair, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import type { KeyPairPem } from '../../fixtures/tls/key-pool.js';
import { SCRYPT_COST_VARIABLE } from '../../src/service/auth/passwords.js';
import { startEmbeddedDatabase } from '../../src/service/db/embedded.js';
import { ensureServerCredentials } from '../../src/service/pki.js';
import { dropRunDatabases, holdRunLock, sweepAbandonedRuns, TEST_RUN_VARIABLE } from './database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Directory holding a reference-service PKI (ca.crt, ca.key, server.crt, server.key). */
    referencePkiDir: string;
    /** Pre-generated RSA key pairs by modulus length. */
    rsaKeyPool: Record<number, KeyPairPem[]>;
  }
}

/**
 * How many keys of each size one test file may take before it generates its
 * own: the most any file takes today (tls.certificate's table) plus headroom.
 */
const KEY_POOL_SIZES: Readonly<Record<number, number>> = { 1024: 3, 2048: 18 };

function rsaKeyPair(modulusLength: number): Promise<KeyPairPem> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      'rsa',
      {
        modulusLength,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      },
      (error, publicKeyPem, privateKeyPem) => (error ? reject(error) : resolve({ privateKeyPem, publicKeyPem })),
    );
  });
}

async function rsaKeyPool(): Promise<Record<number, KeyPairPem[]>> {
  const pool: Record<number, KeyPairPem[]> = {};
  for (const [bits, count] of Object.entries(KEY_POOL_SIZES)) {
    pool[Number(bits)] = await Promise.all(Array.from({ length: count }, () => rsaKeyPair(Number(bits))));
  }
  return pool;
}

/** The run's database server: DATABASE_URL's, or an embedded one (stopped by the returned function). */
async function databaseServer(): Promise<() => Promise<void>> {
  const serverUrl = process.env.DATABASE_URL;
  // A server that outlives the run keeps nothing of it: the databases and roles the workers kept for reuse
  // (test/support/database.ts) carry the run's token in their names.
  const token = randomBytes(4).toString('hex');
  process.env[TEST_RUN_VARIABLE] = token;
  if (serverUrl) {
    // Held before any database of this run exists, so a later run's sweep never takes this run for a dead one;
    // then what killed runs left on a shared server is dropped.
    const releaseRunLock = await holdRunLock(serverUrl, token);
    await sweepAbandonedRuns(serverUrl);
    return async () => {
      try {
        await dropRunDatabases(serverUrl, token);
      } finally {
        await releaseRunLock();
      }
    };
  }
  // A throwaway cluster: no durability needed, and CREATE DATABASE per case is then cheap. The run lock is held
  // here too, so a sweep (test/support/database.test.ts proves it) sees this run as alive.
  const embedded = await startEmbeddedDatabase({ throwaway: true });
  process.env.DATABASE_URL = embedded.databaseUrl;
  const releaseRunLock = await holdRunLock(embedded.databaseUrl, token);
  return async () => {
    delete process.env.DATABASE_URL;
    await releaseRunLock();
    await embedded.stop();
  };
}

/**
 * Tests that spawn bin/secgate run the bundle (dist/cli, scripts/bundle-cli.mjs), not dist/src: after a `tsc`
 * alone it would be the old code, and a green run would prove nothing about the new. The bundle lists the
 * files it was made from with their hashes; any that changed since is a stale bundle, and the run stops.
 */
async function refuseStaleBundle(): Promise<void> {
  const listed = 'dist/cli/inputs.json';
  let inputs: Record<string, string>;
  try {
    inputs = JSON.parse(await readFile(listed, 'utf8')) as Record<string, string>;
  } catch {
    throw new Error(
      `${listed} is missing: the CLI the tests spawn is not built. Run \`npm run build\` (npm test does).`,
    );
  }
  const changed: string[] = [];
  for (const [file, sha256] of Object.entries(inputs)) {
    const now = await readFile(file).then(
      (bytes) => createHash('sha256').update(bytes).digest('hex'),
      () => 'gone',
    );
    if (now !== sha256) changed.push(file);
  }
  if (changed.length > 0)
    throw new Error(
      `dist/cli (what bin/secgate runs) was built from older files than these: ${changed.slice(0, 5).join(', ')}` +
        `${changed.length > 5 ? ` and ${changed.length - 5} more` : ''}. Run \`npm run build\` (npm test does).`,
    );
}

/** The lowest cost the service accepts: 1 MiB and about a millisecond per hash. */
const TEST_SCRYPT_COST = '1024';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await refuseStaleBundle();
  process.env[SCRYPT_COST_VARIABLE] ??= TEST_SCRYPT_COST;
  const scratchDir = await mkdtemp(path.join(os.tmpdir(), 'secgate-test-run-'));
  const referenceDir = path.join(scratchDir, 'reference');
  const [database, pool, referencePki] = await Promise.allSettled([
    databaseServer(),
    rsaKeyPool(),
    ensureServerCredentials({ dataDir: referenceDir }),
  ]);
  const stopDatabase = database.status === 'fulfilled' ? database.value : async () => {};
  if (pool.status === 'rejected' || referencePki.status === 'rejected' || database.status === 'rejected') {
    await stopDatabase();
    await rm(scratchDir, { recursive: true, force: true });
    throw [database, pool, referencePki].find((result) => result.status === 'rejected')?.reason;
  }
  project.provide('rsaKeyPool', pool.value);
  project.provide('referencePkiDir', path.join(referenceDir, 'pki'));
  return async () => {
    try {
      await stopDatabase();
    } finally {
      await rm(scratchDir, { recursive: true, force: true });
    }
  };
}
