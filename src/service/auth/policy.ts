/** Lockout and IP-block thresholds, and the pure decisions built on them. */

export interface SecurityPolicy {
  /** Consecutive failures within the window that lock the account (the N-th failure locks). */
  lockoutThreshold: number;
  lockoutWindowSeconds: number;
  lockoutDurationSeconds: number;
  /**
   * Counted failures one address may reach within the window. Its next credential attempt is not
   * evaluated: it is refused and blocks the address ("block after more than this many failures").
   */
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

/** What one address has spent of its credential checks, read under that address's lock. */
export interface AdmissionState {
  activeBlock: boolean;
  /** Counted failures in the window since the address's last block ended. */
  failures: number;
  /** Admitted checks never settled within the stale age (a crashed process): counted as failures. */
  staleAdmissions: number;
  /** Admitted checks still running: each may yet become a failure. */
  pendingAdmissions: number;
}

/**
 * `admit`: run the credential check. `refuse`: the address is blocked.
 * `block`: the threshold is spent, so this attempt is refused and blocks the
 * address. `wait`: the checks in flight could spend the threshold, so whether
 * this one may run depends on how they end — decide again once one settles.
 * Admitting it now could exceed the threshold; refusing it could refuse what
 * the policy allows.
 */
export type AdmissionDecision = 'admit' | 'refuse' | 'block' | 'wait';

export function decideAdmission(state: AdmissionState, policy: SecurityPolicy): AdmissionDecision {
  if (state.activeBlock) return 'refuse';
  const spent = state.failures + state.staleAdmissions;
  if (spent >= policy.ipBlockThreshold) return 'block';
  if (spent + state.pendingAdmissions >= policy.ipBlockThreshold) return 'wait';
  return 'admit';
}
