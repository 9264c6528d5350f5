/** Shard planning is pure: a table of inventories, timings and the shards they must give. */
import { describe, expect, it } from 'vitest';
import { lastDurations } from '../../src/cli/plan.js';
import { githubMatrix, gitlabMatrix, planShards } from '../../src/engine/shards.js';
import { unsignedEnvelope } from '../../src/evidence/dsse.js';

const names = (count: number) => Array.from({ length: count }, (_, index) => `t${index + 1}`);

describe('planShards', () => {
  it.each([
    {
      name: 'no timings: split evenly by count, in inventory order',
      targets: names(5),
      shards: 2,
      durations: {},
      expected: [
        ['t1', 't3', 't5'],
        ['t2', 't4'],
      ],
    },
    {
      name: 'one slow target gets a shard of its own',
      targets: names(5),
      shards: 2,
      durations: { t1: 1000, t2: 1000, t3: 1000, t4: 1000, t5: 4000 },
      expected: [['t5'], ['t1', 't2', 't3', 't4']],
    },
    {
      name: 'longest first, each to the lightest shard',
      targets: ['a', 'b', 'c', 'd', 'e', 'f'],
      shards: 3,
      durations: { a: 7000, b: 5000, c: 4000, d: 3000, e: 2000, f: 1000 },
      expected: [
        ['a', 'f'],
        ['b', 'e'],
        ['c', 'd'],
      ],
    },
    {
      name: 'an unmeasured target counts as the median of the measured ones',
      targets: ['new', 'a', 'b', 'c'],
      shards: 2,
      durations: { a: 9000, b: 1000, c: 1000 },
      expected: [['a'], ['new', 'b', 'c']],
    },
    { name: 'never more shards than targets', targets: names(2), shards: 8, durations: {}, expected: [['t1'], ['t2']] },
  ])('$name', ({ targets, shards, durations, expected }) => {
    const plan = planShards(targets, shards, new Map(Object.entries(durations)));
    expect(plan.map((shard) => shard.targets)).toEqual(expected);
    expect(plan.map((shard) => shard.index)).toEqual(expected.map((_, index) => index + 1));
    // Every target exactly once.
    expect(plan.flatMap((shard) => shard.targets).sort()).toEqual([...targets].sort());
  });

  it('balances 50 targets with skewed timings to within the longest single target', () => {
    const targets = names(50);
    const durations = new Map(targets.map((name, index) => [name, 1000 + ((index * 7919) % 13) * 900]));
    const plan = planShards(targets, 4, durations);
    const loads = plan.map((shard) => shard.estimatedMs);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(Math.max(...durations.values()));
  });

  it('prints a GitHub matrix and a GitLab parallel:matrix', () => {
    const plan = planShards(
      ['eu', 'us', 'ap'],
      2,
      new Map([
        ['eu', 3000],
        ['us', 1000],
        ['ap', 1000],
      ]),
    );
    expect(JSON.parse(githubMatrix(plan))).toEqual({
      include: [
        { shard: 1, targets: 'eu', estimated_seconds: 3 },
        { shard: 2, targets: 'us,ap', estimated_seconds: 2 },
      ],
    });
    expect(gitlabMatrix(plan)).toContain(
      '.secgate-fleet-matrix:\n  parallel:\n    matrix:\n      - SECGATE_SHARD: "1"\n        SECGATE_TARGETS: "eu"\n      - SECGATE_SHARD: "2"\n        SECGATE_TARGETS: "us,ap"\n',
    );
  });
});

describe('lastDurations', () => {
  const evidence = (target: string, startedAt: string, finishedAt: string) =>
    unsignedEnvelope(
      Buffer.from(
        JSON.stringify({
          _type: 'https://in-toto.io/Statement/v1',
          subject: [],
          predicateType: 'https://secgate.dev/evidence/v1',
          predicate: { fleet: { target }, startedAt, finishedAt },
        }),
      ),
    );

  it("takes each target's most recent run, from target evidence and from fleet statements", () => {
    const fleet = unsignedEnvelope(
      Buffer.from(
        JSON.stringify({
          _type: 'https://in-toto.io/Statement/v1',
          subject: [],
          predicateType: 'https://secgate.dev/fleet/v1',
          predicate: {
            targets: [{ name: 'us', startedAt: '2026-12-01T10:00:00Z', finishedAt: '2026-12-01T10:00:09Z' }],
          },
        }),
      ),
    );
    const durations = lastDurations([
      evidence('eu', '2026-12-01T10:00:00Z', '2026-12-01T10:00:05Z'),
      evidence('eu', '2026-12-02T10:00:00Z', '2026-12-02T10:00:02Z'),
      evidence('eu', '2026-11-30T10:00:00Z', '2026-11-30T10:00:30Z'),
      fleet,
      { not: 'an envelope' },
    ]);
    expect(Object.fromEntries([...durations].map(([name, { ms }]) => [name, ms]))).toEqual({ eu: 2000, us: 9000 });
  });
});
