// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ … }}` is literal CI expression text under test
import { describe, expect, it } from 'vitest';
import {
  findNamedAssignments,
  holdsCredentials,
  isCredentialFree,
  isEnvFile,
  isExampleFile,
} from '../../src/secrets/assignments.js';
import { pathMatches } from '../../src/secrets/paths.js';

const names = ['JWT_SECRET_KEY', 'POSTGRES_PASSWORD', 'AUTH_SECRET'];
const found = (text: string, file: string) =>
  findNamedAssignments(text, names, file).map(({ name, line, value, form }) => ({ name, line, value, form }));

describe('findNamedAssignments', () => {
  it.each([
    ['.env', 'JWT_SECRET_KEY=abc123XYZ', 'abc123XYZ'],
    ['.env', 'export AUTH_SECRET="with spaces inside"', 'with spaces inside'],
    ['docker-compose.yml', '      POSTGRES_PASSWORD: hunter2hunter2', 'hunter2hunter2'],
    ['config.json', '{ "AUTH_SECRET": "v4lue" }', 'v4lue'],
    ['settings.py', 'JWT_SECRET_KEY = "literal-in-code"', 'literal-in-code'],
  ])('finds the value in %s: %s', (file, text, value) => {
    expect(found(text, file)).toEqual([{ name: expect.any(String), line: 1, value, form: 'assignment' }]);
  });

  it('reads a sentence going on after a name in documentation as prose, not a value', () => {
    expect(found('- AUTH_SECRET: now required at startup', 'CHANGELOG.md')).toEqual([]);
    expect(found('POSTGRES_PASSWORD: the password of the superuser', 'docs/setup.rst')).toEqual([]);
    // A value in documentation is still a value: alone, quoted, not a sentence word, or in a config file.
    expect(found('POSTGRES_PASSWORD: hunter2 before you start', 'README.md').map(({ value }) => value)).toEqual([
      'hunter2',
    ]);
    expect(found('POSTGRES_PASSWORD: now', 'README.md').map(({ value }) => value)).toEqual(['now']);
    expect(found('POSTGRES_PASSWORD: "the" here', 'README.md').map(({ value }) => value)).toEqual(['the']);
    expect(found('POSTGRES_PASSWORD: now here', 'compose.yml').map(({ value }) => value)).toEqual(['now']);
  });

  it('ignores expressions in code: the secret is read, not held', () => {
    expect(found('JWT_SECRET_KEY = os.environ["JWT_SECRET_KEY"]', 'settings.py')).toEqual([]);
    expect(found('const AUTH_SECRET = process.env.AUTH_SECRET;', 'config.ts')).toEqual([]);
  });

  it('finds code defaults, the seed 000 pattern', () => {
    expect(found('secret = os.getenv("AUTH_SECRET", "default_secret")', 'auth.py')).toEqual([
      { name: 'AUTH_SECRET', line: 1, value: 'default_secret', form: 'code-default' },
    ]);
    expect(found("const key = process.env.JWT_SECRET_KEY ?? 'dev-key';", 'config.ts')).toEqual([
      { name: 'JWT_SECRET_KEY', line: 1, value: 'dev-key', form: 'code-default' },
    ]);
  });

  it('finds the GitHub Actions expression as the value (a placeholder, judged by the check)', () => {
    expect(found('          POSTGRES_PASSWORD: ${{ secrets.STAGING_DB_PASSWORD }}', 'ci.yml')).toEqual([
      { name: 'POSTGRES_PASSWORD', line: 1, value: '${{', form: 'assignment' },
    ]);
  });

  it('reads a `#` inside a bare value as part of it, and one after the separator as a comment', () => {
    expect(found('      POSTGRES_PASSWORD: ab1#cd2', 'docker-compose.yml')).toEqual([
      { name: 'POSTGRES_PASSWORD', line: 1, value: 'ab1#cd2', form: 'assignment' },
    ]);
    expect(found('POSTGRES_PASSWORD=ab1#cd2 # from the vault', '.env')).toEqual([
      { name: 'POSTGRES_PASSWORD', line: 1, value: 'ab1#cd2', form: 'assignment' },
    ]);
    expect(found('      POSTGRES_PASSWORD: # set by CI', 'docker-compose.yml')).toEqual([]);
  });

  it('does not match longer names and reports lines', () => {
    expect(found('MY_AUTH_SECRET_FILE=/run/secrets/auth\n\nAUTH_SECRET=x9', '.env')).toEqual([
      { name: 'AUTH_SECRET', line: 3, value: 'x9', form: 'assignment' },
    ]);
  });
});

describe('file classification', () => {
  it('tells env files from example files', () => {
    for (const file of ['.env', 'config/.env.production', 'prod.env']) expect(isEnvFile(file), file).toBe(true);
    for (const file of ['.env.example', '.env.sample', 'example.env', '.env.template']) {
      expect(isEnvFile(file), file).toBe(false);
      expect(isExampleFile(file), file).toBe(true);
    }
    expect(isEnvFile('src/environment.ts')).toBe(false);
  });

  it('matches ignore_paths prefixes and globs', () => {
    expect(pathMatches('test/', 'test/engine/checklist.test.ts')).toBe(true);
    expect(pathMatches('test', 'test/engine/checklist.test.ts')).toBe(true);
    expect(pathMatches('test', 'tests.md')).toBe(false);
    expect(pathMatches('**/*.test.ts', 'test/engine/checklist.test.ts')).toBe(true);
    expect(pathMatches('**/*.test.ts', 'root.test.ts')).toBe(true);
    expect(pathMatches('fixtures/*.pem', 'fixtures/tls/key.pem')).toBe(false);
    expect(pathMatches('fixtures/**/*.pem', 'fixtures/tls/key.pem')).toBe(true);
  });
});

describe('credentials in named values', () => {
  it.each([
    ['postgresql://app:test-password-rotated@db:5432/app', true],
    ['postgres://app:${POSTGRES_PASSWORD}@db/app', true],
    ['host=db user=app password=hunter2', true],
    ['https://api.example/v1?token=abc123def', true],
    ['https://ghp1Xq8Zt2LmW9xVb4RnK7pY@git.example/org/repo.git', true],
    ['postgresql://postgres@127.0.0.1:5432/app', false],
    ['https://auth.example/oauth/token', false],
    ['redis://cache:6379/0', false],
    ['the', false],
  ])('%s holds credentials: %s', (value, expected) => {
    expect(holdsCredentials(value)).toBe(expected);
  });

  it('judges a location variable by what its value holds, not by its name', () => {
    expect(isCredentialFree('DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432/app')).toBe(true);
    expect(isCredentialFree('DATABASE_URL', 'the')).toBe(true);
    expect(isCredentialFree('DATABASE_URL', 'postgresql://app:test-password-rotated@db/app')).toBe(false);
    expect(isCredentialFree('JWT_SECRET_KEY', 'q8Zt2LmW9xVb4RnK7pYc3HdF6jSg1TeA')).toBe(false);
    expect(isCredentialFree('JWT_SECRET_KEY', 'https://vault.example/v1/secret/jwt')).toBe(true);
  });
});
