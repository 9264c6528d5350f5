/**
 * Schema migrations as TypeScript modules (tsc does not copy .sql files into
 * dist/). Append only: an applied migration is never edited.
 */
export interface Migration {
  id: string;
  sql: string;
}

const initialSchema = `
CREATE TABLE users (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username         text NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 128),
  password_hash    text NOT NULL,
  role             text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  is_active        boolean NOT NULL DEFAULT true,
  -- Consecutive failures inside the current window; reset by a successful login.
  failed_login_count integer NOT NULL DEFAULT 0,
  first_failed_at  timestamptz,
  locked_until     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mfa_devices (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind         text NOT NULL DEFAULT 'totp' CHECK (kind = 'totp'),
  secret       text NOT NULL,
  verified_at  timestamptz,
  last_used_step bigint,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mfa_devices_user ON mfa_devices (user_id);

CREATE TABLE user_sessions (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id        bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  ip_address     inet NOT NULL,
  mfa_verified   boolean NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  revoked_at     timestamptz,
  revoked_reason text
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);

CREATE TABLE refresh_tokens (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  session_id   uuid NOT NULL REFERENCES user_sessions(id) ON DELETE CASCADE,
  -- sha256 of the token; the token itself is never stored.
  token_hash   bytea NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE mfa_challenges (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash   bytea NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz
);

CREATE TABLE auth_failure_events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  event_type  text NOT NULL CHECK (event_type IN
    ('bad_password', 'unknown_user', 'bad_totp', 'expired_token', 'invalid_token', 'locked_account', 'blocked_ip')),
  username    text,
  ip_address  inet NOT NULL,
  method      text NOT NULL,
  path        text NOT NULL,
  -- Finer reason inside the event type, e.g. missing_token, refresh_reuse, mfa_not_enrolled.
  detail      text
);
CREATE INDEX auth_failure_events_ip_time ON auth_failure_events (ip_address, created_at);
CREATE INDEX auth_failure_events_time ON auth_failure_events (created_at);

CREATE TABLE ip_blocks (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ip_address  inet NOT NULL,
  reason      text NOT NULL,
  blocked_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  expires_at  timestamptz NOT NULL,
  lifted_at   timestamptz
);
CREATE INDEX ip_blocks_ip ON ip_blocks (ip_address, expires_at);

CREATE TABLE notes (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  body        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notes_user ON notes (user_id);
`;

/**
 * Exact IP-block admission (src/service/auth/admission.ts): one row per
 * credential check admitted for an address and not yet settled. A settled
 * check deletes its row, in the same transaction as its failure row when it
 * failed; a row left by a crashed process counts as a failure once stale.
 * The partial index serves the count of an address's failures without
 * reading its blocked_ip rows, which a blocked address piles up.
 */
const credentialAdmissions = `
CREATE TABLE credential_admissions (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ip_address   inet NOT NULL,
  admitted_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX credential_admissions_ip_time ON credential_admissions (ip_address, admitted_at);

CREATE INDEX auth_failure_events_counted_ip_time ON auth_failure_events (ip_address, created_at)
  WHERE event_type IN ('bad_password', 'unknown_user', 'bad_totp', 'locked_account');
`;

export const migrations: readonly Migration[] = [
  { id: '0001_initial_schema', sql: initialSchema },
  { id: '0002_credential_admissions', sql: credentialAdmissions },
];
