/**
 * judgeLockout on sample observations: no service, no database. Each row is
 * one thing the check can find, with the phrase the evidence must carry.
 */
import { describe, expect, it } from 'vitest';
import { judgeLockout, type LockoutRules, type LockoutSeen } from '../../../checks/auth/lockout.js';
import type { FailureEventRow } from '../../../src/probes/auth-audit.js';
import { judgeTable } from '../../harness/judge-table.js';

const WRONG = '{"detail":"Invalid credentials"}';
const rules: LockoutRules = { attempts: 3, source_address: '127.0.0.8', lockedKinds: ['locked_account'] };
const row = (eventType: string, ip = '127.0.0.8'): FailureEventRow => ({
  createdAt: '2026-01-01 00:00:00+00',
  eventType,
  username: 'probe',
  ip,
});
const response = (status: number, body: string) => ({ status, body, shown: { status, body } });

const locked: LockoutSeen = {
  username: 'probe',
  loginPath: '/login',
  auditTable: 'auth_failure_events',
  since: '2026-01-01 00:00:00+00',
  wrongAnswers: [401, 401, 401].map((status) => ({ status, token: false })),
  reference: response(401, WRONG),
  locked: { ...response(401, WRONG), handedOut: undefined },
  accountRows: [row('bad_password'), row('bad_password'), row('bad_password'), row('locked_account')],
};

judgeTable<LockoutSeen>('judgeLockout', (seen) => judgeLockout(seen, rules), [
  {
    name: 'locked, identical 401, every attempt audited',
    seen: locked,
    status: 'pass',
    phrase: /probe locked after 3/,
  },
  {
    name: 'the correct password gets an MFA challenge after the wrong ones',
    seen: { ...locked, locked: { ...response(200, '{"mfa":"x"}'), handedOut: 'MFA challenge' } },
    status: 'fail',
    phrase: /account not locked: the correct password after 3 wrong ones was accepted \(200 with a MFA challenge\)/,
  },
  {
    name: 'the correct password gets a token',
    seen: { ...locked, locked: { ...response(200, '{"access_token":"[redacted]"}'), handedOut: 'token' } },
    status: 'fail',
    phrase: /accepted \(200 with a token\)/,
  },
  {
    name: 'the correct password from a second address gets in',
    seen: {
      ...locked,
      elsewhere: { address: '127.0.0.130', answer: { ...response(200, '{"mfa":"x"}'), handedOut: 'MFA challenge' } },
    },
    status: 'fail',
    phrase:
      /lockout bypassed: as probe with the correct password from 127\.0\.0\.130 during lockout was accepted \(200 with a MFA challenge\)/,
  },
  {
    name: 'the name in another case gets in',
    seen: {
      ...locked,
      caseVariant: {
        username: 'Probe',
        answer: { ...response(200, '{"access_token":"[redacted]"}'), handedOut: 'token' },
      },
    },
    status: 'fail',
    phrase: /lockout bypassed: as Probe \(another case\) with the correct password during lockout was accepted/,
  },
  {
    name: 'refused from a second address and in another case: both named in the summary',
    seen: {
      ...locked,
      elsewhere: { address: '127.0.0.130', answer: { ...response(401, WRONG), handedOut: undefined } },
      caseVariant: { username: 'Probe', answer: { ...response(401, WRONG), handedOut: undefined } },
    },
    status: 'pass',
    phrase: /refused with the identical 401 \(also from 127\.0\.0\.130 and as Probe\)/,
  },
  {
    name: 'no second address to send from: said, not claimed',
    seen: { ...locked, elsewhere: { address: undefined, answer: undefined } },
    status: 'pass',
    phrase:
      /^probe locked after 3 wrong passwords, refused with the identical 401, 4 attempts audited .*not tried: no second source address/,
  },
  {
    name: 'the locked answer says so',
    seen: { ...locked, locked: { ...response(401, '{"detail":"Account locked"}'), handedOut: undefined } },
    status: 'fail',
    phrase: /locked response differs from the wrong-password response: 401 \{"detail":"Account locked"\}/,
  },
  {
    name: 'the locked answer has another status',
    seen: { ...locked, locked: { ...response(423, WRONG), handedOut: undefined } },
    status: 'fail',
    phrase: /differs from the wrong-password response: 423/,
  },
  {
    name: 'a wrong password answered with a token',
    seen: {
      ...locked,
      wrongAnswers: [
        { status: 401, token: false },
        { status: 200, token: true },
      ],
    },
    status: 'fail',
    phrase: /the wrong-password answers, the baseline/,
  },
  {
    name: 'no row for the attempt during lockout',
    seen: { ...locked, accountRows: [row('bad_password'), row('bad_password'), row('bad_password'), row('x')] },
    status: 'fail',
    phrase: /no locked_account row for the attempt during lockout/,
  },
  {
    name: 'rows missing',
    seen: { ...locked, accountRows: [row('bad_password'), row('locked_account')] },
    status: 'fail',
    phrase: /audit rows missing: 2 of 4 attempts have an auth_failure_events row/,
  },
  {
    name: 'rows recorded under another address',
    seen: {
      ...locked,
      accountRows: [
        row('bad_password'),
        ...['bad_password', 'bad_password', 'locked_account'].map((t) => row(t, '10.0.0.1')),
      ],
    },
    status: 'fail',
    phrase: /audit rows missing: 1 of 4 .* under 127\.0\.0\.8; 3 rows carry 10\.0\.0\.1 instead/,
  },
  {
    name: 'audit rows unreadable',
    seen: { ...locked, accountRows: undefined, notSeen: 'could not observe the lockout behaviour: Error: db down' },
    status: 'error',
    phrase: /could not observe the lockout behaviour: Error: db down/,
  },
  {
    name: 'fewer wrong passwords than the checklist names: the lockout was not put to the test',
    seen: { ...locked, wrongAnswers: [{ status: 401, token: false }] },
    status: 'error',
    phrase: /could not observe the lockout behaviour/,
  },
  {
    name: 'no answer at all',
    seen: {
      ...locked,
      reference: undefined,
      locked: undefined,
      accountRows: undefined,
      notSeen: 'could not observe a wrong-password response',
    },
    status: 'error',
    phrase: /could not observe a wrong-password response/,
  },
]);

describe('judgeLockout details', () => {
  it('counts rows from any address when the check binds none', () => {
    const seen = { ...locked, accountRows: [...(locked.accountRows ?? [])].map((r) => ({ ...r, ip: '10.0.0.1' })) };
    expect(judgeLockout(seen, { ...rules, source_address: null }).status).toBe('pass');
  });

  it('fails closed on a step the probe did not reach, even without a reason', () => {
    const outcome = judgeLockout({ ...locked, accountRows: undefined }, rules);
    expect(outcome).toMatchObject({ status: 'error', summary: 'could not observe the lockout behaviour' });
  });

  it('keeps what it saw when the rest could not be observed', () => {
    const outcome = judgeLockout({ ...locked, accountRows: undefined, notSeen: 'could not observe x' }, rules);
    expect(outcome.observations.map((observation) => observation.probe)).toContain(
      'locked response compared with the wrong-password response (status, headers, body)',
    );
  });
});
