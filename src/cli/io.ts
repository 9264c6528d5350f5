/** The process edges a command may use, injectable so commands are testable in-process. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

export const processIo: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
};

/** Exit codes, as DESIGN.md defines them. */
export const EXIT = {
  passed: 0,
  controlFailed: 1,
  invalidInvocation: 2,
  couldNotVerify: 3,
} as const;

/** An invocation problem: reported on stderr, exit 2, nothing probed. */
export class UsageError extends Error {
  override name = 'UsageError';
}
