/**
 * The shape of checklist.yaml. Every object is `.strict()`: an unknown key is an
 * error, never silently ignored (a typo in a security gate must not weaken it).
 */
import { z } from 'zod';
import { isAddressOrBlock } from '../addresses.js';
import { SEVERITIES } from '../severity.js';

const url = z.string().url({ message: 'expected an absolute URL such as https://host:8443' });
const relativePath = z.string().regex(/^\//, { message: 'expected a path starting with /' });
const positiveInt = z.number().int().positive();

export const targetSchema = z
  .object({
    /** The TLS endpoint of the deployment. */
    url: url.refine((value) => value.startsWith('https://'), { message: 'expected an https:// URL' }),
    /** The plain-HTTP endpoint that must redirect to HTTPS or refuse connections. */
    http_url: url.refine((value) => value.startsWith('http://'), { message: 'expected an http:// URL' }).optional(),
    /** Trust anchor (PEM) for a private CA; without it the system store is used. */
    ca_file: z.string().min(1).optional(),
    /** Per-request timeout for every network probe. */
    timeout_ms: positiveInt.max(120_000).default(5_000),
    /**
     * Addresses of this host (IPs or IPv4 blocks such as 10.20.0.0/28) that the target sees as
     * distinct clients. Requests that may count as authentication failures spread over them. Default:
     * 127.0.0.128/25 for a target on this host; none (the operating system's choice) otherwise.
     */
    source_addresses: z
      .array(
        z.string().refine(isAddressOrBlock, {
          message: 'expected an IP address or an IPv4 block such as 10.20.0.0/28 (at most 4096 addresses)',
        }),
      )
      .min(1)
      .optional(),
    /** The most failure-provoking requests one source address gets in a run: keep it below the IP-block threshold. */
    max_failures_per_address: positiveInt.max(1_000).default(5),
    /** A path every client may GET: the pre-flight asks it whether a probe address is already blocked. */
    health_path: relativePath.default('/health'),
  })
  .strict();
export type TargetConfig = z.output<typeof targetSchema>;

export const databaseSchema = z
  .object({
    /** postgres://user:password@host:port/db — usually `${DATABASE_URL}`. */
    url: z.string().regex(/^postgres(ql)?:\/\//, { message: 'expected a postgres:// or postgresql:// URL' }),
  })
  .strict();
export type DatabaseConfig = z.output<typeof databaseSchema>;

const accountSchema = z
  .object({
    username: z.string().min(1).describe('the account name the login form takes'),
    password: z
      .string()
      .min(1)
      .describe('its password: read it from an environment variable, never write it in the file'),
    totp_secret: z
      .string()
      .min(1)
      .optional()
      .describe('base32 TOTP secret of an enrolled account, so the gate can complete MFA'),
  })
  .strict();
export type AccountConfig = z.output<typeof accountSchema>;

/**
 * The rejection paths the gate knows how to provoke, in the order it reports
 * them. A service names each in its own words (auth.event_types); a path the
 * gate cannot provoke cannot be verified, so the list is closed.
 */
export const REJECTION_PATHS = [
  'unknown_user',
  'bad_password',
  'bad_totp',
  'expired_token',
  'invalid_token',
  'locked_account',
  'blocked_ip',
  'mfa_not_enrolled',
  'missing_token',
] as const;
export type RejectionPath = (typeof REJECTION_PATHS)[number];

const PATH_PROVOCATIONS: Record<RejectionPath, string> = {
  unknown_user: 'a login with a username that does not exist',
  bad_password: 'a wrong password for the probe account',
  bad_totp: 'a wrong TOTP code for a real MFA challenge',
  expired_token: 'a token that expired an hour ago, signed with the test signing key',
  invalid_token: 'a well-formed token the service did not sign',
  locked_account: 'the correct password of a locked account',
  blocked_ip: 'any request from a blocked address',
  mfa_not_enrolled: 'the correct password of the account without a second factor',
  missing_token: 'a protected path without credentials',
};

const eventKinds = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** The service's event-type values, per rejection path (one value, or several a path may write). */
export const eventTypesSchema = z
  .object(
    Object.fromEntries(
      REJECTION_PATHS.map((path) => [
        path,
        eventKinds.optional().describe(`written for ${PATH_PROVOCATIONS[path]} (default "${path}")`),
      ]),
    ) as Record<RejectionPath, z.ZodOptional<typeof eventKinds>>,
  )
  .strict();
export type EventTypesConfig = z.output<typeof eventTypesSchema>;

const accountName = z.string().regex(/^[a-z][a-z0-9_-]*$/, { message: 'expected a name such as lockout_probe' });

/**
 * How the service's auth API and audit tables look. Defaults match the
 * reference service and seed 002; every name can be remapped for a service
 * secgate did not build. Every key is described: `secgate explain auth`
 * prints this schema as a reference.
 */
export const authSchema = z
  .object({
    login: z
      .object({
        path: relativePath.default('/api/v1/auth/login').describe('the password step: POST with a JSON body'),
        username_field: z.string().default('username').describe('JSON field of the username'),
        password_field: z.string().default('password').describe('JSON field of the password'),
      })
      .strict()
      .default({ path: '/api/v1/auth/login', username_field: 'username', password_field: 'password' })
      .describe('how to log in with a password'),
    mfa_verify: z
      .object({
        path: relativePath.default('/api/v1/auth/mfa/verify').describe('the second step: POST with a JSON body'),
        challenge_field: z
          .string()
          .default('mfa_challenge_id')
          .describe('JSON field that carries the challenge the password step returned'),
        code_field: z.string().default('code').describe('JSON field of the TOTP code'),
      })
      .strict()
      .default({ path: '/api/v1/auth/mfa/verify', challenge_field: 'mfa_challenge_id', code_field: 'code' })
      .describe('how to complete the second factor'),
    refresh: z
      .object({
        path: relativePath.default('/api/v1/auth/refresh').describe('POST with a JSON body'),
        token_field: z.string().default('refresh_token').describe('JSON field of the refresh token'),
      })
      .strict()
      .default({ path: '/api/v1/auth/refresh', token_field: 'refresh_token' })
      .describe('how to trade a refresh token for a new pair'),
    me_path: relativePath
      .default('/api/v1/users/me')
      .describe('a protected path that answers 2xx to a valid credential'),
    response_fields: z
      .object({
        access_token: z.string().default('access_token').describe('the access token'),
        refresh_token: z.string().default('refresh_token').describe('the refresh token'),
        mfa_required: z.string().default('mfa_required').describe('true when a second step is needed'),
        mfa_challenge: z.string().default('mfa_challenge_id').describe('the challenge for the second step'),
      })
      .strict()
      .default({
        access_token: 'access_token',
        refresh_token: 'refresh_token',
        mfa_required: 'mfa_required',
        mfa_challenge: 'mfa_challenge_id',
      })
      .describe('JSON fields of the login and MFA answers ("" counts as absent)'),
    probe_account: accountSchema.optional().describe('an account with TOTP enrolled, used to log in for real'),
    no_mfa_account: accountSchema
      .optional()
      .describe('an account with no verified second factor, to prove MFA is enforced'),
    accounts: z
      .record(accountName, accountSchema)
      .default({})
      .describe(
        'more accounts by name, for checks given their own (with: { account: <name> }): dedicated probe accounts per check',
      ),
    event_types: eventTypesSchema
      .optional()
      .describe(
        "the service's event_type value(s) per rejection path; a path left out keeps its own name (checks may override with their own event_types)",
      ),
    tables: z
      .object({
        failure_events: z.string().default('auth_failure_events').describe('one row per rejected request'),
        ip_blocks: z.string().default('ip_blocks').describe('one row per blocked address'),
      })
      .strict()
      .default({ failure_events: 'auth_failure_events', ip_blocks: 'ip_blocks' })
      .describe('the audit tables (plain identifiers, optionally schema.name)'),
    columns: z
      .object({
        created_at: z.string().default('created_at').describe('failure_events: when'),
        event_type: z.string().default('event_type').describe('failure_events: which rejection path'),
        username: z.string().default('username').describe('failure_events: the username tried, if any'),
        ip_address: z.string().default('ip_address').describe('both tables: the client address (inet or text)'),
        blocked_at: z.string().default('blocked_at').describe('ip_blocks: when the block began'),
        expires_at: z.string().default('expires_at').describe('ip_blocks: when it ends'),
      })
      .strict()
      .default({
        created_at: 'created_at',
        event_type: 'event_type',
        username: 'username',
        ip_address: 'ip_address',
        blocked_at: 'blocked_at',
        expires_at: 'expires_at',
      })
      .describe('column names of the audit tables'),
    cleanup: z
      .object({
        unlock_account_sql: z
          .string()
          .optional()
          .describe('$1 = a probe account username: ends the lockout the checks provoked'),
        unblock_ip_sql: z.string().optional().describe('$1 = a probe address: lifts the block the checks provoked'),
        forget_address_failures_sql: z
          .string()
          .optional()
          .describe(
            '$1 = an address the run used: forgets its failure rows, so a detector with a rolling window does not count them again next run',
          ),
        forget_account_failures_sql: z
          .string()
          .optional()
          .describe('$1 = a probe account username: the same for failures counted per account'),
      })
      .strict()
      .optional()
      .describe('SQL statements that undo what the probes did (run with the database role of database.url)'),
  })
  .strict();
export type AuthConfig = z.output<typeof authSchema>;

const checkIdPattern = /^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$/;

export const checkEntrySchema = z
  .object({
    /** The check module id, e.g. `tls.protocols`. */
    check: z.string().regex(checkIdPattern, { message: 'expected a check id such as tls.protocols' }),
    /** A distinct name when the same check runs several times, e.g. `http.status.health`. */
    id: z.string().regex(checkIdPattern, { message: 'expected a dotted id such as http.status.health' }).optional(),
    /** Parameters, validated against the check's own schema. */
    with: z.record(z.string(), z.unknown()).optional(),
    timeout_ms: positiveInt.max(3_600_000).optional(),
    /** Overrides the check's own severity for this entry (what reports and code scanning show). */
    severity: z.enum(SEVERITIES, { message: `expected one of ${SEVERITIES.join(', ')}` }).optional(),
  })
  .strict();
export type CheckEntry = z.output<typeof checkEntrySchema>;

export const waiverSchema = z
  .object({
    check: z.string().min(1),
    reason: z.string().trim().min(10, { message: 'a waiver needs a reason of at least 10 characters' }),
    /** UTC calendar date; the waiver holds until the end of that day. */
    expires: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'expected a date as YYYY-MM-DD (UTC)' }),
  })
  .strict();
export type Waiver = z.output<typeof waiverSchema>;

export const settingsSchema = z
  .object({
    concurrency: positiveInt.max(64).default(8),
    check_timeout_ms: positiveInt.max(3_600_000).default(60_000),
  })
  .strict();

export const checklistSchema = z
  .object({
    version: z.literal(1, { message: 'expected version: 1' }),
    target: targetSchema,
    repo: z.string().min(1).default('.'),
    database: databaseSchema.optional(),
    auth: authSchema.optional(),
    settings: settingsSchema.default({ concurrency: 8, check_timeout_ms: 60_000 }),
    checks: z.array(checkEntrySchema).min(1, { message: 'expected at least one check' }),
    waivers: z.array(waiverSchema).default([]),
  })
  .strict();
export type Checklist = z.output<typeof checklistSchema>;
