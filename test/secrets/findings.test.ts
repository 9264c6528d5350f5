import { describe, expect, it } from 'vitest';
import type { BaselineEntry } from '../../src/secrets/baseline.js';
import { baselineVerdict, groupByFingerprint, placeOf } from '../../src/secrets/findings.js';

const occurrence = (path: string, line: number, rule = 'stripe-key') => ({ rule, path, line, blob: `${path}-blob` });

describe('findings grouped by secret', () => {
  const found = [
    { fingerprint: 'aaaaaaaaaaaa', length: 40, occurrence: occurrence('config/payments.py', 1) },
    // The same place found by a second rule: one occurrence, both rules kept.
    {
      fingerprint: 'aaaaaaaaaaaa',
      length: 40,
      occurrence: occurrence('config/payments.py', 1, 'generic-secret-assignment'),
    },
    { fingerprint: 'bbbbbbbbbbbb', length: 20, occurrence: occurrence('ci/clone.sh', 3, 'gitlab-token') },
    { fingerprint: 'aaaaaaaaaaaa', length: 40, occurrence: occurrence('config/billing.py', 3) },
  ];

  it('keeps one finding per fingerprint, its places in the order first seen', () => {
    const groups = groupByFingerprint(found);
    expect(groups.map((group) => [group.fingerprint, group.occurrences.map(placeOf)])).toEqual([
      ['aaaaaaaaaaaa', ['config/payments.py:1', 'config/billing.py:3']],
      ['bbbbbbbbbbbb', ['ci/clone.sh:3']],
    ]);
    expect(groups[0]?.occurrences[0]?.alsoMatchedBy).toEqual(['generic-secret-assignment']);
  });

  it('is accepted only when the baseline covers every place it appears', () => {
    const [keyFinding] = groupByFingerprint(found);
    if (!keyFinding) throw new Error('no finding');
    const atPayments: BaselineEntry = { fingerprint: 'aaaaaaaaaaaa', path: 'config/payments.py', reason: 'revoked' };
    expect(baselineVerdict([atPayments], keyFinding)).toEqual({ accepted: undefined, acceptedOccurrences: 1 });
    const everywhere: BaselineEntry = { fingerprint: 'aaaaaaaaaaaa', rule: 'generic-secret-assignment', reason: 'ok' };
    expect(baselineVerdict([everywhere], keyFinding)).toEqual({ accepted: undefined, acceptedOccurrences: 1 });
    const byRule: BaselineEntry = { fingerprint: 'aaaaaaaaaaaa', rule: 'stripe-key', reason: 'revoked test key' };
    expect(baselineVerdict([byRule], keyFinding)).toEqual({ accepted: byRule, acceptedOccurrences: 2 });
  });
});
