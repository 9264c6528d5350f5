/**
 * One short git question, answered through node's own execFile: the CLI asks
 * these on every `verify` (the repository's identity, the base checklist), and
 * loading execa for them (some 170 modules) cost a TLS-only gate more start-up
 * than the git processes themselves. Streaming reads of the history use
 * git-history.ts instead.
 */
import { execFile } from 'node:child_process';

export interface GitOutput {
  /** Exit code 0, and the output fitted in the buffer. */
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Never prompts, pages or reads the system config; the environment is otherwise the gate's own. */
const GIT_ENV = { GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };

/** Runs `git -C repoDir …args`; an output over `maxBufferBytes` is a failure (not ok), never a cut answer. */
export function gitOutput(
  repoDir: string,
  args: readonly string[],
  maxBufferBytes = 16 * 1024 * 1024,
): Promise<GitOutput> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['-C', repoDir, ...args],
      { env: { ...process.env, ...GIT_ENV }, maxBuffer: maxBufferBytes },
      (error, stdout, stderr) => resolve({ ok: error === null, stdout, stderr }),
    );
  });
}
