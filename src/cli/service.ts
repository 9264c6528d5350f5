/**
 * `secgate service …`: run and administer the reference service.
 *
 *   secgate service start [--data-dir .secgate] [--https-port 8443] [--http-port 8080] …
 *   secgate service pki [--hostname name …]
 *   secgate service user add <username> [--role user|admin] [--mfa totp|none]   (password on stdin)
 *   secgate service mfa enroll <username> [--code 123456]
 *   secgate service unlock <username>
 *   secgate service unblock-ip <address>
 *   secgate service signing-key                 (SECGATE_JWT_SECRET from the environment)
 *
 * Administrative commands use --database-url, else DATABASE_URL, else the
 * embedded PostgreSQL under the data directory (started for the command).
 */
import net from 'node:net';
import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  AccountNotFoundError,
  beginTotpEnrollment,
  confirmTotpEnrollment,
  unblockIp,
  unlockAccount,
} from '../service/auth/accounts.js';
import { ConfigurationError, DATABASE_URL_VARIABLE, JWT_SECRET_VARIABLE } from '../service/config.js';
import { EmbeddedDatabaseError, startEmbeddedDatabase } from '../service/db/embedded.js';
import { applyMigrations } from '../service/db/migrate.js';
import { createPool, type Pool } from '../service/db/pool.js';
import {
  provisionAccount,
  type ReferenceServiceOptions,
  signingKeyPem,
  startReferenceService,
} from '../service/index.js';
import { ensureServerCredentials } from '../service/pki.js';

interface DatabaseOptions {
  dataDir: string;
  databaseUrl?: string;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535)
    throw new InvalidArgumentError('expected a port from 0 to 65535');
  return parsed;
}

function positive(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

function ipAddress(value: string): string {
  if (net.isIP(value) === 0) throw new InvalidArgumentError('expected an IPv4 or IPv6 address');
  return value;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Opens the database an administrative command works on, and closes everything afterwards. */
async function withDatabase<T>(
  options: DatabaseOptions,
  work: (pool: Pool, databaseUrl: string) => Promise<T>,
): Promise<T> {
  const explicit = options.databaseUrl ?? process.env[DATABASE_URL_VARIABLE];
  const embedded = explicit ? undefined : await startEmbeddedDatabase({ dataDir: path.resolve(options.dataDir) });
  const databaseUrl = explicit ?? (embedded?.databaseUrl as string);
  const pool = createPool(databaseUrl, 2);
  try {
    await applyMigrations(pool);
    return await work(pool, databaseUrl);
  } finally {
    await pool.end();
    await embedded?.stop();
  }
}

async function readPasswordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password (ends at newline): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    if (Buffer.concat(chunks).includes(0x0a)) break;
  }
  const password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (password.length < 12) throw new InvalidArgumentError('the password must be at least 12 characters');
  return password;
}

/**
 * Runs an action, turning known errors into a message and exit code 2 instead of a stack trace. The code goes
 * through runCli's setExitCode: runCli's return value becomes the process's exit code, so a `process.exitCode`
 * set here would be overwritten with 0 (a service that refused to start must not exit 0).
 */
function guarded<Args extends unknown[]>(
  setExitCode: (code: number) => void,
  action: (...args: Args) => Promise<void>,
): (...args: Args) => Promise<void> {
  return async (...args: Args) => {
    try {
      await action(...args);
    } catch (error) {
      if (
        error instanceof ConfigurationError ||
        error instanceof EmbeddedDatabaseError ||
        error instanceof AccountNotFoundError ||
        error instanceof InvalidArgumentError
      ) {
        process.stderr.write(`secgate service: ${error.message}\n`);
        setExitCode(2);
        return;
      }
      throw error;
    }
  };
}

/**
 * Started through npx or `npm run`, this process runs as npm → sh → node, and
 * npm passes a SIGTERM on to the shell only: the shell dies and the service
 * would keep running, re-parented. So when npm started us, the launching
 * shell going away (our parent process changing) counts as SIGTERM. Without
 * npm (systemd, a shell, nohup) the parent is left alone.
 */
function whenNpmLauncherEnds(stop: () => void): () => void {
  if (!process.env.npm_command) return () => {};
  const launcher = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== launcher) stop();
  }, 500);
  timer.unref();
  return () => clearInterval(timer);
}

const dataDirOption = () => new Option('--data-dir <dir>', 'PKI and embedded PostgreSQL directory').default('.secgate');
const databaseUrlOption = () =>
  new Option('--database-url <url>', `PostgreSQL URL (default: $${DATABASE_URL_VARIABLE}, else the embedded server)`);

interface StartFlags {
  dataDir: string;
  databaseUrl?: string;
  host: string;
  publicHost?: string;
  httpsPort: number;
  httpPort: number;
  hostname?: string[];
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  behindProxy?: boolean;
  trustedProxy?: string[];
  lockoutThreshold?: number;
  ipBlockThreshold?: number;
  accessTtl?: number;
  rejectTotpReuse?: boolean;
}

export function registerServiceCommand(program: Command, setExitCode: (code: number) => void): void {
  const service = program.command('service').description('run and administer the reference service');

  service
    .command('start')
    .description('start the reference service (HTTPS + plain-HTTP redirect) until SIGINT or SIGTERM')
    .addOption(dataDirOption())
    .addOption(databaseUrlOption())
    .option('--host <address>', 'listen address', '127.0.0.1')
    .option('--public-host <name>', 'host name used in URLs and redirects (default: the listen address)')
    .option('--https-port <port>', 'HTTPS port (0 = random)', port, 8443)
    .option('--http-port <port>', 'plain-HTTP redirect port (0 = random)', port, 8080)
    .option('--hostname <name>', 'extra certificate name (repeatable)', collect)
    .option('--tls-cert <file>', 'user-supplied certificate (PEM) instead of the private CA')
    .option('--tls-key <file>', 'key of --tls-cert (PEM)')
    .option('--tls-ca <file>', 'trust anchor for --tls-cert')
    .option('--behind-proxy', 'plain HTTP on loopback behind a TLS-terminating proxy (uses --https-port)')
    .option('--trusted-proxy <address>', 'proxy address whose X-Forwarded-For is trusted (repeatable)', collect)
    .option('--lockout-threshold <n>', 'consecutive failures that lock an account', positive)
    .option('--ip-block-threshold <n>', 'failures from one address above which it is blocked', positive)
    .option('--access-ttl <seconds>', 'access-token lifetime', positive)
    .option('--reject-totp-reuse', 'refuse a TOTP code whose time step the device already used')
    .action(
      guarded(setExitCode, async (flags: StartFlags) => {
        const options: ReferenceServiceOptions = {
          dataDir: flags.dataDir,
          host: flags.host,
          httpsPort: flags.httpsPort,
          httpPort: flags.httpPort,
          ...(flags.databaseUrl ? { databaseUrl: flags.databaseUrl } : {}),
          ...(flags.publicHost ? { publicHost: flags.publicHost } : {}),
          ...(flags.hostname ? { hostnames: flags.hostname } : {}),
          ...(flags.tlsCert ? { tlsCertFile: flags.tlsCert } : {}),
          ...(flags.tlsKey ? { tlsKeyFile: flags.tlsKey } : {}),
          ...(flags.tlsCa ? { tlsCaFile: flags.tlsCa } : {}),
          ...(flags.behindProxy ? { behindProxy: { trustedProxies: flags.trustedProxy ?? [] } } : {}),
          ...(flags.lockoutThreshold ? { lockoutThreshold: flags.lockoutThreshold } : {}),
          ...(flags.ipBlockThreshold ? { ipBlockThreshold: flags.ipBlockThreshold } : {}),
          ...(flags.accessTtl ? { accessTokenTtlSeconds: flags.accessTtl } : {}),
          ...(flags.rejectTotpReuse ? { rejectTotpReuse: true } : {}),
        };
        const running = await startReferenceService(options);
        process.stderr.write(
          [
            `secgate service: listening on ${running.httpsUrl}`,
            running.httpUrl ? `  plain HTTP ${running.httpUrl} redirects to it` : '',
            running.caFile ? `  trust anchor: ${running.caFile}` : '',
            running.insecureDevMode ? '  WARNING: insecure development mode (SECGATE_SERVICE_DEV_INSECURE)' : '',
            '  stop with Ctrl-C',
            '',
          ]
            .filter((line) => line !== '')
            .join('\n')
            .concat('\n'),
        );
        await new Promise<void>((resolve) => {
          let stopWatching = () => {};
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            stopWatching();
            resolve();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
          stopWatching = whenNpmLauncherEnds(stop);
        });
        await running.stop();
        process.stderr.write('secgate service: stopped\n');
      }),
    );

  service
    .command('pki')
    .description('create (or reuse) the private CA and server certificate under <data-dir>/pki')
    .addOption(dataDirOption())
    .option('--hostname <name>', 'extra certificate name (repeatable)', collect)
    .action(
      guarded(setExitCode, async (flags: { dataDir: string; hostname?: string[] }) => {
        const credentials = await ensureServerCredentials({ dataDir: flags.dataDir, hostnames: flags.hostname ?? [] });
        const pkiDir = path.dirname(credentials.caFile);
        process.stdout.write(
          `CA certificate:     ${credentials.caFile}\nserver certificate: ${path.join(pkiDir, 'server.crt')}\nserver key:         ${path.join(pkiDir, 'server.key')} (mode 0600)\n`,
        );
      }),
    );

  const user = service.command('user').description('manage accounts');
  user
    .command('add <username>')
    .description('create or reset an account; the password is read from stdin (never an argument)')
    .addOption(dataDirOption())
    .addOption(databaseUrlOption())
    .addOption(new Option('--role <role>', 'account role').choices(['user', 'admin']).default('user'))
    .addOption(
      new Option('--mfa <kind>', 'totp: enrol a verified TOTP device now; none: enrol later')
        .choices(['totp', 'none'])
        .default('totp'),
    )
    .option(
      '--totp-secret-env <variable>',
      'with --mfa totp: the device takes the (base32) secret in this environment variable instead of a new one, e.g. probe accounts that share one authenticator',
    )
    .action(
      guarded(
        setExitCode,
        async (
          username: string,
          flags: DatabaseOptions & { role: 'user' | 'admin'; mfa: 'totp' | 'none'; totpSecretEnv?: string },
        ) => {
          const totpSecret =
            flags.totpSecretEnv === undefined ? undefined : totpSecretFrom(flags.totpSecretEnv, flags.mfa);
          const password = await readPasswordFromStdin();
          const databaseUrl = flags.databaseUrl ?? process.env[DATABASE_URL_VARIABLE];
          const provision = (url: string) =>
            provisionAccount(url, {
              username,
              password,
              role: flags.role,
              mfa: flags.mfa,
              ...(totpSecret ? { totpSecret } : {}),
            });
          const result = databaseUrl
            ? await provision(databaseUrl)
            : await withDatabase(flags, (_pool, url) => provision(url));
          process.stdout.write(`account ${username} provisioned (role ${flags.role})\n`);
          if (totpSecret) {
            process.stdout.write(`TOTP device set up with the secret in ${flags.totpSecretEnv}\n`);
          } else if (result.totpSecret) {
            process.stdout.write(`TOTP secret (shown once, add it to the authenticator): ${result.totpSecret}\n`);
          } else {
            process.stdout.write(
              `no second factor yet: the account cannot sign in until \`secgate service mfa enroll ${username}\`\n`,
            );
          }
        },
      ),
    );

  service
    .command('mfa')
    .description('manage second factors')
    .command('enroll <username>')
    .description(
      'without --code: start TOTP enrolment and print the provisioning URI; with --code: verify the first code',
    )
    .addOption(dataDirOption())
    .addOption(databaseUrlOption())
    .option('--code <code>', 'the first code shown by the authenticator')
    .action(
      guarded(setExitCode, async (username: string, flags: DatabaseOptions & { code?: string }) => {
        await withDatabase(flags, async (pool) => {
          if (flags.code === undefined) {
            const enrollment = await beginTotpEnrollment(pool, username);
            process.stdout.write(
              `provisioning URI (render as a QR code, or enter the secret by hand):\n${enrollment.uri}\nthen run: secgate service mfa enroll ${username} --code <code>\n`,
            );
            return;
          }
          if (await confirmTotpEnrollment(pool, username, flags.code)) {
            process.stdout.write(`TOTP device of ${username} verified; the account can sign in\n`);
          } else {
            process.stderr.write(`secgate service: the code does not match the pending device of ${username}\n`);
            setExitCode(1);
          }
        });
      }),
    );

  service
    .command('unlock <username>')
    .description('lift an account lockout and reset its failure counter')
    .addOption(dataDirOption())
    .addOption(databaseUrlOption())
    .action(
      guarded(setExitCode, async (username: string, flags: DatabaseOptions) => {
        await withDatabase(flags, (pool) => unlockAccount(pool, username));
        process.stdout.write(`account ${username} unlocked\n`);
      }),
    );

  service
    .command('unblock-ip <address>')
    .description('lift the active block of a client address')
    .addOption(dataDirOption())
    .addOption(databaseUrlOption())
    .action(
      guarded(setExitCode, async (address: string, flags: DatabaseOptions) => {
        const lifted = await withDatabase(flags, (pool) => unblockIp(pool, ipAddress(address)));
        process.stdout.write(lifted > 0 ? `block of ${address} lifted\n` : `${address} had no active block\n`);
      }),
    );

  service
    .command('signing-key')
    .description(
      `print the private key (PEM) the service signs tokens with, derived from ${JWT_SECRET_VARIABLE}: the gate's signing_key_env in a test environment`,
    )
    .action(
      guarded(setExitCode, async () => {
        // Read from the environment like `service start`: a secret never goes in an argument, which `ps` shows.
        const secret = process.env[JWT_SECRET_VARIABLE];
        if (!secret)
          throw new InvalidArgumentError(`${JWT_SECRET_VARIABLE} is not set: export the service's secret first`);
        process.stdout.write(signingKeyPem(secret));
      }),
    );
}

/** A TOTP secret handed over in an environment variable (never an argument, which `ps` shows). */
function totpSecretFrom(variable: string, mfa: 'totp' | 'none'): string {
  if (mfa !== 'totp') throw new InvalidArgumentError('--totp-secret-env needs --mfa totp');
  const secret = process.env[variable];
  if (!secret) throw new InvalidArgumentError(`${variable} is not set: export the TOTP secret first`);
  if (!/^[A-Z2-7]{16,}=*$/.test(secret)) {
    throw new InvalidArgumentError(`${variable} is not a base32 TOTP secret (A–Z and 2–7, at least 16 characters)`);
  }
  return secret;
}
