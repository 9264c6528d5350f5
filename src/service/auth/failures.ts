/**
 * The failure audit and account lockout, decided atomically in PostgreSQL.
 * Each failure is one transaction on its own pooled connection (never the
 * request's), so the row commits whatever the request does next:
 *
 *   1. the user row is locked (FOR UPDATE) and the lockout decision applied;
 *   2. the failure row is inserted;
 *   3. the request's credential admission (auth/admission.ts) is deleted.
 *
 * Fifty concurrent wrong passwords therefore lock exactly as fifty
 * sequential ones. Steps 2 and 3 commit together, so whoever counts an
 * address's failures plus its admissions in flight sees this check as one or
 * the other, never both and never neither. IP blocks are decided at
 * admission, before a credential check runs, not here.
 */
import type { Pool } from '../db/pool.js';
import { storableText } from '../db/text.js';
import { decideLockout, type FailureEventType, type SecurityPolicy } from './policy.js';

export interface FailureReport {
  eventType: FailureEventType;
  username: string | null;
  ipAddress: string;
  method: string;
  path: string;
  detail?: string;
  /** The account whose consecutive-failure counter this failure advances. */
  lockoutUserId?: string;
  /** The credential admission this failure settles (deleted with the failure row). */
  admissionId?: string;
}

export interface FailureOutcome {
  /** The event type actually recorded (may become `locked_account`). */
  eventType: FailureEventType;
  accountLockedNow: boolean;
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
    if (report.admissionId !== undefined) {
      await client.query('DELETE FROM credential_admissions WHERE id = $1', [report.admissionId]);
    }
    await client.query('COMMIT');
    return { eventType, accountLockedNow };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
