/**
 * judgeIpBlock on sample observations: no service, no database. Each row is
 * one thing the check can find, with the phrase the evidence must carry.
 */
import { describe, expect, it } from 'vitest';
import { type IpBlockRules, type IpBlockSeen, judgeIpBlock } from '../../../checks/auth/ip-block.js';
import type { FailureEventRow } from '../../../src/probes/auth-audit.js';
import { judgeTable } from '../../harness/judge-table.js';

const rules: IpBlockRules = {
  source_address: '127.0.0.9',
  threshold: 2,
  usernames: 2,
  known_account_failures: 1,
  blocked_status: 403,
  untrusted_source_address: '127.0.0.13',
  forwarded_address: '203.0.113.77',
  blockedKinds: ['blocked_ip'],
};
const row = (eventType: string, ip: string, username: string | null = null): FailureEventRow => ({
  createdAt: '2026-01-01 00:00:01+00',
  eventType,
  username,
  ip,
});
const answered = (probe: string, status: number) => ({
  probe: `${probe} from 127.0.0.9`,
  response: { status, body: '{}', shown: { status, body: '{}' } },
});

const blocked: IpBlockSeen = {
  loginPath: '/login',
  mePath: '/me',
  refreshPath: '/refresh',
  healthPath: '/health',
  failureTable: 'auth_failure_events',
  blocksTable: 'ip_blocks',
  since: '2026-01-01 00:00:00+00',
  afterBlock: '2026-01-01 00:00:01+00',
  statusBefore: 200,
  failures: [401, 401, 401],
  blocked: [answered('POST /login with valid credentials', 403), answered('GET /health', 403)],
  blocks: [{ ip: '127.0.0.9', blockedAt: '2026-01-01 00:00:01+00', expiresAt: null }],
  rowsAfterBlock: [row('blocked_ip', '127.0.0.9'), row('bad_password', '127.0.0.1')],
  forwarded: { status: 401, rows: [row('unknown_user', '127.0.0.13', 'secgate-forwarded-x')] },
};

judgeTable<IpBlockSeen>('judgeIpBlock', (seen) => judgeIpBlock(seen, rules), [
  { name: 'blocked at once, no auth work, header ignored', seen: blocked, status: 'pass', phrase: /blocked at once/ },
  {
    name: 'a path still answers the blocked address',
    seen: { ...blocked, blocked: [answered('POST /login with valid credentials', 200), answered('GET /health', 403)] },
    status: 'fail',
    phrase: /blocked address not refused: POST \/login with valid credentials answered 200, expected 403/,
  },
  {
    name: 'no block row',
    seen: { ...blocked, blocks: [{ ip: '127.0.0.1', blockedAt: 'x', expiresAt: null }] },
    status: 'fail',
    phrase: /no ip_blocks row for 127\.0\.0\.9 after 3 failures/,
  },
  {
    name: 'auth ran before the 403',
    seen: {
      ...blocked,
      rowsAfterBlock: [row('blocked_ip', '127.0.0.9'), row('bad_password', '127.0.0.9'), row('bad_totp', '127.0.0.9')],
    },
    status: 'fail',
    phrase: /auth logic ran for the blocked address before it was refused: 2 failure rows \(bad_password, bad_totp\)/,
  },
  {
    name: 'the failure recorded under X-Forwarded-For',
    seen: { ...blocked, forwarded: { status: 401, rows: [row('unknown_user', '203.0.113.77')] } },
    status: 'fail',
    phrase: /failure recorded under the X-Forwarded-For address 203\.0\.113\.77, not the real 127\.0\.0\.13/,
  },
  {
    name: 'no row at all for the forwarded-header login',
    seen: { ...blocked, forwarded: { status: 401, rows: [] } },
    status: 'fail',
    phrase: /no failure row under 127\.0\.0\.13 for the forwarded-header login \(recorded: none\)/,
  },
  {
    name: 'the address was blocked before the check',
    seen: { ...blocked, statusBefore: 403, failures: undefined, blocked: undefined },
    status: 'error',
    phrase: /could not observe a fresh block: 127\.0\.0\.9 already gets 403 on \/health before the check/,
  },
  {
    name: 'the database went away after the requests',
    seen: {
      ...blocked,
      blocks: undefined,
      rowsAfterBlock: undefined,
      forwarded: undefined,
      notSeen: 'could not observe the IP block: Error: Connection terminated',
    },
    status: 'error',
    phrase: /could not observe the IP block: Error: Connection terminated/,
  },
  {
    name: 'no request sent from the blocked address: the block was never put to the test',
    seen: { ...blocked, blocked: [] },
    status: 'error',
    phrase: /^could not observe the IP block /,
  },
  {
    name: 'a step missing without a reason',
    seen: { ...blocked, forwarded: undefined },
    status: 'error',
    phrase: /^could not observe the IP block /,
  },
]);

describe('judgeIpBlock details', () => {
  it('keeps the answers it saw when the rows could not be read', () => {
    const outcome = judgeIpBlock({ ...blocked, blocks: undefined, notSeen: 'could not observe x' }, rules);
    expect(outcome.observations.map((observation) => observation.note)).toContain('refused by the block');
  });
});
