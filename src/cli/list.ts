/** `secgate list`: every check the registry holds, with the seed control it proves. */
import type { Command } from 'commander';
import type { CheckDefinition } from '../engine/types.js';
import type { CliIo } from './io.js';

export interface CatalogueDeps {
  io: CliIo;
  /** The check registry (`allChecks` from checks/index.ts in the CLI). */
  checks: readonly CheckDefinition[];
}

export interface CheckSummary {
  id: string;
  title: string;
  source: string;
  effects: CheckDefinition['effects'];
}

export function summarizeChecks(checks: readonly CheckDefinition[]): CheckSummary[] {
  return [...checks]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map(({ id, title, source, effects }) => ({ id, title, source, effects }));
}

/** Plain lines (no colour, no box drawing), so the list reads the same in a terminal, a log and a pipe. */
export function formatCheckList(checks: readonly CheckDefinition[]): string {
  const summaries = summarizeChecks(checks);
  if (summaries.length === 0) return 'No checks are registered.\n';
  const idWidth = Math.max(...summaries.map((check) => check.id.length));
  const lines: string[] = [];
  let surface = '';
  for (const check of summaries) {
    const current = check.id.split('.')[0] ?? '';
    if (current !== surface) {
      if (surface !== '') lines.push('');
      lines.push(`${current}:`);
      surface = current;
    }
    const effects = check.effects === 'none' ? '' : ` [${check.effects}]`;
    lines.push(`  ${check.id.padEnd(idWidth)}  ${check.title}${effects}`);
    lines.push(`  ${' '.repeat(idWidth)}  control: ${check.source}`);
  }
  lines.push(
    '',
    `${summaries.length} checks. Checks marked [locks-account] or [blocks-ip] change the service's state: no other check using the same account or address runs beside them. [runs-commands] checks run commands on this machine.`,
    'secgate explain <check> shows what a check verifies, its parameters and how to fix a failure.',
  );
  return `${lines.join('\n')}\n`;
}

export function registerListCommand(program: Command, deps: CatalogueDeps): Command {
  return program
    .command('list')
    .description('List every check with the seed control it proves')
    .option('--json', 'print the list as JSON')
    .action((options: { json?: boolean }) => {
      deps.io.stdout.write(
        options.json ? `${JSON.stringify(summarizeChecks(deps.checks), null, 2)}\n` : formatCheckList(deps.checks),
      );
    });
}
