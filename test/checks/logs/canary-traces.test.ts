import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CANARY_LENGTH,
  describeTrace,
  findCanaryTraces,
  MAX_ENDS_GAP,
  randomCanary,
  traceLine,
} from '../../../checks/logs/canary-traces.js';

/** A fixed canary built at run time (never a literal in the repository), so every row is deterministic. */
const value = Array.from(
  createHash('sha256').update('logs.no-credentials table').digest(),
  (byte) => '0123456789abcdefghijklmnopqrstuvwxyz'[byte % 36],
).join('');
const base64 = (text: string) => Buffer.from(text).toString('base64');

/** Which log lines leak the canary, and how the evidence names what they hold (undefined: they do not count). */
const rows: { name: string; line: string; leaks: string | undefined }[] = [
  {
    name: 'the whole Authorization header',
    line: `{"authorization":"Bearer ${value}"}`,
    leaks: 'all 32 of its characters',
  },
  {
    name: 'the first 8 characters',
    line: `auth=Bearer ${value.slice(0, 8)}…`,
    leaks: 'its first 8 of 32 characters',
  },
  { name: 'the first 7 characters', line: `auth=Bearer ${value.slice(0, 7)}…`, leaks: undefined },
  {
    name: 'the last 16 characters (a suffix)',
    line: `token_tail=${value.slice(-16)}`,
    leaks: 'its last 16 of 32 characters',
  },
  { name: 'the last 7 characters', line: `token_tail=${value.slice(-7)}`, leaks: undefined },
  { name: 'the last 4 characters', line: `card …${value.slice(-4)}`, leaks: undefined },
  {
    name: 'a middle slice',
    line: `t=${value.slice(12, 26)}`,
    leaks: 'its characters 13 to 26 of 32',
  },
  {
    name: 'masked: the first 6 and last 6 characters',
    line: `token=${value.slice(0, 6)}...${value.slice(-6)}`,
    leaks: 'its first 6 and last 6 of 32 characters',
  },
  {
    name: 'masked to its length: the first 5 and last 5 around 22 stars',
    line: `token=${value.slice(0, 5)}${'*'.repeat(22)}${value.slice(-5)}`,
    leaks: 'its first 5 and last 5 of 32 characters',
  },
  {
    name: 'masked the customary way: the first 4 and last 4 characters',
    line: `token=${value.slice(0, 4)}…${value.slice(-4)}`,
    leaks: undefined,
  },
  {
    name: 'both ends, too far apart to be one cut credential',
    line: `a=${value.slice(0, 6)}${' '.repeat(MAX_ENDS_GAP + 1)}b=${value.slice(-6)}`,
    leaks: undefined,
  },
  {
    name: 'the header upper-cased',
    line: `AUTHORIZATION: BEARER ${value.toUpperCase()}`,
    leaks: 'all 32 of its characters, case changed',
  },
  {
    name: 'the header lower-cased (the canary is lower case already)',
    line: `authorization: bearer ${value}`.toLowerCase(),
    leaks: 'all 32 of its characters',
  },
  {
    name: 'masked and upper-cased',
    line: `token=${value.slice(0, 6).toUpperCase()}...${value.slice(-6).toUpperCase()}`,
    leaks: 'its first 6 and last 6 of 32 characters, case changed',
  },
  {
    name: 'the body as a URL-encoded form',
    line: `body=${new URLSearchParams({ username: 'probe@example.test', password: value }).toString()}`,
    leaks: 'all 32 of its characters',
  },
  {
    name: 'the body JSON-escaped inside a JSON message',
    line: JSON.stringify({ msg: JSON.stringify({ password: value }) }),
    leaks: 'all 32 of its characters',
  },
  {
    name: 'base64 of the whole header value: the token 7 bytes in',
    line: `auth_b64=${base64(`Bearer ${value}`)}`,
    leaks: 'all 32 of its characters, base64-encoded',
  },
  {
    name: 'base64 at offset 0',
    line: `x=${base64(value)}`,
    leaks: 'all 32 of its characters, base64-encoded',
  },
  {
    name: 'base64url of a JSON body: the password 26 bytes in',
    line: `b=${Buffer.from(JSON.stringify({ username: 'u', password: value })).toString('base64url')}`,
    leaks: 'all 32 of its characters, base64-encoded',
  },
  {
    name: 'base64 of the header value, cut after 24 characters',
    line: `auth_b64=${base64(`Bearer ${value}`).slice(0, 24)}`,
    leaks: 'its first 11 of 32 characters, base64-encoded',
  },
  {
    name: 'request ids, a JWT and hex digests of other things',
    line: `${createHash('sha256').update('x').digest('hex')} eyJhbGciOiJIUzI1NiJ9.${base64('{"sub":"1"}')} ${createHash('sha1').update('y').digest('base64')}`,
    leaks: undefined,
  },
  {
    name: 'the canary twice on one line: its whole, not its two ends twice',
    line: `${value} ${value}`,
    leaks: 'all 32 of its characters',
  },
];

describe('traceLine: which log lines leak a canary', () => {
  it.each(rows.map((row) => [row.name, row] as const))('%s', (_, row) => {
    const trace = traceLine(row.line, value);
    expect(trace ? describeTrace(trace) : undefined).toBe(row.leaks);
  });
});

describe('findCanaryTraces', () => {
  it('names the lines of each canary, and only line numbers and positions', () => {
    const other = randomCanary();
    const text = ['start', `auth=${value.slice(-12)}`, 'middle', `pw=${other}`, `again ${value}`].join('\n');
    const found = findCanaryTraces(text, [
      { kind: 'bearer', value },
      { kind: 'password', value: other },
      { kind: 'cookie', value: randomCanary() },
    ]);
    expect(found.get('bearer')).toEqual([
      { line: 2, kept: { from: 20, to: 32 }, encoding: 'as sent' },
      { line: 5, kept: { from: 0, to: 32 }, encoding: 'as sent' },
    ]);
    expect(found.get('password')?.map((trace) => trace.line)).toEqual([4]);
    expect(found.has('cookie')).toBe(false);
    expect(JSON.stringify([...found])).not.toContain(value.slice(0, 8));
  });
});

describe('randomCanary', () => {
  it(`draws ${CANARY_LENGTH} lower-case letters and digits, fresh each time`, () => {
    const drawn = Array.from({ length: 50 }, randomCanary);
    for (const canary of drawn) expect(canary).toMatch(new RegExp(`^[0-9a-z]{${CANARY_LENGTH}}$`));
    expect(new Set(drawn).size).toBe(drawn.length);
  });
});
