/**
 * The secgate command line: one file per sub-command, wired here. A sub-command's module (and what it
 * imports: the checks, the HTTP and database clients, the service) is loaded only when that sub-command
 * runs, so `secgate --version` and `secgate keygen` do not pay for `verify` or `service`.
 */
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { ChecklistError } from '../engine/checklist/errors.js';
import type { LoadedPlugin } from '../engine/checklist/plugins.js';
import { errorMessage } from '../engine/errors.js';
import type { CheckDefinition } from '../engine/types.js';
import { type CliIo, EXIT, processIo, UsageError } from './io.js';
import { VERSION } from './package-info.js';

export interface ProgramDeps {
  io: CliIo;
  setExitCode: (code: number) => void;
}

type Register = (program: Command, deps: ProgramDeps) => void;

export interface Subcommand {
  name: string;
  /** The description its module gives it; the top-level help shows it without loading the module. */
  summary: string;
  load(): Promise<Register>;
}

const catalogue = async () => (await import('../../checks/index.js')).allChecks;
/** `list -c` and `explain -c`: the plugin checks a checklist names, relative to the working directory. */
const pluginLoader =
  (checks: readonly CheckDefinition[], io: CliIo) =>
  async (checklist: string): Promise<LoadedPlugin[]> =>
    (await import('../engine/checklist/load.js')).loadPluginChecks(path.resolve(io.cwd, checklist), checks, io.env);

export const SUBCOMMANDS: readonly Subcommand[] = [
  {
    name: 'verify',
    summary: 'Probe the deployment and repository named in the checklist, then write signed evidence',
    load: async () => {
      const { registerVerifyCommand } = await import('./verify-command.js');
      return (program, { io, setExitCode }) => registerVerifyCommand(program, io, setExitCode);
    },
  },
  {
    name: 'keygen',
    summary: 'Write a new signing key pair (private key mode 0600)',
    load: async () => {
      const { registerKeygenCommand } = await import('./keygen.js');
      return (program, { io }) => registerKeygenCommand(program, io);
    },
  },
  {
    name: 'evidence',
    summary: 'Work with evidence envelopes',
    load: async () => {
      const [{ registerEvidenceCommand }, { registerEvidenceRenderCommand }, { registerFleetEvidenceCommands }] =
        await Promise.all([import('./evidence.js'), import('./evidence-render.js'), import('./fleet-evidence.js')]);
      return (program, { io, setExitCode }) => {
        registerFleetEvidenceCommands(registerEvidenceCommand(program, io, setExitCode), io, setExitCode);
        registerEvidenceRenderCommand(program, { io, setExitCode });
      };
    },
  },
  {
    name: 'plan',
    summary: "Print a CI matrix that splits the checklist's targets into shards (balanced by previous evidence)",
    load: async () => {
      const { registerPlanCommand } = await import('./plan.js');
      return (program, { io }) => registerPlanCommand(program, io);
    },
  },
  {
    name: 'list',
    summary: 'List every check with the seed control it proves',
    load: async () => {
      const [{ registerListCommand }, checks] = await Promise.all([import('./list.js'), catalogue()]);
      return (program, { io }) => registerListCommand(program, { io, checks, loadPlugins: pluginLoader(checks, io) });
    },
  },
  {
    name: 'explain',
    summary: 'Explain what a check verifies, why, its parameters and how to fix a failure',
    load: async () => {
      const [{ registerExplainCommand }, checks] = await Promise.all([import('./explain.js'), catalogue()]);
      return (program, { io }) =>
        registerExplainCommand(program, { io, checks, loadPlugins: pluginLoader(checks, io) });
    },
  },
  {
    name: 'init',
    summary: 'Write a commented starter checklist for a target',
    load: async () => {
      const [{ registerInitCommand }, checks] = await Promise.all([import('./init.js'), catalogue()]);
      return (program, { io }) => registerInitCommand(program, { io, checks });
    },
  },
  {
    name: 'service',
    summary: 'run and administer the reference service',
    load: async () => {
      const { registerServiceCommand } = await import('./service.js');
      return (program, { setExitCode }) => registerServiceCommand(program, setExitCode);
    },
  },
];

/**
 * The sub-command argv asks for: its first word that is not an option (`secgate --version` asks for none),
 * or the one after `help` (`secgate help verify` shows verify's options).
 */
export function requestedSubcommand(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((word) => !word.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * The program for this argv: the requested sub-command fully registered (all of them with `load: 'all'`),
 * every other one as its name and summary only, which is all the top-level help shows.
 */
export async function buildProgram(
  io: CliIo,
  setExitCode: (code: number) => void,
  argv: readonly string[] = [],
  load: 'requested' | 'all' = 'requested',
): Promise<Command> {
  const program = new Command('secgate')
    .description('Pre-deploy security gate: proves each control of checklist.yaml with live, signed evidence.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError('(run secgate --help for usage)');
  const requested = requestedSubcommand(argv);
  for (const subcommand of SUBCOMMANDS) {
    if (load === 'all' || subcommand.name === requested) {
      (await subcommand.load())(program, { io, setExitCode });
    } else {
      program.command(subcommand.name).description(subcommand.summary);
    }
  }
  return program;
}

/** Runs the CLI and returns the exit code (0 pass, 1 control failed, 2 invalid invocation, 3 could not verify). */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = EXIT.passed;
  try {
    // Inside the try: a sub-command's module that cannot be loaded is secgate failing, exit 3, never exit 1.
    const program = await buildProgram(
      io,
      (code) => {
        exitCode = code;
      },
      argv,
    );
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
    const [{ secretLookingValues }, { createSecretRedactor }] = await Promise.all([
      import('../engine/checklist/load.js'),
      import('../engine/secrets.js'),
    ]);
    const redactor = createSecretRedactor(secretLookingValues(io.env));
    io.stderr.write(`secgate: internal error: ${redactor.redact(errorMessage(error))}\n`);
    return EXIT.couldNotVerify;
  }
}

export async function main(argv: string[]): Promise<void> {
  // `secgate … | head` closes the pipe early: the reader's choice, never the verdict. processIo drops
  // writes to a closed stream, and the run goes on to its evidence and its own exit code.
  try {
    process.exitCode = await runCli(argv);
  } catch (error) {
    // runCli reports every failure itself; this is its reporting failing (the redactor could not load). The
    // message could quote a secret and cannot be scrubbed here: only the failure's kind is named. Exit 3,
    // never an unhandled rejection's 1, which would read as a failed control.
    process.stderr.write(
      `secgate: internal error (${failureKind(error)}); its message is withheld: it could not be scrubbed of secrets\n`,
    );
    process.exitCode = EXIT.couldNotVerify;
  }
}

function failureKind(error: unknown): string {
  if (error instanceof Error) return 'code' in error && typeof error.code === 'string' ? error.code : error.name;
  return typeof error;
}
