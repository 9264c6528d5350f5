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
    name: 'no secret named: nothing judged is not a pass',
    seen: seen(),
    status: 'error',
    expect: /no secret was named to judge/,
  },
]);
