/**
 * The accounts the default checklist's gate signs in with. The observing
 * checks share `secgate-probe`; each check that locks an account or counts
 * failures gets one of its own, so that the gate can run them at the same time
 * (a check that locks an account holds it alone while it runs). They all share
 * one password and one TOTP secret: the gate is given one set of credentials.
 */

import { provisionUser } from './auth/accounts.js';
import { newTotpSecret } from './auth/totp.js';
import { applyMigrations } from './db/migrate.js';
import { createPool } from './db/pool.js';

export const PROBE_ACCOUNT = 'secgate-probe';
export const NO_MFA_ACCOUNT = 'secgate-nomfa';
/** checklist.yaml's auth.accounts: the name a check's `account:` parameter uses → the username. */
export const DEDICATED_PROBE_ACCOUNTS: Readonly<Record<string, string>> = {
  lockout: 'secgate-probe-lockout',
  'ip-block': 'secgate-probe-ipblock',
  'failure-events': 'secgate-probe-events',
  'no-enumeration': 'secgate-probe-enum',
};

export interface ProbeCredentials {
  password: string;
  noMfaPassword: string;
  /** Unset: a new one is made. */
  totpSecret?: string;
}

/** Creates (or resets) every probe account on the service's database; returns the shared TOTP secret. */
export async function provisionProbeAccounts(
  databaseUrl: string,
  credentials: ProbeCredentials,
): Promise<{ totpSecret: string }> {
  const totpSecret = credentials.totpSecret ?? newTotpSecret();
  const pool = createPool(databaseUrl, 2);
  try {
    await applyMigrations(pool);
    for (const username of [PROBE_ACCOUNT, ...Object.values(DEDICATED_PROBE_ACCOUNTS)]) {
      await provisionUser(pool, { username, password: credentials.password, mfa: 'totp', totpSecret });
    }
    await provisionUser(pool, { username: NO_MFA_ACCOUNT, password: credentials.noMfaPassword, mfa: 'none' });
    return { totpSecret };
  } finally {
    await pool.end();
  }
}
