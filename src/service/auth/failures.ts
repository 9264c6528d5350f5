/**
 * The failure audit, account lockout and IP blocking, decided atomically in
 * PostgreSQL. Each failure is one transaction on its own pooled connection
 * (never the request's), so the row commits whatever the request does next:
 *
 *   1. an advisory lock on the client IP serialises that IP's failures;
 *   2. the user row is locked (FOR UPDATE) and the lockout decision applied;
 *   3. the failure row is inserted;
 *   4. the IP's counted failures since its last block are compared with the
 *      threshold and, when exceeded, the ip_blocks row is inserted.
 *
 * Fifty concurrent wrong passwords therefore lock exactly as fifty
 * sequential ones, and the block appears with the failure that crosses the
 * threshold, with no polling delay.
 */
import type { Pool } from '../db/pool.js';
import { storableText } from '../db/text.js';
import {
  decideIpBlock,
  decideLockout,
  type FailureEventType,
  IP_COUNTED_EVENT_TYPES,
  type SecurityPolicy,
} from './policy.js';

export interface FailureReport {
  eventType: FailureEventType;
  username: string | null;
  ipAddress: string;
  method: string;
  path: string;
  detail?: string;
  /** The account whose consecutive-failure counter this failure advances. */
  lockoutUserId?: string;
}

export interface FailureOutcome {
  /** The event type actually recorded (may become `locked_account`). */
  eventType: FailureEventType;
  accountLockedNow: boolean;
  ipBlockedNow: boolean;
}

interface UserLockRow {
  failed_login_count: number;
  first_failed_at: Date | null;
  locked_until: Date | null;
  now: Date;
}

export async function recordFailure(
  pool: Pool,
  policy: SecurityPolicy,
  report: FailureReport,
): Promise<FailureOutcome> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('secgate.ip:' || $1::inet::text, 0))`, [
      report.ipAddress,
    ]);
    let eventType = report.eventType;
    let accountLockedNow = false;
    if (report.lockoutUserId !== undefined) {
      const locked = await client.query<UserLockRow>(
        `SELECT failed_login_count, first_failed_at, locked_until, clock_timestamp() AS now
           FROM users WHERE id = $1 FOR UPDATE`,
        [report.lockoutUserId],
      );
      const row = locked.rows[0];
      if (row) {
        const decision = decideLockout(
          {
            failedLoginCount: row.failed_login_count,
            firstFailedAt: row.first_failed_at,
            lockedUntil: row.locked_until,
          },
          report.eventType,
          row.now,
          policy,
        );
        eventType = decision.eventType;
        accountLockedNow = decision.lockedNow;
        await client.query(
          `UPDATE users SET failed_login_count = $2, first_failed_at = $3, locked_until = $4, updated_at = clock_timestamp()
            WHERE id = $1`,
          [
            report.lockoutUserId,
            decision.next.failedLoginCount,
            decision.next.firstFailedAt,
            decision.next.lockedUntil,
          ],
        );
      }
    } else if (report.eventType === 'unknown_user') {
      // The same two round trips as the lockout branch, so that an unknown
      // user costs what a wrong password costs (no enumeration by timing).
      await client.query(
        `SELECT failed_login_count, first_failed_at, locked_until, clock_timestamp() AS now
           FROM users WHERE id = $1 FOR UPDATE`,
        [-1],
      );
      await client.query('UPDATE users SET updated_at = clock_timestamp() WHERE id = $1', [-1]);
    }
    await client.query(
      `INSERT INTO auth_failure_events (event_type, username, ip_address, method, path, detail)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        eventType,
        report.username === null ? null : storableText(report.username),
        report.ipAddress,
        report.method,
        storableText(report.path),
        report.detail ?? null,
      ],
    );
    let ipBlockedNow = false;
    if (IP_COUNTED_EVENT_TYPES.includes(eventType)) {
      const counted = await client.query<{ failures: number; active_block: boolean }>(
        `WITH last_block AS (
           SELECT max(coalesce(lifted_at, least(expires_at, clock_timestamp()))) AS ended_at,
                  bool_or(lifted_at IS NULL AND expires_at > clock_timestamp()) AS active
             FROM ip_blocks WHERE ip_address = $1
         )
         SELECT (SELECT count(*)::int FROM auth_failure_events e
                  WHERE e.ip_address = $1
                    AND e.event_type = ANY($2::text[])
                    AND e.created_at > clock_timestamp() - make_interval(secs => $3)
                    AND e.created_at > coalesce((SELECT ended_at FROM last_block), '-infinity')) AS failures,
                coalesce((SELECT active FROM last_block), false) AS active_block`,
        [report.ipAddress, IP_COUNTED_EVENT_TYPES, policy.ipBlockWindowSeconds],
      );
      const row = counted.rows[0];
      if (row && decideIpBlock(row.failures, row.active_block, policy)) {
        await client.query(
          `INSERT INTO ip_blocks (ip_address, reason, expires_at)
           VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))`,
          [
            report.ipAddress,
            `${row.failures} authentication failures within ${policy.ipBlockWindowSeconds}s (threshold ${policy.ipBlockThreshold})`,
            policy.ipBlockDurationSeconds,
          ],
        );
        ipBlockedNow = true;
      }
    }
    await client.query('COMMIT');
    return { eventType, accountLockedNow, ipBlockedNow };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** Whether the IP has an active block right now. */
export async function isIpBlocked(pool: Pool, ipAddress: string): Promise<boolean> {
  const result = await pool.query(
    `SELECT 1 FROM ip_blocks WHERE ip_address = $1 AND lifted_at IS NULL AND expires_at > clock_timestamp() LIMIT 1`,
    [ipAddress],
  );
  return (result.rowCount ?? 0) > 0;
}
