/** The secgate command line: one file per sub-command, wired here. */
import { Command, CommanderError } from 'commander';
import { allChecks } from '../../checks/index.js';
import { ChecklistError } from '../engine/checklist/errors.js';
import { secretLookingValues } from '../engine/checklist/load.js';
import { createSecretRedactor } from '../engine/secrets.js';
import { registerEvidenceCommand } from './evidence.js';
import { registerEvidenceRenderCommand } from './evidence-render.js';
import { registerExplainCommand } from './explain.js';
import { registerFleetEvidenceCommands } from './fleet-evidence.js';
import { registerInitCommand } from './init.js';
import { type CliIo, EXIT, processIo, UsageError } from './io.js';
import { registerKeygenCommand } from './keygen.js';
import { registerListCommand } from './list.js';
import { VERSION } from './package-info.js';
import { registerPlanCommand } from './plan.js';
import { registerServiceCommand } from './service.js';
import { registerVerifyCommand } from './verify.js';

export function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('secgate')
    .description('Pre-deploy security gate: proves each control of checklist.yaml with live, signed evidence.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError('(run secgate --help for usage)');
  registerVerifyCommand(program, io, setExitCode);
  registerKeygenCommand(program, io);
  registerFleetEvidenceCommands(registerEvidenceCommand(program, io, setExitCode), io, setExitCode);
  registerPlanCommand(program, io);
  registerEvidenceRenderCommand(program, { io, setExitCode });
  registerListCommand(program, { io, checks: allChecks });
  registerExplainCommand(program, { io, checks: allChecks });
  registerInitCommand(program, { io, checks: allChecks });
  registerServiceCommand(program);
  return program;
}

/** Runs the CLI and returns the exit code (0 pass, 1 control failed, 2 invalid invocation, 3 could not verify). */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = EXIT.passed;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; everything else is a usage error.
      return error.exitCode === 0 ? EXIT.passed : EXIT.invalidInvocation;
    }
    if (error instanceof ChecklistError) {
      io.stderr.write(`secgate: the checklist is invalid; nothing was probed.\n${error.message}\n`);
      return EXIT.invalidInvocation;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`secgate: ${error.message}\n`);
      return EXIT.invalidInvocation;
    }
    // An unexpected failure of secgate itself: the gate could not reach a verdict. The message may
    // quote anything, so every secret-looking environment value is scrubbed from it first.
    const redactor = createSecretRedactor(secretLookingValues(io.env));
    io.stderr.write(
      `secgate: internal error: ${redactor.redact(error instanceof Error ? error.message : String(error))}\n`,
    );
    return EXIT.couldNotVerify;
  }
}

export async function main(argv: string[]): Promise<void> {
  // `secgate … | head` closes the pipe early: the reader's choice, never the verdict. processIo drops
  // writes to a closed stream, and the run goes on to its evidence and its own exit code.
  const code = await runCli(argv);
  process.exitCode = code;
}
