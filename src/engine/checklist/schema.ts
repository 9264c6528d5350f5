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

/** The target's defaults, from the schema itself, for code that takes a target not parsed by it (tests' contexts). */
export const TARGET_DEFAULTS = targetSchema.omit({ url: true }).parse({});

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
  'bad_challenge',
] as const;
export type RejectionPath = (typeof REJECTION_PATHS)[number];

const PATH_PROVOCATIONS: Record<RejectionPath, string> = {
  unknown_user: 'a login with a username that does not exist',
  bad_password: 'a wrong password for the probe account',
  bad_totp: 'a wrong TOTP code for a real MFA challenge',
  expired_token:
    'a token that expired an hour ago, signed with the test signing key, or a session aged through auth.sessions.expire_sql',
  invalid_token: 'a well-formed token the service did not sign',
  locked_account: 'the correct password of a locked account',
  blocked_ip: 'any request from a blocked address',
  mfa_not_enrolled: 'the correct password of the account without a second factor',
  missing_token: 'a protected path without credentials',
  bad_challenge: 'the MFA step with a challenge the service never issued (a forged pre-auth cookie or challenge id)',
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

/**
 * Where the auth answers carry a value: a JSON body field, a response header,
 * or a cookie, each by name. Bearer/JWT services keep the body default; a
 * cookie-session service (Django, Rails, Express sessions) says `cookie`.
 */
export const CARRIERS = ['body', 'header', 'cookie'] as const;
export type Carrier = (typeof CARRIERS)[number];

const carrierSchema = (what: string, bodyDefault: string) =>
  z
    .object({
      in: z
        .enum(CARRIERS)
        .default('body')
        .describe(
          `where the ${what} travels: body (a JSON field of the answer), header (a response header, sent back in the same header) or cookie (Set-Cookie, sent back as that cookie)`,
        ),
      name: z
        .string()
        .min(1)
        .optional()
        .describe(`the field, header or cookie name (default for body: response_fields.${bodyDefault})`),
    })
    .strict();
export type CarrierConfig = z.output<ReturnType<typeof carrierSchema>>;

const columnName = z.string().regex(/^[a-z_][a-z0-9_]*$/, { message: 'expected a plain SQL column name' });

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
      .prefault({})
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
      .prefault({})
      .describe('how to complete the second factor'),
    refresh: z
      .object({
        path: relativePath.default('/api/v1/auth/refresh').describe('POST with a JSON body'),
        token_field: z.string().default('refresh_token').describe('JSON field of the refresh token'),
      })
      .strict()
      .prefault({})
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
      .prefault({})
      .describe('JSON fields of the login and MFA answers ("" counts as absent)'),
    credential: carrierSchema('credential', 'access_token')
      .optional()
      .describe(
        'where the credential the MFA step (or a one-step login) hands out lives, and how it is presented: body = a bearer token in Authorization; header = the same header; cookie = a session cookie (unset: body)',
      ),
    mfa_challenge: carrierSchema('MFA challenge', 'mfa_challenge')
      .optional()
      .describe(
        'where the password step puts the MFA challenge, and how mfa_verify gets it back: body = in mfa_verify.challenge_field; header = the same header; cookie = the pre-auth cookie, sent back as it came (unset: body)',
      ),
    csrf: z
      .object({
        cookie: z.string().min(1).describe('the cookie that holds the CSRF token (Django: csrftoken)'),
        header: z.string().min(1).describe('the request header that must echo it on POST (Django: X-CSRFToken)'),
        path: relativePath
          .optional()
          .describe('a GET that sets the CSRF cookie before the first POST, when no earlier answer does'),
      })
      .strict()
      .optional()
      .describe(
        'CSRF token echo: every POST of a probe session sends the cookie back in the header (double submit), as a browser page would',
      ),
    logout: z
      .object({
        path: relativePath.describe('POST with the credential: ends the session'),
      })
      .strict()
      .optional()
      .describe('how to end a session, so the checks can prove it stops working server-side'),
    sessions: z
      .object({
        expire_sql: z
          .string()
          .min(1)
          .describe(
            '$1 = a session credential the gate holds: ends its lifetime server-side as time would (Django: UPDATE django_session SET expire_date = now() WHERE session_key = $1)',
          ),
      })
      .strict()
      .optional()
      .describe(
        'server-side sessions: how the gate ages one of its own sessions, so an expired session is a rejection it can produce without a signing key or a long wait',
      ),
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
      .prefault({})
      .describe('the audit tables (plain identifiers, optionally schema.name)'),
    columns: z
      .object({
        created_at: z.string().default('created_at').describe('failure_events: when'),
        event_type: z.string().default('event_type').describe('failure_events: which rejection path'),
        username: z.string().default('username').describe('failure_events: the username tried, if any'),
        ip_address: z.string().default('ip_address').describe('both tables: the client address (inet or text)'),
        blocked_at: z.string().default('blocked_at').describe('ip_blocks: when the block began'),
        expires_at: z.string().default('expires_at').describe('ip_blocks: when it ends'),
        failure_events: z
          .object({
            created_at: columnName.optional().describe('when (default: columns.created_at)'),
            event_type: columnName.optional().describe('which rejection path (default: columns.event_type)'),
            username: columnName.optional().describe('the username tried (default: columns.username)'),
            ip_address: columnName.optional().describe('the client address (default: columns.ip_address)'),
          })
          .strict()
          .optional()
          .describe("the failure table's own column names, where they differ from the shared ones above"),
        ip_blocks: z
          .object({
            ip_address: columnName.optional().describe('the blocked address (default: columns.ip_address)'),
            blocked_at: columnName.optional().describe('when the block began (default: columns.blocked_at)'),
            expires_at: columnName.optional().describe('when it ends (default: columns.expires_at)'),
          })
          .strict()
          .optional()
          .describe("the block table's own column names, where they differ from the shared ones above"),
      })
      .strict()
      .prefault({})
      .describe(
        'column names of the audit tables, shared by both (ip_address) unless failure_events / ip_blocks name their own; checked against the database catalogue before anything is probed',
      ),
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

/**
 * What `auth:` means when a checklist leaves it out: the schema's own defaults (those of the
 * reference service), so a check reads `(ctx.auth ?? AUTH_DEFAULTS).login.path` instead of
 * writing the default path again.
 */
export const AUTH_DEFAULTS: AuthConfig = authSchema.parse({});

/** A check id: dotted lower-case words, `surface.control` (`tls.protocols`, `example.cookie-flags`). */
export const CHECK_ID_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$/;
const checkIdPattern = CHECK_ID_PATTERN;

export const checkEntrySchema = z
  .object({
    /** The check module id, e.g. `tls.protocols`. */
    check: z.string().regex(checkIdPattern, { message: 'expected a check id such as tls.protocols' }),
    /**
     * Where a check that is not built in comes from: a JavaScript module (`./checks/cookie-flags.js`,
     * relative to the checklist's folder, or absolute) or a package installed next to the checklist
     * (`secgate-check-cookies`, `@acme/secgate-checks/cookies`). `check:` still names its id, so the
     * entry reads the same as a built-in's and the module must export a check with exactly that id.
     * Read as written (no `${VAR}`): the evidence and the weakening guard name the code that judged.
     */
    plugin: z.string().min(1).optional(),
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
    settings: settingsSchema.prefault({}),
    checks: z.array(checkEntrySchema).min(1, { message: 'expected at least one check' }),
    waivers: z.array(waiverSchema).default([]),
  })
  .strict();
export type Checklist = z.output<typeof checklistSchema>;
