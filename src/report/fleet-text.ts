/** A fleet statement as terminal lines: one per target (and per missing target), then the fleet's verdict. */
import type { ChalkInstance } from 'chalk';
import type { FleetStatement } from '../evidence/fleet.js';

export function formatFleet(statement: FleetStatement, chalk: ChalkInstance): string[] {
  const { predicate } = statement;
  const width =
    Math.max(8, ...predicate.targets.map((row) => row.name.length), ...predicate.missing.map((name) => name.length)) +
    2;
  const lines = predicate.targets.map((row) => {
    const status =
      row.status === 'pass'
        ? chalk.green('PASS ')
        : row.status === 'fail'
          ? chalk.red('FAIL ')
          : chalk.magenta('ERROR');
    return `${status} ${row.name.padEnd(width)}${row.verdict}${row.problems.length > 0 ? `: ${row.problems.join('; ')}` : ''}`;
  });
  for (const name of predicate.missing) lines.push(`${chalk.magenta('MISSING')} ${name.padEnd(width)}no evidence`);
  const { counts } = predicate;
  const summary = `${counts.pass} of ${counts.targets} targets pass, ${counts.fail} fail, ${counts.error} not proven, ${counts.missing} missing`;
  lines.push(
    '',
    predicate.verdict === 'pass'
      ? chalk.green.bold(`FLEET PASSED — ${summary}`)
      : chalk.red.bold(`FLEET ${predicate.verdict.toUpperCase()} — ${summary}`),
  );
  return lines;
}
