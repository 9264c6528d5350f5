/**
 * Values that stand for a secret without being one: documentation
 * placeholders, template references and well-known example values. A finding
 * whose value matches one of these is not reported (gitleaks' allowlist idea).
 */

/** The spellings people use for a marker word: as given, lower, UPPER, Capitalised. */
function spellingsOf(words: readonly string[]): { lower: string[]; upper: string[] } {
  const lower = new Set<string>();
  const upper = new Set<string>();
  for (const word of words) {
    lower.add(word);
    lower.add(word.toLowerCase());
    lower.add(word.charAt(0).toUpperCase() + word.slice(1));
    upper.add(word.toUpperCase());
  }
  // Words are letters, '-' and '_' only: nothing to escape.
  return { lower: [...lower], upper: [...upper] };
}

/**
 * A long marker word (six letters or more) anywhere in the value, written as
 * people write words. Mixed case like `sAmPlE` is not accepted: a random
 * base64 secret holds a given six-letter word in some mixed case about once in
 * 20 million values, in one of these spellings about once in 10 billion.
 * Anywhere, because documentation glues them on: `AKIAIOSFODNN7EXAMPLE`.
 */
function markerWord(words: readonly string[]): RegExp {
  const { lower, upper } = spellingsOf(words);
  return new RegExp([...lower, ...upper].join('|'));
}

/**
 * A short marker word (`fake`, `dummy`) only where it stands as a word:
 * after the start or a separator, before the end, a separator or, in
 * camelCase, a capital (`fakeToken`). Inside a random base64 secret a
 * four-letter word turns up about once in 25,000 values; standing alone about
 * once in 10 million. `myFakeToken` is therefore reported: a false positive
 * costs a baseline entry, a real secret excused costs a leak.
 */
function standaloneMarkerWord(words: readonly string[]): RegExp {
  const { lower, upper } = spellingsOf(words);
  const before = '(?:^|[^A-Za-z0-9])';
  return new RegExp(`${before}(?:${lower.join('|')})(?=$|[^a-z0-9])|${before}(?:${upper.join('|')})(?=$|[^A-Za-z0-9])`);
}

/**
 * Whole-value or substring patterns that mark a value as a placeholder.
 *
 * Substring patterns must not match random secrets by chance: each is
 * something a generator of base64/hex secrets (almost) never emits: measured,
 * 1 of 10 million random 48-character base64url secrets matches one (it was
 * about 1 in 700 when any "xxx" counted — and a reference-service run failed
 * on it). The property test in test/secrets/placeholders.test.ts holds them
 * to that on 200,000 values.
 */
export const placeholderPatterns: readonly RegExp[] = [
  /^<[^>]*>$/, // <your-token>
  /\$\{[^}]*\}/, // ${JWT_SECRET}
  /^\$[A-Za-z_{(]/, // $POSTGRES_PASSWORD, ${VAR}, $(openssl rand -hex 32), ${{ secrets.X }}, "$RUNNER_TEMP/key.pem"
  /^%\(?[a-z_]*\)?s$/i, // %s, %(password)s
  /^\{\{.*\}\}$/, // {{ vault_password }}
  // xxx, ghp_xxxx…, …/B000/XXXX, sk_live_51Hxxxxxx: a run of x in one case, as the
  // whole value, standing alone from four or anywhere from six. "xXx" inside a random
  // secret is chance (about 1 in 700 base64 values), "_xxx-" about 1 in a million.
  /^(?:x{3,}|X{3,})$|(?:^|[^A-Za-z0-9])(?:x{4,}|X{4,})(?=$|[^A-Za-z0-9])|x{6,}|X{6,}/,
  /\*{3,}/, // ****
  /\.{3}|…/, // sk_live_..., postgres://…
  /\$\{?[A-Z_][A-Z0-9_]{2,}\}?/, // postgres://app:$DB_PASSWORD@db/app: built from an environment reference
  /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/, // POSTGRES_PASSWORD: a variable's name, not its value
  /^[.~]?[\w.-]*(?:\/[\w.-]+)+\.[a-z]{2,5}$/, // .secgate/pki/server.key: a file path
  markerWord(['example', 'placeholder', 'redacted', 'sample', 'changeMe', 'change-me', 'change_me']),
  markerWord([
    'notASecret',
    'not-a-secret',
    'not_a_secret',
    'notARealSecret',
    'not-a-real-secret',
    'not_a_real_secret',
  ]),
  standaloneMarkerWord(['fake', 'dummy']),
  /^your[-_]/i,
  /[-_]here$/i, // put-your-key-here
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
  'changethis',
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

/**
 * The defaults that project templates commit as live values, for the secret
 * rules to find wherever a secret-named variable is given one, in the work
 * tree and in history (rule `known-default-secret`): seed 000's
 * `default_secret` and `admin123`, the FastAPI full-stack template's
 * `changethis` (its committed `.env`: SECRET_KEY, FIRST_SUPERUSER_PASSWORD,
 * POSTGRES_PASSWORD), and the values tutorials ship. Each is distinctive:
 * words such as `admin`, `secret` or `test` are left to repo.secret-strength,
 * because as values of a secret-named key they are as often a type, a role or
 * a label as a password.
 */
export const templateDefaultSecrets: readonly string[] = [
  'changethis',
  'default_secret',
  'default-secret',
  'defaultsecret',
  'admin123',
  'changeme',
  'change-me',
  'change_me',
  'changeit',
  'supersecret',
  'super-secret',
  'super_secret',
  'your-secret-key',
  'your_secret_key',
  'your-256-bit-secret',
  'your-jwt-secret',
  'keyboard cat',
  'password123',
  'passw0rd',
  'p@ssw0rd',
  's3cr3t',
];

const knownDefaultSet = new Set(
  [...knownDefaultSecrets, ...templateDefaultSecrets].map((value) => value.toLowerCase()),
);

export function isKnownDefaultSecret(value: string): boolean {
  const normalised = value.trim().toLowerCase();
  if (knownDefaultSet.has(normalised)) return true;
  // Django and friends ship keys prefixed `django-insecure-`; templates use `insecure-…`.
  return /^(?:django-)?insecure[-_]/.test(normalised);
}
