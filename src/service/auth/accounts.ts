/** Account administration: provisioning, TOTP enrolment, unlocking and unblocking. */
import { inTransaction, type Pool } from '../db/pool.js';
import { hashPassword } from './passwords.js';
import { matchingStep, newTotpSecret, provisioningUri } from './totp.js';

export type AccountRole = 'user' | 'admin';

export interface AccountSpec {
  username: string;
  password: string;
  role?: AccountRole;
  /** `totp`: a verified TOTP device is created; `none`: the account has no second factor. */
  mfa: 'totp' | 'none';
  /**
   * The device's secret (base32) instead of a new one: probe accounts that share one authenticator, so that
   * a gate needs one TOTP secret however many accounts it is given.
   */
  totpSecret?: string;
}

/**
 * Creates or resets an account: password, role, lock state and MFA devices.
 * Idempotent — re-provisioning the same spec yields the same state (with a new TOTP secret).
 */
export async function provisionUser(pool: Pool, spec: AccountSpec): Promise<{ totpSecret?: string }> {
  const passwordHash = await hashPassword(spec.password);
  return inTransaction(pool, async (client) => {
    const user = await client.query<{ id: string }>(
      `INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)
       ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role,
         is_active = true, failed_login_count = 0, first_failed_at = NULL, locked_until = NULL, updated_at = now()
       RETURNING id`,
      [spec.username, passwordHash, spec.role ?? 'user'],
    );
    const userId = user.rows[0]?.id;
    if (userId === undefined) throw new Error(`could not provision account ${spec.username}`);
    await client.query('DELETE FROM mfa_devices WHERE user_id = $1', [userId]);
    if (spec.mfa === 'none') return {};
    const totpSecret = spec.totpSecret ?? newTotpSecret();
    await client.query(`INSERT INTO mfa_devices (user_id, kind, secret, verified_at) VALUES ($1, 'totp', $2, now())`, [
      userId,
      totpSecret,
    ]);
    return { totpSecret };
  });
}

export class AccountNotFoundError extends Error {
  constructor(username: string) {
    super(`no account named ${JSON.stringify(username)}`);
    this.name = 'AccountNotFoundError';
  }
}

async function userId(pool: Pool, username: string): Promise<string> {
  const result = await pool.query<{ id: string }>('SELECT id FROM users WHERE username = $1', [username]);
  const id = result.rows[0]?.id;
  if (id === undefined) throw new AccountNotFoundError(username);
  return id;
}

/** Step 1 of enrolment: a new unverified TOTP device and its provisioning URI (for a QR code). */
export async function beginTotpEnrollment(pool: Pool, username: string): Promise<{ secret: string; uri: string }> {
  const id = await userId(pool, username);
  const secret = newTotpSecret();
  await inTransaction(pool, async (client) => {
    await client.query('DELETE FROM mfa_devices WHERE user_id = $1 AND verified_at IS NULL', [id]);
    await client.query(`INSERT INTO mfa_devices (user_id, kind, secret) VALUES ($1, 'totp', $2)`, [id, secret]);
  });
  return { secret, uri: provisioningUri(secret, username) };
}

/** Step 2 of enrolment: the first code proves the device works; only then is it verified. */
export async function confirmTotpEnrollment(pool: Pool, username: string, code: string): Promise<boolean> {
  const id = await userId(pool, username);
  const pending = await pool.query<{ id: string; secret: string }>(
    'SELECT id, secret FROM mfa_devices WHERE user_id = $1 AND verified_at IS NULL ORDER BY created_at DESC LIMIT 1',
    [id],
  );
  const device = pending.rows[0];
  if (!device) return false;
  const step = matchingStep(device.secret, code);
  if (step === undefined) return false;
  await inTransaction(pool, async (client) => {
    await client.query('UPDATE mfa_devices SET verified_at = now(), last_used_step = $2 WHERE id = $1', [
      device.id,
      step,
    ]);
    // One verified device per account: the new one replaces the old.
    await client.query('DELETE FROM mfa_devices WHERE user_id = $1 AND id <> $2', [id, device.id]);
  });
  return true;
}

export async function unlockAccount(pool: Pool, username: string): Promise<void> {
  const result = await pool.query(
    `UPDATE users SET failed_login_count = 0, first_failed_at = NULL, locked_until = NULL, updated_at = now()
      WHERE username = $1`,
    [username],
  );
  if (result.rowCount === 0) throw new AccountNotFoundError(username);
}

/** Lifts every active block of the address; returns how many were lifted. */
export async function unblockIp(pool: Pool, ipAddress: string): Promise<number> {
  const result = await pool.query(
    `UPDATE ip_blocks SET lifted_at = clock_timestamp()
      WHERE ip_address = $1 AND lifted_at IS NULL AND expires_at > clock_timestamp()`,
    [ipAddress],
  );
  return result.rowCount ?? 0;
}
