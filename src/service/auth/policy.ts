/** Lockout and IP-block thresholds, and the pure decisions built on them. */

export interface SecurityPolicy {
  /** Consecutive failures within the window that lock the account (the N-th failure locks). */
  lockoutThreshold: number;
  lockoutWindowSeconds: number;
  lockoutDurationSeconds: number;
  /** An IP is blocked when its counted failures within the window exceed this number. */
  ipBlockThreshold: number;
  ipBlockWindowSeconds: number;
  ipBlockDurationSeconds: number;
}

export const DEFAULT_POLICY: SecurityPolicy = {
  lockoutThreshold: 5,
  lockoutWindowSeconds: 15 * 60,
  lockoutDurationSeconds: 15 * 60,
  ipBlockThreshold: 10,
  ipBlockWindowSeconds: 15 * 60,
  ipBlockDurationSeconds: 60 * 60,
};

export const FAILURE_EVENT_TYPES = [
  'bad_password',
  'unknown_user',
  'bad_totp',
  'expired_token',
  'invalid_token',
  'locked_account',
  'blocked_ip',
] as const;
export type FailureEventType = (typeof FAILURE_EVENT_TYPES)[number];

/**
 * Failures that count toward an IP block: attempts at credentials (password
 * or second factor). Token failures on protected resources are recorded but
 * do not count, and neither do rejections of an already blocked IP.
 */
export const IP_COUNTED_EVENT_TYPES: readonly FailureEventType[] = [
  'bad_password',
  'unknown_user',
  'bad_totp',
  'locked_account',
];

export interface LockoutState {
  failedLoginCount: number;
  firstFailedAt: Date | null;
  lockedUntil: Date | null;
}

export interface LockoutDecision {
  next: LockoutState;
  /** The event type to record: a failure against a locked account is `locked_account`. */
  eventType: FailureEventType;
  /** True when this failure is the one that locked the account. */
  lockedNow: boolean;
}

export function isLocked(state: Pick<LockoutState, 'lockedUntil'>, now: Date): boolean {
  return state.lockedUntil !== null && state.lockedUntil.getTime() > now.getTime();
}

/**
 * One more credential failure against an account. While the account is
 * locked nothing changes (the attempt is recorded as `locked_account`).
 * Otherwise the failure extends the current window or opens a new one, and
 * the threshold-th failure within the window locks the account.
 */
export function decideLockout(
  state: LockoutState,
  failure: FailureEventType,
  now: Date,
  policy: SecurityPolicy,
): LockoutDecision {
  if (isLocked(state, now)) return { next: state, eventType: 'locked_account', lockedNow: false };
  const windowOpen =
    state.firstFailedAt !== null && now.getTime() - state.firstFailedAt.getTime() < policy.lockoutWindowSeconds * 1000;
  const failedLoginCount = windowOpen ? state.failedLoginCount + 1 : 1;
  const firstFailedAt = windowOpen ? state.firstFailedAt : now;
  const lockedNow = failedLoginCount >= policy.lockoutThreshold;
  return {
    next: {
      failedLoginCount,
      firstFailedAt,
      lockedUntil: lockedNow ? new Date(now.getTime() + policy.lockoutDurationSeconds * 1000) : state.lockedUntil,
    },
    eventType: failure,
    lockedNow,
  };
}

/** Block when the counted failures in the window exceed the threshold and no block is active. */
export function decideIpBlock(countedFailures: number, activeBlock: boolean, policy: SecurityPolicy): boolean {
  return !activeBlock && countedFailures > policy.ipBlockThreshold;
}
