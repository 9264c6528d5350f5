/**
 * Values that stand for a secret without being one: documentation
 * placeholders, template references and well-known example values. A finding
 * whose value matches one of these is not reported (gitleaks' allowlist idea).
 */

/** Whole-value or substring patterns that mark a value as a placeholder. */
export const placeholderPatterns: readonly RegExp[] = [
  /^<[^>]*>$/, // <your-token>
  /\$\{[^}]*\}/, // ${JWT_SECRET}
  /^\$[A-Za-z_{(]/, // $POSTGRES_PASSWORD, ${VAR}, $(openssl rand -hex 32), ${{ secrets.X }}, "$RUNNER_TEMP/key.pem"
  /^%\(?[a-z_]*\)?s$/i, // %s, %(password)s
  /^\{\{.*\}\}$/, // {{ vault_password }}
  /changeme|change[-_]me/i,
  /x{3,}/i, // xxx, XXXXXXXX
  /\*{3,}/, // ****
  /\.{3}|…/, // sk_live_..., postgres://…
  /\$\{?[A-Z_][A-Z0-9_]{2,}\}?/, // postgres://app:$DB_PASSWORD@db/app: built from an environment reference
  /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/, // POSTGRES_PASSWORD: a variable's name, not its value
  /^[.~]?[\w.-]*(?:\/[\w.-]+)+\.[a-z]{2,5}$/, // .secgate/pki/server.key: a file path
  /example/i,
  /placeholder/i,
  /^your[-_]/i,
  /[-_]here$/i, // put-your-key-here
  /dummy|redacted|sample|fake|not[-_]?a[-_]?(?:real[-_]?)?secret/i,
  /^(?:password|passwd|secret|token|pass|pwd|none|null|undefined|true|false|test|todo|tbd)$/i,
];

export function isPlaceholder(value: string): boolean {
  const trimmed = value.trim();
  if (trimmed.length === 0) return true;
  return placeholderPatterns.some((pattern) => pattern.test(trimmed));
}

/**
 * Well-known default secrets: values shipped by templates, frameworks and
 * tutorials (seed 002 item 1: `default_secret`, `admin123`). Compared
 * case-insensitively after trimming.
 */
export const knownDefaultSecrets: readonly string[] = [
  'default_secret',
  'default-secret',
  'defaultsecret',
  'admin',
  'admin123',
  'administrator',
  'changeme',
  'change-me',
  'change_me',
  'changeit',
  'secret',
  'secretkey',
  'secret_key',
  'secret-key',
  'supersecret',
  'super-secret',
  'super_secret',
  'password',
  'password1',
  'password123',
  'passw0rd',
  'p@ssw0rd',
  'letmein',
  'qwerty',
  'qwerty123',
  '123456',
  '12345678',
  '123456789',
  'root',
  'toor',
  'postgres',
  'test',
  'testing',
  'development',
  'dev',
  'your-secret-key',
  'your_secret_key',
  'your-256-bit-secret',
  'your-jwt-secret',
  'jwt_secret',
  'jwt-secret',
  'mysecret',
  'my-secret',
  'keyboard cat',
  'insecure',
  'notasecret',
  's3cr3t',
];

const knownDefaultSet = new Set(knownDefaultSecrets.map((value) => value.toLowerCase()));

export function isKnownDefaultSecret(value: string): boolean {
  const normalised = value.trim().toLowerCase();
  if (knownDefaultSet.has(normalised)) return true;
  // Django and friends ship keys prefixed `django-insecure-`; templates use `insecure-…`.
  return /^(?:django-)?insecure[-_]/.test(normalised);
}
