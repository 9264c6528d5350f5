import { randomBytes } from 'node:crypto';
import { judgeSecretStrength, type SecretsSeen, secretStrengthParams } from '../../../checks/repo/secret-strength.js';
import { judgeTable } from '../../harness/judge-table.js';

/** Values made at run time: this file holds no secret, only ways to make weak and strong ones. */
const strong = (): string => randomBytes(48).toString('base64url');
const params = secretStrengthParams.parse({ names: ['AUTH_SECRET'] });
const seen = (...secrets: [string, string | undefined][]): SecretsSeen => ({
  secrets: secrets.map(([name, value]) => ({ name, value })),
});

judgeTable('repo.secret-strength judge', (sample: SecretsSeen) => judgeSecretStrength(sample, params), [
  {
    name: 'two random secrets',
    seen: () => seen(['AUTH_SECRET', strong()], ['JWT_SECRET_KEY', strong()]),
    status: 'pass',
    expect: /^2 secrets are set, long and random$/,
  },
  {
    name: 'one random secret',
    seen: () => seen(['AUTH_SECRET', strong()]),
    status: 'pass',
    expect: /^the 1 secret is set, long and random$/,
  },
  {
    name: 'an unset secret is a finding, not a skip',
    seen: () => seen(['AUTH_SECRET', strong()], ['JWT_SECRET_KEY', undefined]),
    status: 'fail',
    expect: /^1 of 2 secrets are weak: JWT_SECRET_KEY is not set$/,
    observations: /"set":false/,
  },
  {
    name: 'an empty secret is unset',
    seen: seen(['AUTH_SECRET', '']),
    status: 'fail',
    expect: /AUTH_SECRET is not set/,
  },
  {
    name: 'one character short of min_length',
    seen: () => seen(['AUTH_SECRET', randomBytes(24).toString('base64url').slice(0, 31)]),
    status: 'fail',
    expect: /AUTH_SECRET is shorter than 32 characters/,
    observations: /"length":31,"sha256":"[0-9a-f]{12}"/,
  },
  {
    name: 'a known default',
    seen: seen(['AUTH_SECRET', 'admin123']),
    status: 'fail',
    expect: /AUTH_SECRET is shorter than 32 characters, is a known default secret/,
  },
  {
    name: 'one character repeated',
    seen: seen(['AUTH_SECRET', 'x'.repeat(64)]),
    status: 'fail',
    expect: /has low entropy \(below 3 bits per character\)/,
  },
  {
    // Encoding adds characters, not randomness: the text inside is what an attacker guesses.
    name: 'base64 of a known default repeated',
    seen: () => seen(['AUTH_SECRET', Buffer.from('admin123'.repeat(4)).toString('base64')]),
    status: 'fail',
    expect:
      /AUTH_SECRET is base64 of a 32-character text that uses fewer than 10 distinct characters, is a short pattern repeated$/,
  },
  {
    name: 'hex of a phrase',
    seen: () =>
      seen(['AUTH_SECRET', Buffer.from(['my', 'jwt', 'signing', 'secret', 'for', 'prod!'].join('-')).toString('hex')]),
    status: 'fail',
    expect: /^1 of 1 secrets are weak: AUTH_SECRET is hex of a 31-character text that is shorter than 32 characters$/,
    observations: /"encodes":\{"form":"hex","text_length":31,"problems":\["too-short"\]\}/,
  },
  {
    name: 'base64url of random printable text long enough is judged as that text, and passes',
    seen: () => seen(['AUTH_SECRET', Buffer.from(strong()).toString('base64url')]),
    status: 'pass',
    expect: /^the 1 secret is set, long and random$/,
  },
  {
    name: 'hex of random bytes',
    seen: () => seen(['AUTH_SECRET', randomBytes(32).toString('hex')]),
    status: 'pass',
    expect: /^the 1 secret is set, long and random$/,
  },
  {
    name: 'a pattern repeated with a character added',
    seen: () => seen(['AUTH_SECRET', `${['pass', 'word', '123!'].join('').repeat(3)}x`]),
    status: 'fail',
    expect: /AUTH_SECRET is a short pattern repeated/,
  },
  {
    name: 'no secret named: nothing judged is not a pass',
    seen: seen(),
    status: 'error',
    expect: /no secret was named to judge/,
  },
]);
