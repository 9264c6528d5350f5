/**
 * `secgate verify`'s command line: flags, their parsers and the signal handling. The engine (`./verify.js`)
 * is imported once the flags are known to be valid, so a mistyped flag costs a process start, not a gate's.
 */
import type { Command } from 'commander';
import { type CliIo, EXIT, UsageError } from './io.js';
import type { VerifyOptions } from './verify.js';

/** In an output path of a fleet run, the name of the target the file is for. */
export const TARGET_PLACEHOLDER = '{target}';

const splitList = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
];

/** `--concurrency 8abc` is not 8: the whole value must be a whole number in range. */
export function parseConcurrency(value: string): number {
  return parseWholeNumber(value, '--concurrency');
}

function parseWholeNumber(value: string, flag: string): number {
  const parsed = /^\d{1,2}$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!(parsed >= 1 && parsed <= 64)) throw new UsageError(`${flag} takes a whole number 1..64, got '${value}'`);
  return parsed;
}

type VerifyCliOptions = Omit<VerifyOptions, 'target'> & { target?: string[]; all?: boolean; parallel?: number };

export function registerVerifyCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('verify')
    .description('Probe the deployment and repository named in the checklist, then write signed evidence')
    .option('-c, --checklist <file>', 'checklist to run (- reads it from standard input)', 'checklist.yaml')
    .option('--only <ids>', 'run only these checks (comma-separated, repeatable)', splitList)
    .option('--skip <ids>', 'do not run these checks (comma-separated, repeatable)', splitList)
    .option('--sign-key <pem>', 'private key (Ed25519 or ECDSA P-256) that signs the evidence')
    .option('--require-signature', 'refuse to run without --sign-key (exit 2)')
    .option('-o, --out <file>', 'write the evidence envelope (DSSE JSON) to this file')
    .option('--json', 'print the evidence envelope on stdout (human output goes to stderr)')
    .option(
      '--report <format:path>',
      'also write a report: junit, sarif, markdown, html or github (repeatable; path - is stdout)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--sarif-category <id>',
      'code-scanning category of the SARIF report (automationDetails.id; default: checklist path + target host)',
    )
    .option('--allow-partial', 'let a run with --only/--skip pass (recorded in the evidence); otherwise it exits 3')
    .option('--baseline-ref <ref>', 'fail if the checklist is weaker than on this git ref (e.g. origin/main)')
    .option('--concurrency <n>', 'checks without side effects run this many at a time', parseConcurrency)
    .option('--target <names>', 'verify these targets of the checklist (comma-separated, repeatable)', splitList)
    .option('--all', "verify every target of the checklist's targets: or inventory:")
    .option('--parallel <n>', 'with --all or several --target: targets verified at once (1..64, default 4)', (value) =>
      parseWholeNumber(value, '--parallel'),
    )
    .action(async (options: VerifyCliOptions) => {
      const controller = new AbortController();
      let interrupts = 0;
      const onSignal = (signalName: NodeJS.Signals) => {
        interrupts += 1;
        if (interrupts > 1) process.exit(EXIT.couldNotVerify);
        io.stderr.write(`\n${signalName}: stopping the checks that are running; press again to exit at once\n`);
        controller.abort(new Error(signalName));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const { target: targets = [], all = false, parallel = 4, ...single } = options;
        // Loaded only now, after the flags were checked: a wrong flag is answered without loading the checks,
        // the HTTP and database clients and the rest of the engine.
        if (all && targets.length > 0) throw new UsageError('--all runs every target: leave out --target');
        if (all || targets.length > 1) {
          const { runFleetVerify } = await import('./fleet-verify.js');
          const fleet = await runFleetVerify({ ...single, targets, all, parallel, signal: controller.signal }, io);
          setExitCode(fleet.exitCode);
          return;
        }
        const { runVerify } = await import('./verify.js');
        const target = targets[0];
        // One target of a fleet: `{target}` in an output path names it, as with --all.
        const named = (file: string) => (target ? file.replaceAll(TARGET_PLACEHOLDER, target) : file);
        const outcome = await runVerify(
          {
            ...single,
            ...(single.out ? { out: named(single.out) } : {}),
            ...(single.report ? { report: single.report.map(named) } : {}),
            ...(target ? { target } : {}),
            signal: controller.signal,
          },
          io,
        );
        setExitCode(outcome.exitCode);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
