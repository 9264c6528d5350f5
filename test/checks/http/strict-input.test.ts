import { describe, expect, it } from 'vitest';
import httpStrictInput, { judgeInputProbe, withWrongFieldType } from '../../../checks/http/strict-input.js';
import { startHttpFixture, startUnreachableTarget } from '../../../fixtures/http/servers.js';
import { runCheckOn, testCheck } from '../../harness/check-tester.js';
import { validTargets } from './valid-targets.js';

testCheck(httpStrictInput, {
  valid: validTargets(),
  invalid: [
    {
      name: 'unknown fields accepted',
      target: () => startHttpFixture({ flaw: 'unknown-fields-accepted' }),
      expect: /unknown field accepted: answered 401 \(treated as a normal request\), expected 400 or 422/,
    },
    {
      name: 'malformed JSON causes a 500',
      target: () => startHttpFixture({ flaw: 'malformed-json-500' }),
      expect: /malformed JSON caused a server error \(500\)/,
    },
    {
      name: 'no body size limit',
      target: () => startHttpFixture({ flaw: 'no-body-limit' }),
      expect: /oversized body answered 401, expected 413/,
    },
    {
      // Keys are checked, types are not: {"username":{"$gt":""}} reaches code that expects a string.
      name: 'a field of another JSON type causes a 500',
      target: () => startHttpFixture({ flaw: 'trusts-field-types' }),
      expect: /^wrong field type caused a server error \(500\)$/,
    },
    {
      name: 'a JSON array body causes a 500',
      target: () => startHttpFixture({ flaw: 'trusts-body-is-object' }),
      expect: /^non-object body caused a server error \(500\)$/,
    },
    {
      name: 'the baseline body is itself invalid',
      target: () => startHttpFixture(),
      with: { body: { email: 'nobody@example.invalid' } },
      status: 'error',
      expect: /baseline body without unknown fields is already rejected \(400\)/,
    },
    { name: 'target unreachable', target: startUnreachableTarget, status: 'error', expect: /baseline: refused/ },
  ],
});

describe('strict-input evidence', () => {
  it('never carries the random password', async () => {
    const target = await startHttpFixture({ flaw: 'unknown-fields-accepted' });
    try {
      const outcome = await runCheckOn(httpStrictInput, target);
      const sent = outcome.observations.map((observation) => JSON.stringify(observation.actual)).join('\n');
      expect(sent).toContain('<random password, 24 chars>');
      expect(sent).not.toMatch(/"password":"[\w-]{24}"/);
    } finally {
      await target.close();
    }
  });

  it('judges a 5xx as a failure whatever the probe', () => {
    expect(judgeInputProbe('baseline', 502, [400])).toMatchObject({ ok: false });
    expect(judgeInputProbe('wrong content type', 500, [415])).toMatchObject({ ok: false });
  });
});

describe('strict-input bodies', () => {
  it('gives the first field another JSON type', () => {
    expect(withWrongFieldType({ username: 'u', password: 'p' }, 'is_admin')).toBe(
      '{"username":{"$gt":""},"password":"p"}',
    );
    expect(withWrongFieldType({ filter: { a: 1 } }, 'is_admin')).toBe('{"filter":"$gt"}');
    expect(withWrongFieldType({}, 'is_admin')).toBe('{"is_admin":{"$gt":""}}');
  });
});
