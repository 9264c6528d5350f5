/**
 * The reference service: start it, provision accounts on it. Used by
 * `secgate service start`, `npm run demo` and the integration tests.
 */
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { buildApp } from './app.js';
import { type AccountSpec, provisionUser } from './auth/accounts.js';
import {
  DEFAULT_SCRYPT_COST,
  preparePasswordHashing,
  SCRYPT_COST_VARIABLE,
  scryptCostProblem,
} from './auth/passwords.js';
import { DEFAULT_POLICY, type SecurityPolicy } from './auth/policy.js';
import { deriveSigningKeys } from './auth/tokens.js';
import { ConfigurationError, loadServiceSecrets } from './config.js';
import { type EmbeddedDatabase, startEmbeddedDatabase } from './db/embedded.js';
import { applyMigrations } from './db/migrate.js';
import { createPool } from './db/pool.js';
import type { ServiceDeps } from './deps.js';
import { createLogger, type LogDestination } from './log.js';
import { ensureServerCredentials } from './pki.js';
import { createRedirectServer } from './redirect.js';

export type { AccountSpec } from './auth/accounts.js';
export { signingKeyPem } from './auth/tokens.js';
/** The cleanup statements a checklist gives the gate (the same as `secgate service unlock|unblock-ip`). */
export { REFERENCE_CLEANUP } from './cleanup-sql.js';
export { ConfigurationError } from './config.js';
export type { LogDestination } from './log.js';
export {
  DEDICATED_PROBE_ACCOUNTS,
  NO_MFA_ACCOUNT,
  PROBE_ACCOUNT,
  type ProbeCredentials,
  provisionProbeAccounts,
} from './probe-accounts.js';

export interface ReferenceServiceOptions {
  /** PostgreSQL to use; otherwise DATABASE_URL from `env`; otherwise an embedded server (see embeddedDatabase). */
  databaseUrl?: string;
  /**
   * Without a database URL: `persistent` (default) keeps the embedded cluster under `dataDir/pg`;
   * `throwaway` starts a fresh one in a temporary directory, deleted on stop (the demo).
   */
  embeddedDatabase?: 'persistent' | 'throwaway';
  /** Where PKI and the embedded database live. Default `.secgate`. */
  dataDir?: string;
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** Name used in URLs and redirects; default `host` (or localhost when host is a wildcard). */
  publicHost?: string;
  /** 0 picks a random free port. Defaults 8443 and 8080. */
  httpsPort?: number;
  httpPort?: number;
  /** Extra certificate names (SANs) beyond localhost, 127.0.0.1 and ::1. */
  hostnames?: string[];
  /** A user-supplied certificate and key (PEM files) instead of the private CA. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  tlsCaFile?: string;
  /**
   * Reverse-proxy mode: plain HTTP on a loopback address only, with
   * X-Forwarded-For trusted solely from these proxy addresses. No TLS and no redirect listener.
   */
  behindProxy?: { trustedProxies: string[] };
  lockoutThreshold?: number;
  lockoutWindowSeconds?: number;
  lockoutDurationSeconds?: number;
  ipBlockThreshold?: number;
  ipBlockWindowSeconds?: number;
  ipBlockDurationSeconds?: number;
  accessTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
  /** Refuse a TOTP code already used by the device. Off by default: see docs/runbook.md. */
  rejectTotpReuse?: boolean;
  /** Environment to read configuration from. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where structured logs go. Default stdout. */
  logger?: LogDestination;
}

export interface RunningService {
  /** `https://host:port` (in reverse-proxy mode the plain `http://` listener). */
  httpsUrl: string;
  /** The plain-HTTP redirect listener; undefined in reverse-proxy mode. */
  httpUrl: string | undefined;
  caFile: string | undefined;
  caPem: string | undefined;
  databaseUrl: string;
  insecureDevMode: boolean;
  /** Closes the listeners and the pool, and stops the embedded PostgreSQL if one was started. Idempotent. */
  stop(): Promise<void>;
}

const ISSUER = 'secgate-reference-service';
const AUDIENCE = 'secgate-reference-api';

function urlHost(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function policyFrom(options: ReferenceServiceOptions): SecurityPolicy {
  return {
    lockoutThreshold: options.lockoutThreshold ?? DEFAULT_POLICY.lockoutThreshold,
    lockoutWindowSeconds: options.lockoutWindowSeconds ?? DEFAULT_POLICY.lockoutWindowSeconds,
    lockoutDurationSeconds: options.lockoutDurationSeconds ?? DEFAULT_POLICY.lockoutDurationSeconds,
    ipBlockThreshold: options.ipBlockThreshold ?? DEFAULT_POLICY.ipBlockThreshold,
    ipBlockWindowSeconds: options.ipBlockWindowSeconds ?? DEFAULT_POLICY.ipBlockWindowSeconds,
    ipBlockDurationSeconds: options.ipBlockDurationSeconds ?? DEFAULT_POLICY.ipBlockDurationSeconds,
  };
}

export async function startReferenceService(options: ReferenceServiceOptions = {}): Promise<RunningService> {
  const env = options.env ?? process.env;
  const secrets = loadServiceSecrets(env, options.databaseUrl);
  const logger = createLogger(options.logger);
  for (const warning of secrets.warnings) logger.warn('config.insecure_dev_mode', { problem: warning });
  // Read from the process's own environment, as password hashing is (provisioning shares it with the service).
  const scryptCost = process.env[SCRYPT_COST_VARIABLE];
  const scryptProblem = scryptCostProblem(scryptCost);
  if (scryptProblem) throw new ConfigurationError([scryptProblem]);
  if (scryptCost && Number(scryptCost) < DEFAULT_SCRYPT_COST) {
    logger.warn('config.password_hash_cost_lowered', { variable: SCRYPT_COST_VARIABLE, cost: Number(scryptCost) });
  }
  const dataDir = path.resolve(options.dataDir ?? '.secgate');
  const host = options.host ?? '127.0.0.1';
  if (options.behindProxy && !isLoopback(host)) {
    throw new Error(`reverse-proxy mode serves plain HTTP and must listen on loopback, not ${host}`);
  }
  const publicHost = options.publicHost ?? (host === '0.0.0.0' || host === '::' ? 'localhost' : host);

  const cleanups: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  };
  try {
    let embedded: EmbeddedDatabase | undefined;
    if (!secrets.databaseUrl) {
      embedded = await startEmbeddedDatabase(
        options.embeddedDatabase === 'throwaway' ? { throwaway: true } : { dataDir },
      );
      cleanups.push(() => (embedded as EmbeddedDatabase).stop());
    }
    const databaseUrl = secrets.databaseUrl ?? (embedded as EmbeddedDatabase).databaseUrl;
    const pool = createPool(databaseUrl);
    cleanups.push(() => pool.end());
    await applyMigrations(pool);
    await preparePasswordHashing();

    const deps: ServiceDeps = {
      pool,
      policy: policyFrom(options),
      keys: deriveSigningKeys(secrets.jwtSecret),
      tokens: { issuer: ISSUER, audience: AUDIENCE, accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 15 * 60 },
      sessions: {
        refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 7 * 24 * 3600,
        sessionTtlSeconds: 30 * 24 * 3600,
      },
      logger,
      corsOrigins: new Set(secrets.corsOrigins),
      insecureDevMode: secrets.insecureDevMode,
      rejectTotpReuse: options.rejectTotpReuse ?? false,
    };

    if (options.behindProxy) {
      const app = buildApp(deps, { trustedProxies: options.behindProxy.trustedProxies });
      cleanups.push(() => app.close());
      await app.listen({ host, port: options.httpsPort ?? 8080 });
      const port = (app.server.address() as AddressInfo).port;
      const url = `http://${urlHost(publicHost)}:${port}`;
      logger.info('service.started', { url, mode: 'behind-proxy', insecure_dev_mode: secrets.insecureDevMode });
      return {
        httpsUrl: url,
        httpUrl: undefined,
        caFile: undefined,
        caPem: undefined,
        databaseUrl,
        insecureDevMode: secrets.insecureDevMode,
        stop: stopAll,
      };
    }

    const credentials = await ensureServerCredentials({
      dataDir,
      hostnames: [publicHost, ...(options.hostnames ?? [])],
      ...(options.tlsCertFile ? { certFile: options.tlsCertFile } : {}),
      ...(options.tlsKeyFile ? { keyFile: options.tlsKeyFile } : {}),
      ...(options.tlsCaFile ? { caFile: options.tlsCaFile } : {}),
    });
    const app = buildApp(deps, { tls: { key: credentials.keyPem, cert: credentials.certPem } });
    cleanups.push(() => app.close());
    await app.listen({ host, port: options.httpsPort ?? 8443 });
    const httpsPort = (app.server.address() as AddressInfo).port;
    const httpsUrl = `https://${urlHost(publicHost)}:${httpsPort}`;

    const redirect = createRedirectServer(httpsUrl);
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          redirect.close(() => resolve());
          redirect.closeAllConnections();
        }),
    );
    await new Promise<void>((resolve, reject) => {
      redirect.once('error', reject);
      redirect.listen(options.httpPort ?? 8080, host, () => resolve());
    });
    const httpPort = (redirect.address() as AddressInfo).port;
    const httpUrl = `http://${urlHost(publicHost)}:${httpPort}`;
    logger.info('service.started', {
      url: httpsUrl,
      redirect_url: httpUrl,
      insecure_dev_mode: secrets.insecureDevMode,
    });
    return {
      httpsUrl,
      httpUrl,
      caFile: credentials.caFile,
      caPem: credentials.caPem,
      databaseUrl,
      insecureDevMode: secrets.insecureDevMode,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Creates or resets an account on the service's database (applying
 * migrations first, so it works before the first start). Idempotent:
 * re-provisioning resets password, lock and MFA.
 */
export async function provisionAccount(databaseUrl: string, spec: AccountSpec): Promise<{ totpSecret?: string }> {
  const pool = createPool(databaseUrl, 2);
  try {
    await applyMigrations(pool);
    return await provisionUser(pool, spec);
  } finally {
    await pool.end();
  }
}
