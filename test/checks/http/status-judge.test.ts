/**
 * http.status's judge, on sample observations: no server. Each row is what a probe could have seen;
 * the verdict and the phrase that names it come from the judge alone.
 */
import { describe, expect, it } from 'vitest';
import { judgeStatus, type StatusSeen } from '../../../checks/http/status.js';
import { judgeTable } from '../../harness/judge-table.js';

const probe = 'GET https://127.0.0.1:8443/health';
const healthy: StatusSeen = {
  probe,
  answer: { status: 200, containsText: true, excerpt: '{"status":"ok"}', truncated: false },
  failure: undefined,
};
const withText = { status: 200, body_contains: '"status":"ok"' };

judgeTable<StatusSeen, Parameters<typeof judgeStatus>[1]>(
  'judgeStatus',
  (seen, given) => judgeStatus(seen, given ?? { status: 200 }),
  [
    { name: 'the expected status', seen: healthy, with: { status: 200 }, status: 'pass', expect: /answered 200$/ },
    { name: 'the expected status and text', seen: healthy, with: withText, status: 'pass', expect: /answered 200$/ },
    {
      name: 'one of several acceptable statuses',
      seen: { ...healthy, answer: { status: 401, containsText: undefined, excerpt: '', truncated: false } },
      with: { status: [401, 403] },
      status: 'pass',
      expect: /answered 401$/,
    },
    {
      name: 'the wrong status',
      seen: { ...healthy, answer: { status: 503, containsText: false, excerpt: 'down', truncated: false } },
      with: withText,
      status: 'fail',
      expect: /^GET https:\/\/127\.0\.0\.1:8443\/health answered 503, expected 200$/,
    },
    {
      name: 'the text is missing',
      seen: { ...healthy, answer: { status: 200, containsText: false, excerpt: '{}', truncated: false } },
      with: withText,
      status: 'fail',
      expect: /answered 200 but the body lacks "\\"status\\":\\"ok\\""$/,
    },
    {
      name: 'the text is not in the first MiB of a longer body: cannot tell',
      seen: { ...healthy, answer: { status: 200, containsText: false, excerpt: '<html>', truncated: true } },
      with: withText,
      status: 'error',
      expect: /body longer than the probe reads \(1 MiB\): cannot tell whether it contains/,
    },
    {
      name: 'a text asked for that the probe did not look for: fail closed',
      seen: { ...healthy, answer: { status: 200, containsText: undefined, excerpt: '', truncated: false } },
      with: withText,
      status: 'fail',
      expect: /body lacks/,
    },
    {
      name: 'no answer: refused',
      seen: {
        probe,
        answer: undefined,
        failure: { kind: 'refused', code: 'ECONNREFUSED', message: 'connect refused' },
      },
      with: { status: 200 },
      status: 'error',
      expect: /^could not observe GET https:\/\/127\.0\.0\.1:8443\/health: refused \(ECONNREFUSED\)$/,
    },
    {
      name: 'no answer and no failure recorded: fail closed',
      seen: { probe, answer: undefined, failure: undefined },
      with: { status: 200 },
      status: 'error',
      expect: /^could not observe .*: no answer$/,
    },
  ],
);

describe('judgeStatus', () => {
  it('shows the body excerpt only when a text is asked for', () => {
    expect(judgeStatus(healthy, { status: 200 }).observations[0]?.actual).toEqual({ status: 200 });
    expect(judgeStatus(healthy, withText).observations[0]?.actual).toEqual({
      status: 200,
      body_excerpt: '{"status":"ok"}',
    });
  });
});
