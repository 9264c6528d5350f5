/**
 * `npm run demo`: starts the reference service on an embedded PostgreSQL,
 * provisions the gate's probe accounts, runs `secgate verify` with the default
 * checklist.yaml as a separate process (as an operator would), writes the
 * signed evidence and the public key to .secgate/demo/, stops everything and
 * exits with the gate's exit code.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { errorMessage } from '../engine/errors.js';
import { generateSigningKeyPair } from '../evidence/keys.js';
import { provisionProbeAccounts, signingKeyPem, startReferenceService } from '../service/index.js';
import { PACKAGE_ROOT } from './package-info.js';

const DEMO_DIR = path.join(PACKAGE_ROOT, '.secgate', 'demo');

/** A strong random secret, as `openssl rand -base64 48` would give. */
function randomSecret(): string {
  return randomBytes(48).toString('base64url');
}

async function ensureSigningKey(): Promise<{ privatePath: string; publicPath: string }> {
  const privatePath = path.join(DEMO_DIR, 'signing.key.pem');
  const publicPath = path.join(DEMO_DIR, 'signing.pub.pem');
  if (!existsSync(privatePath) || !existsSync(publicPath)) {
    const pair = generateSigningKeyPair('ed25519');
    await writeFile(privatePath, pair.privatePem, { mode: 0o600 });
    await writeFile(publicPath, pair.publicPem);
  }
  return { privatePath, publicPath };
}

/** A running reference deployment and what `secgate verify` needs to gate it (the demo's and the gate bench's). */
export interface DemoDeployment {
  /** The `secgate verify` argv (after node) and its environment: the default checklist against this deployment. */
  verifyArgs: string[];
  verifyEnv: Record<string, string>;
  evidencePath: string;
  publicKeyPath: string;
  stop(): Promise<void>;
}

/**
 * Starts the reference service on a throwaway embedded PostgreSQL (or DATABASE_URL's server), logging to
 * .secgate/demo/service.log, and provisions the gate's probe accounts with fresh random credentials.
 */
export async function startDemoDeployment(): Promise<DemoDeployment> {
  // The signing key, the service log and the PKI below: for this user only.
  await mkdir(DEMO_DIR, { recursive: true, mode: 0o700 });
  const keys = await ensureSigningKey();
  const serviceSecrets = { SECGATE_JWT_SECRET: randomSecret() };
  const stateDir = path.join(DEMO_DIR, 'state');
  const logPath = path.join(DEMO_DIR, 'service.log');
  const log = createWriteStream(logPath, { flags: 'w', mode: 0o600 });
  const service = await startReferenceService({
    dataDir: stateDir,
    // A fresh database every run, in a temporary directory: lockouts and IP blocks left by an earlier run must
    // not decide this one, and a checkout in a private directory (run as root) must not keep PostgreSQL out.
    embeddedDatabase: 'throwaway',
    httpsPort: 0,
    httpPort: 0,
    env: { ...serviceSecrets },
    logger: log,
  });
  const stop = async () => {
    await service.stop();
    log.end();
  };
  try {
    const probe = { password: randomSecret() };
    const noMfa = { password: randomSecret() };
    const { totpSecret } = await provisionProbeAccounts(service.databaseUrl, {
      password: probe.password,
      noMfaPassword: noMfa.password,
    });
    const evidencePath = path.join(DEMO_DIR, 'evidence.json');
    return {
      verifyArgs: [
        path.join(PACKAGE_ROOT, 'bin', 'secgate'),
        'verify',
        '--checklist',
        path.join(PACKAGE_ROOT, 'checklist.yaml'),
        '--sign-key',
        keys.privatePath,
        '--out',
        evidencePath,
      ],
      verifyEnv: {
        ...serviceSecrets,
        SECGATE_TARGET_URL: service.httpsUrl,
        ...(service.httpUrl ? { SECGATE_TARGET_HTTP_URL: service.httpUrl } : {}),
        ...(service.caFile ? { SECGATE_CA_FILE: service.caFile } : {}),
        DATABASE_URL: service.databaseUrl,
        SECGATE_PROBE_PASSWORD: probe.password,
        SECGATE_PROBE_TOTP_SECRET: totpSecret,
        SECGATE_NOMFA_PASSWORD: noMfa.password,
        SECGATE_SERVICE_LOG: logPath,
        // The demo is a test environment: the gate may mint expired and claim-less tokens with the real key.
        SECGATE_TEST_SIGNING_KEY: signingKeyPem(serviceSecrets.SECGATE_JWT_SECRET),
        PATH: process.env.PATH ?? '',
      },
      evidencePath,
      publicKeyPath: keys.publicPath,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function runDemo(): Promise<number> {
  process.stdout.write('secgate demo: starting the reference service on an embedded PostgreSQL …\n');
  const deployment = await startDemoDeployment();
  try {
    process.stdout.write(
      `secgate demo: service at ${deployment.verifyEnv.SECGATE_TARGET_URL} (plain HTTP ${deployment.verifyEnv.SECGATE_TARGET_HTTP_URL})\n\n`,
    );
    const gate = await execa(process.execPath, deployment.verifyArgs, {
      cwd: PACKAGE_ROOT,
      reject: false,
      stdio: 'inherit',
      env: deployment.verifyEnv,
      extendEnv: false,
    });
    const exitCode = gate.exitCode ?? 3;
    const { evidencePath, publicKeyPath } = deployment;
    process.stdout.write(
      `\nsecgate demo: evidence   ${path.relative(process.cwd(), evidencePath)}\n` +
        `secgate demo: public key ${path.relative(process.cwd(), publicKeyPath)}\n` +
        `secgate demo: check it:  npx secgate evidence verify ${path.relative(process.cwd(), evidencePath)} --key ${path.relative(process.cwd(), publicKeyPath)}\n`,
    );
    await readFile(evidencePath).catch(() => process.stdout.write('secgate demo: no evidence was written\n'));
    return exitCode;
  } finally {
    await deployment.stop();
  }
}

const isEntryPoint =
  process.argv[1] !== undefined && path.resolve(process.argv[1]).endsWith(path.join('cli', 'demo.js'));
if (isEntryPoint) {
  runDemo().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`secgate demo: ${errorMessage(error)}\n`);
      process.exitCode = 3;
    },
  );
}
