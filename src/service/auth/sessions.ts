/**
 * Sessions, refresh-token rotation and MFA challenges. Everything that must
 * not race (consuming a challenge, rotating a refresh token) is one SQL
 * statement or a row-locked transaction.
 */
import { inTransaction, type Pool } from '../db/pool.js';
import { newOpaqueToken, tokenHash } from './tokens.js';

export const MFA_CHALLENGE_TTL_SECONDS = 5 * 60;

export async function createMfaChallenge(pool: Pool, userId: string): Promise<string> {
  const challenge = newOpaqueToken('sgc');
  await pool.query(
    `INSERT INTO mfa_challenges (user_id, token_hash, expires_at)
     VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))`,
    [userId, tokenHash(challenge), MFA_CHALLENGE_TTL_SECONDS],
  );
  return challenge;
}

export type ChallengeVerdict =
  | { ok: true; userId: string }
  | { ok: false; reason: 'unknown' | 'expired'; userId?: string };

/** Single use: the first attempt consumes the challenge, whether its code is right or wrong. */
export async function consumeMfaChallenge(pool: Pool, challenge: string): Promise<ChallengeVerdict> {
  const result = await pool.query<{ user_id: string; expired: boolean }>(
    `UPDATE mfa_challenges SET used_at = clock_timestamp()
      WHERE token_hash = $1 AND used_at IS NULL
      RETURNING user_id, expires_at <= clock_timestamp() AS expired`,
    [tokenHash(challenge)],
  );
  const row = result.rows[0];
  if (!row) return { ok: false, reason: 'unknown' };
  return row.expired ? { ok: false, reason: 'expired', userId: row.user_id } : { ok: true, userId: row.user_id };
}

export interface IssuedSession {
  sessionId: string;
  refreshToken: string;
}

export interface SessionSettings {
  refreshTokenTtlSeconds: number;
  sessionTtlSeconds: number;
}

export async function createSession(
  pool: Pool,
  settings: SessionSettings,
  userId: string,
  ipAddress: string,
): Promise<IssuedSession> {
  const refreshToken = newOpaqueToken('sgr');
  const sessionId = await inTransaction(pool, async (client) => {
    const session = await client.query<{ id: string }>(
      `INSERT INTO user_sessions (user_id, ip_address, mfa_verified, expires_at)
       VALUES ($1, $2, true, clock_timestamp() + make_interval(secs => $3)) RETURNING id`,
      [userId, ipAddress, settings.sessionTtlSeconds],
    );
    const id = session.rows[0]?.id;
    if (id === undefined) throw new Error('session insert returned no id');
    await client.query(
      `INSERT INTO refresh_tokens (session_id, token_hash, expires_at)
       VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))`,
      [id, tokenHash(refreshToken), settings.refreshTokenTtlSeconds],
    );
    return id;
  });
  return { sessionId, refreshToken };
}

export type RefreshVerdict =
  | { ok: true; sessionId: string; refreshToken: string; userId: string; role: string; username: string }
  | {
      ok: false;
      reason: 'unknown' | 'reused' | 'revoked' | 'expired' | 'inactive';
      username?: string;
    };

interface RefreshRow {
  token_id: string;
  session_id: string;
  used_at: Date | null;
  token_expired: boolean;
  session_revoked: boolean;
  session_expired: boolean;
  user_id: string;
  username: string;
  role: string;
  is_active: boolean;
}

/**
 * Rotation with reuse detection: a refresh token works once. Presenting a
 * used one means it was copied — the whole session is revoked, so neither the
 * thief nor the victim can refresh again.
 */
export async function rotateRefreshToken(
  pool: Pool,
  settings: SessionSettings,
  presented: string,
): Promise<RefreshVerdict> {
  return inTransaction(pool, async (client) => {
    const found = await client.query<RefreshRow>(
      `SELECT rt.id AS token_id, rt.session_id, rt.used_at,
              rt.expires_at <= clock_timestamp() AS token_expired,
              s.revoked_at IS NOT NULL AS session_revoked,
              s.expires_at <= clock_timestamp() AS session_expired,
              u.id AS user_id, u.username, u.role, u.is_active
         FROM refresh_tokens rt
         JOIN user_sessions s ON s.id = rt.session_id
         JOIN users u ON u.id = s.user_id
        WHERE rt.token_hash = $1
        FOR UPDATE OF rt, s`,
      [tokenHash(presented)],
    );
    const row = found.rows[0];
    if (!row) return { ok: false, reason: 'unknown' };
    if (row.used_at !== null) {
      await client.query(
        `UPDATE user_sessions SET revoked_at = clock_timestamp(), revoked_reason = 'refresh_token_reuse'
          WHERE id = $1 AND revoked_at IS NULL`,
        [row.session_id],
      );
      return { ok: false, reason: 'reused', username: row.username };
    }
    if (row.session_revoked) return { ok: false, reason: 'revoked', username: row.username };
    if (row.token_expired || row.session_expired) return { ok: false, reason: 'expired', username: row.username };
    if (!row.is_active) return { ok: false, reason: 'inactive', username: row.username };
    const refreshToken = newOpaqueToken('sgr');
    await client.query('UPDATE refresh_tokens SET used_at = clock_timestamp() WHERE id = $1', [row.token_id]);
    await client.query(
      `INSERT INTO refresh_tokens (session_id, token_hash, expires_at)
       VALUES ($1, $2, least(clock_timestamp() + make_interval(secs => $3),
                            (SELECT expires_at FROM user_sessions WHERE id = $1)))`,
      [row.session_id, tokenHash(refreshToken), settings.refreshTokenTtlSeconds],
    );
    return {
      ok: true,
      sessionId: row.session_id,
      refreshToken,
      userId: row.user_id,
      role: row.role,
      username: row.username,
    };
  });
}

export async function revokeSession(pool: Pool, sessionId: string, reason: string): Promise<void> {
  await pool.query(
    `UPDATE user_sessions SET revoked_at = clock_timestamp(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL`,
    [sessionId, reason],
  );
}

export interface LiveSession {
  userId: string;
  username: string;
  role: string;
}

/** The session behind an access token, if it is still live and its user active. */
export async function liveSession(pool: Pool, sessionId: string, userId: string): Promise<LiveSession | undefined> {
  const result = await pool.query<{ user_id: string; username: string; role: string }>(
    `SELECT u.id AS user_id, u.username, u.role
       FROM user_sessions s JOIN users u ON u.id = s.user_id
      WHERE s.id = $1 AND u.id = $2 AND s.revoked_at IS NULL AND s.expires_at > clock_timestamp() AND u.is_active`,
    [sessionId, userId],
  );
  const row = result.rows[0];
  return row ? { userId: row.user_id, username: row.username, role: row.role } : undefined;
}
