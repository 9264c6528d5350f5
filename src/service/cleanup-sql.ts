/**
 * The statements a checklist gives the gate to undo what its probes did to
 * the reference service (the same as `secgate service unlock|unblock-ip`):
 * `$1` is the username or the address. One copy: the service, `secgate init`
 * and the tests read it here, and a test holds the shipped checklist.yaml to it.
 */
export const REFERENCE_CLEANUP = {
  unlock_account_sql:
    'UPDATE users SET failed_login_count = 0, first_failed_at = NULL, locked_until = NULL WHERE username = $1',
  unblock_ip_sql:
    'UPDATE ip_blocks SET lifted_at = clock_timestamp() WHERE ip_address = $1::inet AND lifted_at IS NULL',
  forget_address_failures_sql: 'DELETE FROM auth_failure_events WHERE ip_address = $1::inet',
  forget_account_failures_sql: 'DELETE FROM auth_failure_events WHERE username = $1',
} as const;
