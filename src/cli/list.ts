/**
 * `secgate list`: every check the registry holds, with the control it proves; with `--checklist`, also
 * the plugin checks that checklist names, each with the module file it came from.
 */
import type { Command } from 'commander';
import type { LoadedPlugin, PluginOrigin } from '../engine/checklist/plugins.js';
import type { CheckDefinition } from '../engine/types.js';
import type { CliIo } from './io.js';

export interface CatalogueDeps {
  io: CliIo;
  /** The check registry (`allChecks` from checks/index.ts in the CLI). */
  checks: readonly CheckDefinition[];
  /**
   * The plugin checks a checklist names (`loadPluginChecks` in the CLI), for `--checklist`; without it the
   * option is refused.
   */
  loadPlugins?: (checklist: string) => Promise<LoadedPlugin[]>;
}

export interface CheckSummary {
  id: string;
  title: string;
  source: string;
  effects: CheckDefinition['effects'];
  /** A plugin check's module: as the checklist names it, the file imported and its sha256. */
  plugin?: PluginOrigin;
}

export function summarizeChecks(
  checks: readonly CheckDefinition[],
  plugins: readonly LoadedPlugin[] = [],
): CheckSummary[] {
  const entries = [
    ...checks.map((check) => ({ check, plugin: undefined })),
    ...plugins.map(({ check, origin }) => ({ check, plugin: origin })),
  ];
  return entries
    .sort((a, b) => a.check.id.localeCompare(b.check.id))
    .map(({ check: { id, title, source, effects }, plugin }) => ({
      id,
      title,
      source,
      effects,
      ...(plugin ? { plugin } : {}),
    }));
}

/** The plugin checks `--checklist` names, or none. */
export async function pluginsOf(deps: CatalogueDeps, checklist: string | undefined): Promise<LoadedPlugin[]> {
  if (checklist === undefined) return [];
  if (!deps.loadPlugins) throw new Error('this catalogue cannot load plugins');
  return deps.loadPlugins(checklist);
}

/** Plain lines (no colour, no box drawing), so the list reads the same in a terminal, a log and a pipe. */
export function formatCheckList(checks: readonly CheckDefinition[], plugins: readonly LoadedPlugin[] = []): string {
  const summaries = summarizeChecks(checks, plugins);
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
    if (check.plugin)
      lines.push(
        `  ${' '.repeat(idWidth)}  plugin:  ${check.plugin.path} (sha256 ${check.plugin.sha256.slice(0, 12)}…)`,
      );
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
    .option(
      '-c, --checklist <file>',
      'also list the plugin checks this checklist names (imports their modules, as verify does)',
    )
    .action(async (options: { json?: boolean; checklist?: string }) => {
      const plugins = await pluginsOf(deps, options.checklist);
      deps.io.stdout.write(
        options.json
          ? `${JSON.stringify(summarizeChecks(deps.checks, plugins), null, 2)}\n`
          : formatCheckList(deps.checks, plugins),
      );
    });
}
