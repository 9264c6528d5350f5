/** The no-enumeration judge on sample observations: answers compared by content, medians by the bound. */
import {
  judgeNoEnumeration,
  type NoEnumerationSeen,
  noEnumerationParams,
  type TimedAnswer,
} from '../../../checks/auth/no-enumeration.js';
import { judgeTable } from '../../harness/judge-table.js';

const params = noEnumerationParams.parse({});
const REJECTED = '{"detail":"Invalid username or password"}';

const answer = (elapsedMs: number, body = REJECTED, status = 401): TimedAnswer => ({
  status,
  body,
  headers: {},
  elapsedMs,
});
const times = (values: number[], body?: string) => values.map((value) => answer(value, body));

/** Fifteen alike samples per class and three locked ones, all the same answer: each case changes one thing. */
function seen(changes: Partial<NoEnumerationSeen['samples']> & { notSeen?: string } = {}): NoEnumerationSeen {
  const { notSeen, ...samples } = changes;
  return {
    loginPath: '/api/v1/login/access-token',
    username: 'secgate-probe',
    samples: {
      'unknown user': times([40, 42, 41, 43, 40, 41, 42, 40, 44, 41, 40, 42, 43, 41, 40]),
      'wrong password': times([41, 40, 42, 41, 43, 40, 41, 42, 40, 41, 44, 40, 41, 42, 41]),
      'locked account': times([5, 6, 5]),
      ...samples,
    },
    ...(notSeen !== undefined ? { notSeen } : {}),
    cleanup: { probe: 'cleanup unlock_account_sql for secgate-probe', actual: 'ran' },
  };
}

judgeTable<NoEnumerationSeen, Partial<typeof params>>(
  'judgeNoEnumeration',
  (sample, overrides) => judgeNoEnumeration(sample, { ...params, ...overrides }),
  [
    {
      name: 'one answer for every class, medians alike',
      seen: seen(),
      status: 'pass',
      expect: /same answer, and the medians agree within the bound/,
    },
    {
      name: 'stopped by the early look: a pass on the early samples, and the evidence says so',
      with: { early_samples: 8 },
      seen: () => ({
        ...seen({
          'unknown user': times([40, 42, 41, 43, 40, 41, 42, 40]),
          'wrong password': times([41, 40, 42, 41, 43, 40, 41, 42]),
        }),
        stoppedEarly: true,
      }),
      status: 'pass',
      expect: /agree within the bound \(early look: 8 samples per class\)$/,
      observations: /sampling stopped there/,
    },
    {
      name: 'eight samples without an early look in the checklist: fewer than asked, no pass',
      seen: seen({
        'unknown user': times([40, 42, 41, 43, 40, 41, 42, 40]),
        'wrong password': times([41, 40, 42, 41, 43, 40, 41, 42]),
      }),
      status: 'error',
      expect: /8 samples per class, the checklist asks for 15/,
    },
    {
      // ProblemDetails-style: every body carries its own trace id, in every class. Not a difference.
      name: 'a per-request trace id in every body',
      seen: () => {
        let request = 0;
        const traced = (answers: TimedAnswer[]) =>
          answers.map((one) => ({
            ...one,
            body: JSON.stringify({
              detail: 'Invalid username or password',
              traceId: `trace-${String(++request).padStart(8, '0')}`,
            }),
          }));
        const base = seen();
        return {
          ...base,
          samples: {
            'unknown user': traced(base.samples['unknown user']),
            'wrong password': traced(base.samples['wrong password']),
            'locked account': traced(base.samples['locked account']),
          },
        };
      },
      status: 'pass',
      expect: /same answer, and the medians agree within the bound/,
      observations: /apart from what differs between any two answers: body:traceId/,
    },
    {
      name: 'the wrong-password answers carry a header the unknown-user answers do not',
      seen: () => {
        const base = seen();
        return {
          ...base,
          samples: {
            ...base.samples,
            'wrong password': base.samples['wrong password'].map((one) => ({
              ...one,
              headers: { 'x-ratelimit-remaining': '4' },
            })),
          },
        };
      },
      status: 'fail',
      expect:
        /responses differ between classes in their headers: unknown user\/locked account against wrong password: header:x-ratelimit-remaining: \(absent\) against "4"/,
    },
    {
      name: 'the locked account answers with its own message',
      seen: seen({ 'locked account': times([5, 6, 5], '{"detail":"Account locked"}') }),
      status: 'fail',
      expect: /responses differ between classes: .*locked account → 401 \{"detail":"Account locked"\}/,
    },
    {
      name: 'unknown users get another status',
      seen: seen({ 'unknown user': times([40, 41, 42]).map((each) => ({ ...each, status: 404 })) }),
      status: 'fail',
      expect: /unknown user → 404/,
    },
    {
      name: 'wrong passwords take a hash, unknown users none: significantly slower, beyond the bound',
      seen: seen({
        'unknown user': times([4, 5, 4, 6, 5, 5, 4, 6, 5, 4, 5, 6, 4, 5, 5]),
        'wrong password': times([55, 54, 57, 56, 55, 58, 54, 56, 55, 57, 54, 55, 56, 57, 55]),
      }),
      status: 'fail',
      expect: /timing reveals which usernames exist: wrong-password median 55 ms vs unknown-user median 5 ms/,
    },
    {
      name: 'beyond the bound but not significant: undecided is an error, never a pass',
      seen: seen({
        'unknown user': times([28, 95, 30, 31, 120, 27, 29, 88, 33, 26, 30, 140, 29, 31, 28]),
        'wrong password': times([44, 29, 110, 33, 27, 45, 90, 32, 30, 46, 28, 43, 100, 44, 41]),
      }),
      status: 'error',
      expect: /could not decide whether timing reveals which usernames exist: timing too noisy/,
    },
    {
      name: 'the samples stopped part-way (the service went away)',
      seen: seen({ notSeen: 'the rejection responses: ECONNRESET' }),
      status: 'error',
      expect: /^could not observe the rejection responses: ECONNRESET$/,
      observations: /cleanup unlock_account_sql/,
    },
    {
      name: 'fewer samples than the checklist asks for: a close pair of medians is no pass',
      seen: seen({ 'unknown user': times([40]), 'wrong password': times([41]) }),
      status: 'error',
      expect: /^could not judge the timing: 1 samples per class, the checklist asks for 15$/,
    },
    {
      name: 'no wrong-password sample at all is never a pass',
      seen: seen({ 'wrong password': [] }),
      status: 'error',
      expect: /could not decide/,
      observations: /only 0 wrong-password samples before the lockout/,
    },
  ],
);
