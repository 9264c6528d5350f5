/**
 * Secret detection rules as data (gitleaks style). Each rule names the token
 * format it finds, the keywords that must occur (case-insensitively) before
 * its regex is even run, the regex with the secret in a capture group, an
 * optional entropy floor, an allowlist and, where no regex can tell (what a
 * base64 run decodes to), a check of the value. Every rule is proven by a table
 * test against samples that must and must not match
 * (test/secrets/rules.test.ts, fixtures/secrets-corpus/).
 */

import { templateDefaultSecrets } from './placeholders.js';

export interface SecretRule {
  /** Stable id, reported with every finding and used in baselines. */
  id: string;
  description: string;
  /** Lower-case substrings; the rule runs only on content containing at least one. */
  keywords: readonly string[];
  /** Must carry the `g` flag; the secret is capture group `secretGroup`. */
  regex: RegExp;
  /**
   * Capture group holding the secret value (0 = the whole match); for a
   * regex of alternatives that each capture their own, the groups in order:
   * the first that took part in the match holds the secret.
   */
  secretGroup: number | readonly number[];
  /**
   * What no regex can tell, decided on the secret alone (what a base64 run
   * decodes to); false makes the match no finding. Runs only on a match.
   */
  confirm?: (secret: string) => boolean;
  /** Minimum Shannon entropy (bits/char) of the secret; below it the match is ignored. */
  minEntropy?: number;
  /** Extra patterns that, when they match the secret, make the match a false positive. */
  allowlist?: readonly RegExp[];
  /**
   * Paths where a match is not a finding (gitleaks' `allowlist.paths`),
   * tested against the path relative to the repository's top level. Only
   * tested once a match is found, never on the scan's common path.
   */
  allowlistPaths?: readonly RegExp[];
  /**
   * Capture group set when a sentence goes on after the secret on its line: a secret that reads as words
   * (readsAsWords) so followed is prose, not a finding.
   */
  sentenceGroup?: number;
  /** Whether the shared placeholder list (`changeme`, `<…>`, `${…}`) applies. Default true. */
  placeholdersAllowed?: boolean;
  /**
   * Every match begins with one of the keywords (case-insensitively), so the
   * regex is tried only where a keyword starts instead of at every offset of
   * the content — the difference between a regex pass over every byte and a
   * few short tries. Only true when the regex itself starts with the keyword;
   * test/secrets/rules.test.ts proves both ways of scanning agree on the corpus.
   */
  startsAtKeyword?: boolean;
}

/**
 * Words that mark a value as a test or documentation value rather than a live
 * secret (`probe-password-123`, `s3cret-db-password`, `tok-abcdef-123456`).
 * Only for the generic rules: a token format with a fixed prefix is reported
 * whatever it contains.
 */
const TEST_VALUE_WORDS = /passw(?:or)?d|secret|token|example|dummy|fake|test|sample|abcdef|123456|qwerty|localdev/i;

/**
 * Password hashes in the modular crypt format and the framework formats
 * (bcrypt `$2b$12$…`, argon2 `$argon2id$v=19$…`, scrypt `$scrypt$…` / `$7$…` /
 * `scrypt:32768:8:1$…`, sha-crypt `$6$…`, Django `pbkdf2_sha256$…`, Werkzeug
 * `pbkdf2:sha256:…$…`). A hash is what a service stores instead of the
 * password: a fixture's seeded user row, not a credential anyone can log in with.
 */
const PASSWORD_HASH =
  /^(?:\$(?:2[abxy]?|argon2(?:id|i|d)|scrypt|7|5|6|pbkdf2(?:-sha\d+)?)\$|(?:pbkdf2[_:]sha\d+|argon2|bcrypt(?:_sha256)?|scrypt)[$:])/;

/**
 * `.env.example`, `config.sample.yml`, `settings.defaults.py`: files whose
 * values are placeholders by design (the same names as isExampleFile).
 */
const EXAMPLE_FILE_PATH = /(?:^|[/._-])(?:example|sample|template|dist|defaults?)(?:$|[._-])[^/]*$/i;

/**
 * Tokens that documentation everywhere reuses, public by design: the jwt.io
 * debugger's sample token (signed with `your-256-bit-secret`) and the test key
 * in Stripe's API reference. Exact values: anything else with the same shape
 * is still reported.
 */
export const publicSampleSecrets: readonly string[] = [
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
  'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
];

/**
 * The key types of OpenSSH public keys (`authorized_keys`, `known_hosts`, cloud-init's `ssh_authorized_keys`):
 * the first word of a public key line. Under a key-named field (`host_key: ecdsa-sha2-nistp256 AAAA…`) it was
 * read as the value; the key after it is public.
 */
const SSH_PUBLIC_KEY_TYPE =
  /^(?:sk-)?(?:ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(?:256|384|521))(?:-cert-v01)?(?:@openssh\.com)?$|^rsa-sha2-(?:256|512)$/;

/**
 * A Subresource Integrity or package-manager integrity digest (`sha384-…`, npm's `sha512-…`): a hash of a public
 * file, exactly as long as the algorithm's digest in base64.
 */
const INTEGRITY_DIGEST = /^(?:sha256-[A-Za-z0-9+/]{43}=|sha384-[A-Za-z0-9+/]{64}|sha512-[A-Za-z0-9+/]{86}==)$/;

/**
 * Whether a value reads as words joined into one (`refresh_rotation_v2`, `rotateSigningKeys2`,
 * `JWKS-endpoint-cached`, `docs/controls.md#K3`): every piece of it, between separators and camelCase
 * boundaries, is a word (three letters or more, a vowel, no four consonants in a row), or a minor piece that
 * joined words carry (a version or number such as `v2` or `90days`; between separators, an acronym or a short
 * extension such as `md`; a `K3`; digits ending a word). At least two words, and no more minor pieces than
 * words. Random characters almost never pass: a lone letter, a mixed-case run or a word-less run fails them
 * (about 2 in 10,000 random 12-character values, none of 200,000 of 24; test/secrets/rules.test.ts).
 */
export function readsAsWords(value: string): boolean {
  const parts = value.split(/[-_./#:+]+/).filter((part) => part.length > 0);
  const separated = parts.length > 1;
  let words = 0;
  let minor = 0;
  for (const part of parts) {
    if (
      /^v?\d+[a-z]{0,4}$/i.test(part) ||
      /^[A-Z]\d+$/.test(part) ||
      (separated && /^(?:[A-Z]{2,5}|[a-z]{1,3})$/.test(part))
    ) {
      minor++;
      continue;
    }
    // camelCase inside a part, with digits allowed only at its end: rotateSigningKeys2.
    const camel = /^((?:[A-Z]?[a-z]+)+)(\d*)$/.exec(part);
    if (!camel) return false;
    for (const piece of camel[1]?.match(/[A-Z]?[a-z]+/g) ?? []) {
      if (piece.length < 3 || !/[aeiouy]/i.test(piece) || /[^aeiouy]{4}/i.test(piece)) return false;
      words++;
    }
    if (camel[2]) minor++;
  }
  return words >= 2 && minor <= words;
}

/**
 * After a value, a sentence that goes on (a subject `token:` then `refresh_rotation_v2 revokes the family`, as
 * a commit message or a changelog writes): the next word, captured when there is one. The lookahead always
 * succeeds; it only tells the rule what follows, and the scanner heeds it in prose only (isProsePath).
 */
const sentenceGoesOn = String.raw`(?=([,;.]?[ \t]+[a-z]{2,}(?![A-Za-z0-9_]))|)`;

/** A regular expression literal, e.g. `const SECRET_NAMES = /PASS|SECRET|TOKEN/i`. */
const REGEX_LITERAL = /^\/.+\/[dgimsuvy]*$/;

/** Characters that end an unquoted value in config files and code. */
const valueChars = String.raw`[^\s"'\`;,()<>{}\[\]]`;

/** The keywords of a secret's name: the prefilter finds them once for every rule that starts with one. */
const SECRET_NAME_KEYWORDS = ['secret', 'key', 'passw', 'pwd', 'token', 'credential'];

/** A name that says it holds a secret: `JWT_SECRET_KEY`, `db_password`, `apiToken`. */
const secretName = '(?:secret|key|passw(?:or)?d|pwd|token|credential)[A-Za-z0-9_.-]{0,40}';

/**
 * A value that starts on the next line: a YAML block scalar (`key: |`, `>-`,
 * `|+` …) or a parenthesised Python value (`SECRET_KEY = (`), then one line
 * break and the indentation.
 */
const valueOnNextLine = String.raw`(?:(?:[|>][-+]?|\()[ \t]*\r?\n[ \t]*)?`;

/** A type annotation before a default: `SECRET_KEY: str = …`, `password: Optional[str] = …` (pydantic settings). */
const typeAnnotation = String.raw`[A-Za-z_][\w.]*(?:\[[\w., |]*\])?(?:\s*\|\s*None)?`;

/** A PEM private key's first and last lines (RSA, EC, DSA, OpenSSH, PKCS#8, PGP). */
const pemHeader = '-----BEGIN[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----';
const pemFooter = '-----END[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----';

/**
 * A line break written as a string escape: `\n` or `\r\n` (doubled in JSON
 * held in a string), where the next line may be the next string of a list or
 * a concatenation (a notebook's `source`: `…\n",⏎ "…`; code: `…\n' +⏎ '…`).
 */
const escapedBreak = String.raw`(?:\\{1,2}r)?\\{1,2}n(?:["'][ \t]*[,+]?\s*["'])?`;
/** A character of a base64 line, `/` escaped as `\/` too (PHP's json_encode). */
const base64Char = String.raw`(?:[A-Za-z0-9+/=]|\\/)`;
/**
 * The body of a PEM key written with escaped line breaks: optional
 * encryption headers (`Proc-Type: 4,ENCRYPTED`) and a blank line, then a
 * line of at least 40 base64 characters (a PEM line holds 64, OpenSSH's 70),
 * then more lines. A header with prose, a placeholder or a truncated line
 * (`MIIE...`) after it has no such line.
 */
const escapedPemBody = `(?:${escapedBreak}[A-Za-z-]{1,30}:[ A-Za-z0-9,-]{0,80})*(?:${escapedBreak})?${escapedBreak}${base64Char}{40,}(?:${escapedBreak}${base64Char}+)*`;

/**
 * A private key's PEM. The secret is its body: after real line breaks, group
 * 1; after escaped ones, group 2, which starts with the break that ends the
 * header's line, so the finding is on the header's line (one line of JSON, or
 * a notebook's first string). Its lines may be indented, the footer's too (a
 * YAML block scalar: `tls_key: |`).
 */
const privateKeyPem = String.raw`${pemHeader}(?:\s*?[\r\n]+([A-Za-z0-9+/=\s:,-]{64,}?)[\r\n]+[ \t]*|(${escapedPemBody})${escapedBreak})${pemFooter}`;
/** The same, to test decoded text for one. */
const privateKeyInText = new RegExp(privateKeyPem);

/**
 * How base64 of a PEM begins at a 4-character boundary: `-----BEGIN` when
 * the encoded content starts with it (`base64 key.pem`), `---BEGIN` or
 * `----BEGIN` when the header starts one or two bytes into a 3-byte group
 * (a line before it, a key inside an encoded JSON file): the characters
 * before the boundary also depend on the byte before the header.
 */
const base64PemStarts = ['LS0tLS1CRUdJT', 'LS0tQkVHSU4', 'LS0tLUJFR0lO'];
const base64PemStart = new RegExp(base64PemStarts.join('|'));
/** At most this much of a base64 run is decoded: a PEM key (RSA 8192 included) is far shorter. */
const BASE64_DECODE_LIMIT = 64 * 1024;

/** Whether a base64 run that begins with one of base64PemStarts decodes to a private key the private-key rule reports. */
export function decodesToPrivateKey(run: string): boolean {
  const decoded = Buffer.from(run.slice(0, BASE64_DECODE_LIMIT).replace(/\s+/g, ''), 'base64').toString('latin1');
  // A run from a shifted start decodes to `---BEGIN` or `----BEGIN`: two more dashes make either a header.
  return privateKeyInText.test(`--${decoded}`);
}

function escapeForRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export const secretRules: readonly SecretRule[] = [
  {
    id: 'private-key',
    description: 'PEM-encoded private key (RSA, EC, DSA, OpenSSH, PKCS#8, PGP)',
    keywords: ['private key'],
    // Real line breaks report the body, as before (its fingerprint and line are unchanged); escaped ones (a
    // service-account JSON, a notebook's cell) report the body from the header's line.
    regex: new RegExp(privateKeyPem, 'g'),
    secretGroup: [1, 2],
    // A truncated key in documentation (`MIIE...`) is not a key.
    allowlist: [/\.\.\./],
    placeholdersAllowed: false,
  },
  {
    id: 'private-key-base64',
    description:
      "base64 of a PEM private key (`base64 -w0 key.pem`, a Kubernetes Secret's data), decoded to tell it from a certificate or public key",
    keywords: base64PemStarts.map((start) => start.toLowerCase()),
    startsAtKeyword: true,
    // The run from the start of the PEM's base64 to its end, with the lines of wrapped base64 (GNU `base64` wraps
    // at 76): up to 120 of them, past an RSA 8192 key, and a bound the windowed scan can hold (regex-reach.ts).
    regex: new RegExp(
      String.raw`((?:${base64PemStarts.join('|')})[A-Za-z0-9+/]*(?:\r?\n[ \t]*[A-Za-z0-9+/]{4,}(?=[=\s]|$)){0,120}={0,2})`,
      'g',
    ),
    secretGroup: 1,
    confirm: decodesToPrivateKey,
    placeholdersAllowed: false,
  },
  {
    id: 'aws-access-key-id',
    description: 'AWS access key id (AKIA/ASIA/ABIA/ACCA + 16 base32 characters)',
    keywords: ['akia', 'asia', 'abia', 'acca'],
    startsAtKeyword: true,
    regex: /\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b/g,
    secretGroup: 1,
    minEntropy: 3,
  },
  {
    id: 'aws-secret-access-key',
    description: 'AWS secret access key assigned to an aws_secret_access_key-like name',
    keywords: ['aws'],
    startsAtKeyword: true,
    regex: /aws_?secret_?(?:access_?)?key["']?\s*(?::=|=>|=|:)\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
    secretGroup: 1,
    minEntropy: 4,
  },
  {
    id: 'github-token',
    description: 'GitHub personal access, OAuth, app or refresh token (ghp_, gho_, ghu_, ghs_, ghr_)',
    keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'],
    startsAtKeyword: true,
    regex: /\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,251})\b/g,
    secretGroup: 1,
    minEntropy: 3,
  },
  {
    id: 'github-fine-grained-token',
    description: 'GitHub fine-grained personal access token (github_pat_)',
    keywords: ['github_pat_'],
    startsAtKeyword: true,
    regex: /\b(github_pat_[A-Za-z0-9_]{82})\b/g,
    secretGroup: 1,
    minEntropy: 3,
  },
  {
    id: 'gitlab-token',
    description: 'GitLab personal, project or group access token (glpat-)',
    keywords: ['glpat-'],
    startsAtKeyword: true,
    // The token's alphabet holds '-', which is no word character: `\b` after it would miss a token ending in
    // '-' (one in 64), so the end is where the alphabet ends.
    regex: /\b(glpat-[A-Za-z0-9_-]{20,})(?![A-Za-z0-9_-])/g,
    secretGroup: 1,
    minEntropy: 3,
  },
  {
    id: 'slack-token',
    description: 'Slack bot, user, app or configuration token (xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xapp-)',
    keywords: ['xoxb-', 'xoxp-', 'xoxa-', 'xoxr-', 'xoxs-', 'xoxe-', 'xapp-'],
    regex: /\b((?:xox[bpares]|xoxe\.xox[bp])-[0-9]{6,}-[0-9A-Za-z-]{10,}|xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]{32,})\b/g,
    secretGroup: 1,
    minEntropy: 3,
  },
  {
    id: 'slack-webhook',
    description: 'Slack incoming webhook URL',
    keywords: ['hooks.slack.com'],
    regex: /(https:\/\/hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9+/]{43,56})/g,
    secretGroup: 1,
  },
  {
    id: 'stripe-key',
    description: 'Stripe secret or restricted key (sk_live_, sk_test_, rk_live_, rk_test_)',
    keywords: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'],
    startsAtKeyword: true,
    regex: /\b((?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,247})\b/g,
    secretGroup: 1,
    minEntropy: 3,
  },
  {
    id: 'npm-token',
    description: 'npm access token (npm_)',
    keywords: ['npm_'],
    startsAtKeyword: true,
    regex: /\b(npm_[A-Za-z0-9]{36})\b/g,
    secretGroup: 1,
    minEntropy: 3.5,
  },
  {
    id: 'google-api-key',
    description: 'Google API key (AIza + 35 characters)',
    keywords: ['aiza'],
    startsAtKeyword: true,
    regex: /\b(AIza[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])/g,
    secretGroup: 1,
    minEntropy: 3,
  },
  {
    id: 'connection-string-password',
    description: 'Database or broker URL with an inline password (postgres://user:password@host)',
    // Anchored at the scheme, where every match begins: `://` alone made the regex walk every
    // lockfile and README (each is full of https:// URLs) at every offset.
    keywords: ['postgres', 'mysql', 'mariadb', 'mongodb', 'redis', 'amqp', 'mssql', 'sqlserver'],
    startsAtKeyword: true,
    regex:
      /\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver):\/\/[^:\s/@'"`]+:([^@\s'"`/]+)@[^\s'"`]+/gi,
    secretGroup: 1,
    allowlist: [TEST_VALUE_WORDS],
  },
  {
    id: 'jwt',
    description: 'JSON Web Token (three base64url parts, header and payload starting with eyJ)',
    keywords: ['eyj'],
    startsAtKeyword: true,
    regex: /\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,})(?![A-Za-z0-9_-])/g,
    secretGroup: 1,
  },
  {
    id: 'generic-secret-assignment',
    description: 'High-entropy value assigned to a name containing SECRET, KEY, PASSWORD, TOKEN or CREDENTIAL',
    keywords: SECRET_NAME_KEYWORDS,
    startsAtKeyword: true,
    regex: new RegExp(
      String.raw`(?:secret|key|passw(?:or)?d|pwd|token|credential)[A-Za-z0-9_.-]{0,40}["']?\s*(?::=|=>|=|:)\s*${valueOnNextLine}["'\`]?(${valueChars}{12,200})${sentenceGoesOn}`,
      'gi',
    ),
    secretGroup: 1,
    sentenceGroup: 2,
    minEntropy: 3.5,
    allowlist: [
      TEST_VALUE_WORDS,
      SSH_PUBLIC_KEY_TYPE,
      INTEGRITY_DIGEST,
      REGEX_LITERAL,
      // Code, not a value: a property path (process.env.JWT_SECRET, settings.api_key) or a call.
      /^[A-Za-z_$][\w$]*(?:\??\.[\w$]+)+!?$/,
      // A plain identifier or word without digits or symbols (getSecretKey, ReadOnlyToken).
      /^[A-Za-z_]+$/,
      // File paths (ending in an extension, or under a system directory) and URLs without credentials.
      /^\.{0,2}\/(?:[\w.-]+\/)*[\w-]+\.[A-Za-z]{1,5}$/,
      /^\/(?:etc|var|run|home|usr|opt|srv|tmp)\//,
      /^(?:https?:\/\/|file:)/,
      PASSWORD_HASH,
      // base64 holding a PEM block: private-key-base64 decodes it (a key is its finding, a certificate is none).
      base64PemStart,
    ],
  },
  {
    id: 'known-default-secret',
    description:
      'A secret-named variable given a default that templates ship (changethis, default_secret, admin123, changeme …), ' +
      'as an assignment or as the fallback of an environment lookup (getenv with a default, ?? or ||)',
    // One line, and a code fallback only between quotes (getenv's name, then its default): a list
    // of defaults or prose that names them (`default-secret, admin123`) is not an assignment.
    // Anchored at the name's keywords, which the prefilter finds anyway: the defaults themselves as keywords
    // (`def…`, `cha…`, `sup…`) made the prefilter stop at every other Python line, 2–3× its cost there.
    keywords: SECRET_NAME_KEYWORDS,
    startsAtKeyword: true,
    regex: new RegExp(
      String.raw`${secretName}(?:["'\]]{0,2}[ \t]*(?::=|=>|=|:[ \t]*${typeAnnotation}[ \t]*=|:|\?\?|\|\|)[ \t]*["'\`]?|["'][ \t]*,[ \t]*(?:default[ \t]*=[ \t]*)?["'])(${templateDefaultSecrets.map(escapeForRegex).join('|')})(?![A-Za-z0-9_@-])`,
      'gi',
    ),
    secretGroup: 1,
    // `changeme` is on the placeholder list: in an example file it is one, anywhere else it is the live value.
    placeholdersAllowed: false,
    allowlistPaths: [EXAMPLE_FILE_PATH],
    // camelCase is an identifier in code (`key: changeMe` names a variable), not a literal default.
    allowlist: [/[a-z][A-Z]/],
  },
];

export function findRule(id: string): SecretRule | undefined {
  return secretRules.find((rule) => rule.id === id);
}
