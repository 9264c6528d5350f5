/**
 * Service configuration from the environment, validated before anything
 * listens. Secrets that are missing, short or known defaults stop the start-up
 * with a message naming the variable and the rule, unless the operator sets
 * the explicit development flag — which the service then advertises in
 * `/health` so a gate can see it.
 */
import { z } from 'zod';

export const DEV_INSECURE_FLAG = 'SECGATE_SERVICE_DEV_INSECURE';
export const JWT_SECRET_VARIABLE = 'SECGATE_JWT_SECRET';
export const DATABASE_URL_VARIABLE = 'DATABASE_URL';
export const CORS_ORIGINS_VARIABLE = 'SECGATE_CORS_ORIGINS';
export const MINIMUM_SECRET_LENGTH = 32;

/** Values that ship in templates, tutorials and docker-compose files; all are public knowledge. */
const KNOWN_DEFAULT_SECRETS = new Set([
  'secret',
  'default_secret',
  'changeme',
  'change-me',
  'password',
  'postgres',
  'admin',
  'admin123',
  'example',
  'test',
  'secgate',
  'supersecret',
  'your-secret-key',
  'your_jwt_secret',
]);
/** Fragments that mark a value as a placeholder, whatever its length. */
const PLACEHOLDER_FRAGMENTS = [
  'changeme',
  'change-me',
  'change_me',
  'default_secret',
  'placeholder',
  'your-secret',
  'xxxxxxxx',
];

export type SecretProblem = 'missing' | 'too-short' | 'known-default';

/** Pure rule: why a secret is unacceptable, or undefined when it is fine. */
export function secretProblem(value: string | undefined): SecretProblem | undefined {
  if (value === undefined || value.length === 0) return 'missing';
  const lowered = value.toLowerCase();
  if (KNOWN_DEFAULT_SECRETS.has(lowered) || PLACEHOLDER_FRAGMENTS.some((fragment) => lowered.includes(fragment))) {
    return 'known-default';
  }
  if (new Set(value).size === 1) return 'known-default';
  if (value.length < MINIMUM_SECRET_LENGTH) return 'too-short';
  return undefined;
}

export function describeSecretProblem(variable: string, what: string, problem: SecretProblem): string {
  switch (problem) {
    case 'missing':
      return `${variable}: ${what} is missing; set it to a random value of at least ${MINIMUM_SECRET_LENGTH} characters (e.g. \`openssl rand -base64 48\`)`;
    case 'too-short':
      return `${variable}: ${what} is shorter than ${MINIMUM_SECRET_LENGTH} characters; use a random value of at least ${MINIMUM_SECRET_LENGTH} characters`;
    case 'known-default':
      return `${variable}: ${what} is a known default or placeholder value; replace it with a random value of at least ${MINIMUM_SECRET_LENGTH} characters`;
  }
}

export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`refusing to start: ${problems.join('; ')}`);
    this.name = 'ConfigurationError';
  }
}

const environmentSchema = z.object({
  [JWT_SECRET_VARIABLE]: z.string().optional(),
  [DATABASE_URL_VARIABLE]: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { message: 'expected a postgres:// or postgresql:// URL' })
    .optional(),
  [DEV_INSECURE_FLAG]: z.enum(['0', '1', 'true', 'false']).optional(),
  [CORS_ORIGINS_VARIABLE]: z.string().optional(),
});

export interface ServiceSecrets {
  /** Seed material of the token signing key (see auth/tokens.ts). */
  jwtSecret: string;
  /** Explicit server; undefined selects the embedded PostgreSQL. */
  databaseUrl: string | undefined;
  insecureDevMode: boolean;
  corsOrigins: string[];
  /** Human-readable notes about rules relaxed by the development flag. */
  warnings: string[];
}

/** The password inside a postgres URL, or undefined when it has none. */
export function databasePassword(databaseUrl: string): string | undefined {
  try {
    const password = decodeURIComponent(new URL(databaseUrl).password);
    return password.length > 0 ? password : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Validates the environment. `databaseUrlOverride` is an explicit option of the
 * caller (it wins over DATABASE_URL) and obeys the same rule.
 */
export function loadServiceSecrets(
  env: Readonly<Record<string, string | undefined>>,
  databaseUrlOverride?: string,
): ServiceSecrets {
  const parsed = environmentSchema.safeParse({
    [JWT_SECRET_VARIABLE]: env[JWT_SECRET_VARIABLE],
    [DATABASE_URL_VARIABLE]: databaseUrlOverride ?? env[DATABASE_URL_VARIABLE],
    [DEV_INSECURE_FLAG]: env[DEV_INSECURE_FLAG],
    [CORS_ORIGINS_VARIABLE]: env[CORS_ORIGINS_VARIABLE],
  });
  if (!parsed.success) {
    throw new ConfigurationError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const values = parsed.data;
  const insecureDevMode = values[DEV_INSECURE_FLAG] === '1' || values[DEV_INSECURE_FLAG] === 'true';
  const problems: string[] = [];

  const jwtSecret = values[JWT_SECRET_VARIABLE];
  const jwtProblem = secretProblem(jwtSecret);
  if (jwtProblem) problems.push(describeSecretProblem(JWT_SECRET_VARIABLE, 'the token signing secret', jwtProblem));

  const databaseUrl = values[DATABASE_URL_VARIABLE];
  if (databaseUrl !== undefined) {
    const passwordProblem = secretProblem(databasePassword(databaseUrl));
    if (passwordProblem) {
      problems.push(describeSecretProblem(DATABASE_URL_VARIABLE, 'the database password', passwordProblem));
    }
  }

  const corsOrigins = parseOrigins(values[CORS_ORIGINS_VARIABLE] ?? '');
  if (corsOrigins.includes('*')) problems.push(`${CORS_ORIGINS_VARIABLE}: '*' is not allowed; list each origin`);

  if (problems.length > 0 && !insecureDevMode) throw new ConfigurationError(problems);
  return {
    // In development mode only, a missing secret is replaced by a per-process random one.
    jwtSecret: jwtProblem === 'missing' ? randomDevelopmentSecret() : (jwtSecret ?? randomDevelopmentSecret()),
    databaseUrl,
    insecureDevMode,
    corsOrigins: corsOrigins.filter((origin) => origin !== '*'),
    warnings: insecureDevMode ? problems : [],
  };
}

function parseOrigins(list: string): string[] {
  return list
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
}

function randomDevelopmentSecret(): string {
  return globalThis.crypto.getRandomValues(new Uint8Array(48)).reduce((text, byte) => text + byte.toString(16), '');
}
