/**
 * judgeFailureEvents on sample observations: no service, no database. Each row
 * is one thing the check can find, with the phrase the evidence must carry.
 */
import { describe, expect, it } from 'vitest';
import {
  assignDistinctRows,
  type FailureEventsSeen,
  judgeFailureEvents,
  type Provoked,
} from '../../../checks/auth/failure-events.js';
import { REJECTION_PATHS, type RejectionPath } from '../../../checks/auth/params.js';
import type { FailureEventRow } from '../../../src/probes/auth-audit.js';
import { judgeTable } from '../../harness/judge-table.js';

const ADDRESS = '127.0.0.11';
/** Every path under its own name, as a service secgate built audits them. */
const ownNames = Object.fromEntries(REJECTION_PATHS.map((path) => [path, [path]])) as Record<RejectionPath, string[]>;
const provoked = (path: RejectionPath, username?: string): Provoked => ({
  path,
  probe: `the ${path} request`,
  status: 401,
  ip: ADDRESS,
  username,
});
const row = (eventType: string, username: string | null = 'probe', ip = ADDRESS): FailureEventRow => ({
  createdAt: '2026-01-01 00:00:01+00',
  eventType,
  username,
  ip,
});

const audited: FailureEventsSeen = {
  since: '2026-01-01 00:00:00+00',
  provoked: [provoked('bad_password', 'probe'), provoked('invalid_token'), provoked('blocked_ip')],
  rows: [row('bad_password'), row('invalid_token', null), row('blocked_ip', null)],
};

/** The paths the table's checklist asks for: the three `audited` provokes. */
const wanted: RejectionPath[] = ['bad_password', 'invalid_token', 'blocked_ip'];

judgeTable<FailureEventsSeen, Partial<Record<RejectionPath, string[]>>>(
  'judgeFailureEvents',
  (seen, kinds) => judgeFailureEvents(seen, { ...ownNames, ...kinds }, wanted),
  [
    {
      name: 'a row for every path',
      seen: audited,
      status: 'pass',
      phrase: /3 rejection paths each wrote an audit row/,
    },
    {
      name: 'a token path audited under the subject (username is not judged there)',
      seen: { ...audited, rows: [row('bad_password'), row('invalid_token', 'someone'), row('blocked_ip', null)] },
      status: 'pass',
      phrase: /invalid_token row written/,
    },
    {
      name: 'one of several kinds the checklist allows',
      seen: { ...audited, rows: [row('bad_password'), row('token-bad', null), row('blocked_ip', null)] },
      with: { invalid_token: ['token-bad', 'token-expired'] },
      status: 'pass',
      phrase: /token-bad or token-expired row written/,
    },
    {
      // Two paths that the service audits under one type: one row cannot stand for both.
      name: 'one row of a shared type for two paths',
      seen: {
        ...audited,
        provoked: [...audited.provoked, provoked('bad_challenge')],
        rows: [row('bad_password'), row('invalid_token', null), row('blocked_ip', null)],
      },
      with: { bad_challenge: ['invalid_token'] },
      status: 'fail',
      phrase:
        /no invalid_token row of its own for the (invalid_token|bad_challenge) path: the 1 matching row from 127\.0\.0\.11 belongs to other rejections/,
    },
    {
      name: 'two rows of a shared type for two paths',
      seen: {
        ...audited,
        provoked: [...audited.provoked, provoked('bad_challenge')],
        rows: [row('bad_password'), row('invalid_token', null), row('invalid_token', null), row('blocked_ip', null)],
      },
      with: { bad_challenge: ['invalid_token'] },
      status: 'pass',
      phrase: /4 rejection paths each wrote an audit row/,
    },
    {
      name: 'a path that writes no row',
      seen: { ...audited, rows: [row('bad_password'), row('blocked_ip', null)] },
      status: 'fail',
      phrase: /no invalid_token row for the invalid_token path \(the invalid_token request answered 401\)/,
    },
    {
      name: 'the row recorded under another address',
      seen: {
        ...audited,
        rows: [row('bad_password', 'probe', '10.0.0.1'), row('invalid_token', null), row('blocked_ip')],
      },
      status: 'fail',
      phrase: /no bad_password row for the bad_password path/,
    },
    {
      name: 'the row carries another username',
      seen: { ...audited, rows: [row('bad_password', 'other'), row('invalid_token', null), row('blocked_ip', null)] },
      status: 'fail',
      phrase: /no bad_password row for the bad_password path/,
    },
    {
      name: "the service's own name, not declared",
      seen: { ...audited, rows: [row('bad_password'), row('anonymous', null), row('blocked_ip', null)] },
      status: 'fail',
      phrase: /"event_types_seen_from_address":\["bad_password","anonymous","blocked_ip"\]/,
    },
    {
      name: 'a lane that failed',
      seen: {
        ...audited,
        rows: undefined,
        notSeen: 'could not observe the rejection paths: bad_totp: no MFA challenge',
      },
      status: 'error',
      phrase: /could not observe the rejection paths: bad_totp: no MFA challenge/,
    },
    {
      name: 'a wanted path the probe never provoked (its lane skipped it)',
      seen: { ...audited, provoked: audited.provoked.slice(0, 2) },
      status: 'error',
      expect: /^could not observe the blocked_ip path: not provoked, so no audit row could be looked for$/,
    },
    {
      name: 'nothing provoked at all',
      seen: { ...audited, provoked: [], rows: [] },
      status: 'error',
      expect: /^could not observe the bad_password, invalid_token, blocked_ip paths: not provoked/,
    },
    {
      name: 'a path not provoked beside a provoked path without its row: the row missing is the verdict',
      seen: { ...audited, provoked: audited.provoked.slice(0, 2), rows: [row('bad_password')] },
      status: 'fail',
      phrase: /no invalid_token row for the invalid_token path/,
    },
    {
      name: 'a lane that failed, the rows read: the provoked paths are judged, the lane is the error',
      seen: { ...audited, notSeen: 'could not observe the rejection paths: bad_totp: no MFA challenge' },
      status: 'error',
      expect: /^could not observe the rejection paths: bad_totp: no MFA challenge$/,
    },
    {
      name: 'a lane that failed beside a provoked path without its row: the missing row is the verdict',
      seen: {
        ...audited,
        rows: [row('bad_password'), row('blocked_ip', null)],
        notSeen: 'could not observe the rejection paths: bad_totp: no MFA challenge',
      },
      status: 'fail',
      phrase: /no invalid_token row for the invalid_token path/,
    },
    {
      name: 'rows missing without a reason',
      seen: { ...audited, rows: undefined },
      status: 'error',
      phrase: /^could not observe the rejection paths /,
    },
  ],
);

describe('judgeFailureEvents details', () => {
  it('accepts a row from any address when the check binds none', () => {
    const seen = {
      ...audited,
      provoked: [{ ...provoked('unknown_user', 'x'), ip: null }],
      rows: [row('unknown_user', 'x', '::1')],
    };
    expect(judgeFailureEvents(seen, ownNames, ['unknown_user']).status).toBe('pass');
  });
});

describe('assignDistinctRows', () => {
  it('gives every event a row of its own where one exists, moving an earlier choice aside if it must', () => {
    // Event 0 could take row 0 or 1; event 1 only row 0: a greedy first choice would leave event 1 without.
    expect(assignDistinctRows([[0, 1], [0]])).toEqual([1, 0]);
  });
  it('leaves an event without a row when the rows run out', () => {
    expect(assignDistinctRows([[0], [0]])).toEqual([0, undefined]);
  });
});
