/**
 * The shape of checklist.yaml. Every object is `.strict()`: an unknown key is an
 * error, never silently ignored (a typo in a security gate must not weaken it).
 */
import { z } from 'zod';
import { isAddressOrBlock } from '../addresses.js';

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
    username: z.string().min(1),
    password: z.string().min(1),
    /** Base32 TOTP secret of the probe account, so the gate can complete MFA. */
    totp_secret: z.string().min(1).optional(),
  })
  .strict();
export type AccountConfig = z.output<typeof accountSchema>;

/**
 * How the service's auth API and audit tables look. Defaults match the
 * reference service and seed 002; every name can be remapped for a service
 * secgate did not build.
 */
export const authSchema = z
  .object({
    login: z
      .object({
        path: relativePath.default('/api/v1/auth/login'),
        username_field: z.string().default('username'),
        password_field: z.string().default('password'),
      })
      .strict()
      .default({ path: '/api/v1/auth/login', username_field: 'username', password_field: 'password' }),
    mfa_verify: z
      .object({
        path: relativePath.default('/api/v1/auth/mfa/verify'),
        challenge_field: z.string().default('mfa_challenge_id'),
        code_field: z.string().default('code'),
      })
      .strict()
      .default({ path: '/api/v1/auth/mfa/verify', challenge_field: 'mfa_challenge_id', code_field: 'code' }),
    refresh: z
      .object({
        path: relativePath.default('/api/v1/auth/refresh'),
        token_field: z.string().default('refresh_token'),
      })
      .strict()
      .default({ path: '/api/v1/auth/refresh', token_field: 'refresh_token' }),
    /** A protected path that answers 200 with a valid bearer token. */
    me_path: relativePath.default('/api/v1/users/me'),
    /** Where tokens come back in the login / MFA responses. */
    response_fields: z
      .object({
        access_token: z.string().default('access_token'),
        refresh_token: z.string().default('refresh_token'),
        mfa_required: z.string().default('mfa_required'),
        mfa_challenge: z.string().default('mfa_challenge_id'),
      })
      .strict()
      .default({
        access_token: 'access_token',
        refresh_token: 'refresh_token',
        mfa_required: 'mfa_required',
        mfa_challenge: 'mfa_challenge_id',
      }),
    /** Account with MFA enrolled, used to log in for real. */
    probe_account: accountSchema.optional(),
    /** Account with no verified second factor, used to prove MFA is enforced. */
    no_mfa_account: accountSchema.optional(),
    tables: z
      .object({
        failure_events: z.string().default('auth_failure_events'),
        ip_blocks: z.string().default('ip_blocks'),
      })
      .strict()
      .default({ failure_events: 'auth_failure_events', ip_blocks: 'ip_blocks' }),
    /** Column names of the audit tables, for services that name them differently. */
    columns: z
      .object({
        created_at: z.string().default('created_at'),
        event_type: z.string().default('event_type'),
        username: z.string().default('username'),
        ip_address: z.string().default('ip_address'),
        blocked_at: z.string().default('blocked_at'),
        expires_at: z.string().default('expires_at'),
      })
      .strict()
      .default({
        created_at: 'created_at',
        event_type: 'event_type',
        username: 'username',
        ip_address: 'ip_address',
        blocked_at: 'blocked_at',
        expires_at: 'expires_at',
      }),
    /** SQL statements that undo what the probes did. */
    cleanup: z
      .object({
        /** $1 = the probe account's username: ends its lockout. */
        unlock_account_sql: z.string().optional(),
        /** $1 = a probe address: lifts its block. */
        unblock_ip_sql: z.string().optional(),
        /**
         * $1 = an address the run used: forgets its failure rows, so that a detector that counts
         * failures over a rolling window does not count them again in the next run.
         */
        forget_address_failures_sql: z.string().optional(),
        /** $1 = a probe account's username: the same for failures counted per account. */
        forget_account_failures_sql: z.string().optional(),
      })
      .strict()
      .optional(),
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
