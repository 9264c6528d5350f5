/** An in-process CLI harness: a commander program with captured stdout/stderr, as main.ts builds it. */
import { Writable } from 'node:stream';
import { Command } from 'commander';
import type { CliIo } from '../../src/cli/io.js';

export interface CapturedRun {
  stdout: string;
  stderr: string;
  exitCode: number | undefined;
  error: unknown;
}

function sink(chunks: string[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
}

export async function runProgram(
  cwd: string,
  argv: string[],
  register: (program: Command, io: CliIo, setExitCode: (code: number) => void) => void,
): Promise<CapturedRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: sink(out), stderr: sink(err), env: {}, cwd };
  let exitCode: number | undefined;
  const program = new Command('secgate')
    .exitOverride()
    .configureOutput({ writeOut: (text) => out.push(text), writeErr: (text) => err.push(text) });
  register(program, io, (code) => {
    exitCode = code;
  });
  let error: unknown;
  try {
    await program.parseAsync(['node', 'secgate', ...argv]);
  } catch (caught) {
    error = caught;
  }
  return { stdout: out.join(''), stderr: err.join(''), exitCode, error };
}
