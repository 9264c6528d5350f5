/**
 * `secgate plan --shards N --format github|gitlab`: the CI matrix for a
 * fleet. It needs only the target names (no secrets, nothing probed), and,
 * to balance the shards, the evidence of a previous run: each target's last
 * measured duration. That evidence is read for its timings only, unverified —
 * a forged timing can make a shard slower, never make a target pass.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { loadFleetInventory } from '../engine/checklist/load.js';
import { errorMessageWithCode } from '../engine/errors.js';
import { githubMatrix, gitlabMatrix, planShards } from '../engine/shards.js';
import { decodeStatement, isEnvelope } from '../evidence/dsse.js';
import { FLEET_PREDICATE_TYPE, type FleetPredicate } from '../evidence/fleet.js';
import { PREDICATE_TYPE } from '../evidence/types.js';
import { type CliIo, readInput, UsageError } from './io.js';

interface PlanOptions {
  checklist: string;
  shards: string;
  format: string;
  evidence?: string[];
}

/** Pure: each target's last measured duration, from envelopes of per-target evidence or of a fleet statement. */
export function lastDurations(envelopes: readonly unknown[]): Map<string, { ms: number; finishedAt: string }> {
  const durations = new Map<string, { ms: number; finishedAt: string }>();
  const keep = (target: string, startedAt: string, finishedAt: string) => {
    const ms = Date.parse(finishedAt) - Date.parse(startedAt);
    const previous = durations.get(target);
    if (!(ms >= 0) || (previous && previous.finishedAt >= finishedAt)) return;
    durations.set(target, { ms, finishedAt });
  };
  for (const envelope of envelopes) {
    const statement = isEnvelope(envelope) ? decodeStatement(envelope) : undefined;
    if (!statement) continue;
    const predicateType: string = statement.predicateType;
    if (predicateType === PREDICATE_TYPE) {
      const { fleet, startedAt, finishedAt } = statement.predicate;
      if (fleet && typeof startedAt === 'string' && typeof finishedAt === 'string')
        keep(fleet.target, startedAt, finishedAt);
    } else if (predicateType === FLEET_PREDICATE_TYPE) {
      const targets = (statement.predicate as unknown as Partial<FleetPredicate>).targets;
      for (const row of Array.isArray(targets) ? targets : []) {
        if (typeof row?.name === 'string' && typeof row.startedAt === 'string' && typeof row.finishedAt === 'string') {
          keep(row.name, row.startedAt, row.finishedAt);
        }
      }
    }
  }
  return durations;
}

export function registerPlanCommand(program: Command, io: CliIo): void {
  program
    .command('plan')
    .description("Print a CI matrix that splits the checklist's targets into shards (balanced by previous evidence)")
    .option('-c, --checklist <file>', 'the checklist that declares the targets', 'checklist.yaml')
    .requiredOption('--shards <n>', 'how many shards (CI jobs) to split the targets into (1..256)')
    .requiredOption('--format <format>', 'github (JSON for strategy.matrix) or gitlab (a parallel:matrix job)')
    .option(
      '--evidence <files...>',
      'evidence of a previous run (per-target envelopes or a fleet statement), for timings',
    )
    .action(async (options: PlanOptions) => {
      const shards = /^\d{1,3}$/.test(options.shards) ? Number(options.shards) : Number.NaN;
      if (!(shards >= 1 && shards <= 256))
        throw new UsageError(`--shards takes a whole number 1..256, got '${options.shards}'`);
      if (options.format !== 'github' && options.format !== 'gitlab') {
        throw new UsageError(`--format takes github or gitlab, got '${options.format}'`);
      }
      const inventory = await loadFleetInventory(path.resolve(io.cwd, options.checklist));
      const envelopes: unknown[] = [];
      for (const file of options.evidence ?? []) {
        try {
          envelopes.push(JSON.parse((await readInput(io, file)).toString('utf8')));
        } catch (error) {
          // A first run has no previous evidence: the plan then splits by count, and says why.
          io.stderr.write(
            `secgate plan: ignoring ${file} (${errorMessageWithCode(error).split('\n')[0]}): its targets count as unmeasured\n`,
          );
        }
      }
      const measured = new Map([...lastDurations(envelopes)].map(([target, { ms }]) => [target, ms]));
      const plan = planShards(inventory.targets, shards, measured);
      io.stdout.write(options.format === 'github' ? `${githubMatrix(plan)}\n` : gitlabMatrix(plan));
    });
}
