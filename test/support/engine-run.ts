/**
 * Runs checks through the engine as `secgate verify` does — concurrently, one
 * shared context (source-address pool, redactor), pre-flight and cleanup —
 * without the CLI around it.
 */
import { allChecks } from '../../checks/index.js';
import type { PlannedEntry } from '../../src/engine/checklist/load.js';
import { type ContextOptions, openCheckContext } from '../../src/engine/context.js';
import { type CheckResult, runChecks } from '../../src/engine/run.js';

/** A checklist entry for a built-in check, its parameters parsed as the loader would. */
export function plannedEntry(id: string, params: Record<string, unknown> = {}): PlannedEntry {
  const check = allChecks.find((candidate) => candidate.id === id);
  if (!check) throw new Error(`no check ${id}`);
  return { id, check, params: check.params.parse(params), timeoutMs: 60_000 };
}

export async function runEntries(context: ContextOptions, entries: PlannedEntry[]): Promise<CheckResult[]> {
  const opened = await openCheckContext(context);
  try {
    return await runChecks({
      entries,
      context: opened.context,
      signal: new AbortController().signal,
      concurrency: 8,
      waivers: [],
    });
  } finally {
    await opened.close();
  }
}
