/** What the routes and hooks share: built once at start-up in index.ts. */

import type { SecurityPolicy } from './auth/policy.js';
import type { SessionSettings } from './auth/sessions.js';
import type { SigningKeys, TokenSettings } from './auth/tokens.js';
import type { Pool } from './db/pool.js';
import type { ServiceLogger } from './log.js';

export interface ServiceDeps {
  pool: Pool;
  policy: SecurityPolicy;
  keys: SigningKeys;
  tokens: TokenSettings;
  sessions: SessionSettings;
  logger: ServiceLogger;
  corsOrigins: ReadonlySet<string>;
  insecureDevMode: boolean;
  /** Refuse a TOTP code whose time step was already used by the same device (RFC 6238 §5.2). */
  rejectTotpReuse: boolean;
}

/** The authenticated caller, set by the authentication hook on protected paths. */
export interface Principal {
  userId: string;
  username: string;
  role: string;
  sessionId: string;
}
