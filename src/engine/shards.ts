/**
 * Shards for a CI matrix. secgate schedules nothing itself: the CI's matrix
 * (GitHub Actions `strategy.matrix`, GitLab `parallel:matrix`) runs the
 * shards; this only decides which targets go together, so that the slowest
 * shard — the one the join waits for — is as short as it can be made.
 */

export interface Shard {
  /** 1-based, as CI matrices show them. */
  index: number;
  /** In inventory order. */
  targets: string[];
  /** The sum of its targets' last measured (or assumed) durations. */
  estimatedMs: number;
}

/**
 * Pure: longest-processing-time-first. Targets sorted by their last measured
 * duration (longest first; ties by inventory order) each go to the shard with
 * the least work so far (ties: the lowest index). A target never measured
 * counts as the median of those that were, or 1 when none was, so a first
 * plan splits the targets evenly by count. Never more shards than targets.
 */
export function planShards(
  targets: readonly string[],
  shards: number,
  lastDurationMs: ReadonlyMap<string, number>,
): Shard[] {
  const count = Math.max(1, Math.min(shards, targets.length));
  const measured = targets.map((name) => lastDurationMs.get(name)).filter((ms): ms is number => ms !== undefined);
  const assumed = median(measured) ?? 1;
  const cost = (name: string) => lastDurationMs.get(name) ?? assumed;
  const order = targets
    .map((name, position) => ({ name, position, ms: cost(name) }))
    .sort((a, b) => b.ms - a.ms || a.position - b.position);
  const bins = Array.from({ length: count }, (_, index) => ({
    index: index + 1,
    members: [] as number[],
    estimatedMs: 0,
  }));
  for (const item of order) {
    const lightest = bins.reduce((best, bin) => (bin.estimatedMs < best.estimatedMs ? bin : best));
    lightest.members.push(item.position);
    lightest.estimatedMs += item.ms;
  }
  return bins.map((bin) => ({
    index: bin.index,
    targets: bin.members.sort((a, b) => a - b).map((position) => targets[position] ?? ''),
    estimatedMs: bin.estimatedMs,
  }));
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** GitHub Actions: one line of JSON for `strategy.matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}`. */
export function githubMatrix(shards: readonly Shard[]): string {
  return JSON.stringify({
    include: shards.map((shard) => ({
      shard: shard.index,
      targets: shard.targets.join(','),
      estimated_seconds: Math.ceil(shard.estimatedMs / 1000),
    })),
  });
}

/**
 * GitLab: a `parallel:matrix` in a hidden job that the shard job of a child
 * pipeline `extends:` (a matrix cannot be computed within the pipeline that
 * runs it, so the plan job writes this file and a trigger job includes it).
 */
export function gitlabMatrix(shards: readonly Shard[]): string {
  const lines = [
    `# secgate plan: ${shards.length} shard(s) over ${shards.reduce((sum, shard) => sum + shard.targets.length, 0)} target(s)`,
    '.secgate-fleet-matrix:',
    '  parallel:',
    '    matrix:',
  ];
  for (const shard of shards) {
    lines.push(`      - SECGATE_SHARD: "${shard.index}"`, `        SECGATE_TARGETS: "${shard.targets.join(',')}"`);
  }
  return `${lines.join('\n')}\n`;
}
