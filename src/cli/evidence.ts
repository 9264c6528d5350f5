/** `secgate evidence verify`: check an envelope's signature and show what it attests. */
import path from 'node:path';
import type { Command } from 'commander';
import { errorMessageWithCode } from '../engine/errors.js';
import { loadPublicKey } from '../evidence/keys.js';
import { verifyEvidence } from '../evidence/verify.js';
import { formatCheckLine, formatVerdict } from '../report/text.js';
import { type CliIo, chalkFor, readInput, STDIO, UsageError } from './io.js';

export function registerEvidenceCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): Command {
  const evidence = program.command('evidence').description('Work with evidence envelopes');
  evidence
    .command('verify')
    .description('Verify the signature of an evidence envelope and print its summary (exit 0 valid, 1 invalid)')
    .argument('<envelope>', 'evidence JSON written by secgate verify --out (- reads standard input)')
    .requiredOption('--key <pem>', 'public key of the signer')
    .action(async (file: string, options: { key: string }) => {
      const chalk = chalkFor(io.stdout, io.env);
      if (options.key === STDIO) throw new UsageError('--key must be a file: standard input (-) is for the envelope');
      let publicKey: Awaited<ReturnType<typeof loadPublicKey>>;
      try {
        publicKey = await loadPublicKey(path.resolve(io.cwd, options.key));
      } catch (error) {
        throw new UsageError(`cannot use public key ${options.key}: ${errorMessageWithCode(error)}`);
      }
      let text: string;
      try {
        text = (await readInput(io, file)).toString('utf8');
      } catch (error) {
        throw new UsageError(`cannot read evidence ${file}: ${errorMessageWithCode(error)}`);
      }
      let envelope: unknown;
      try {
        envelope = JSON.parse(text);
      } catch {
        // The parser's message quotes the input; whatever was handed in is not echoed.
        throw new UsageError(`cannot read evidence ${file}: not JSON (expected a DSSE envelope)`);
      }
      const result = verifyEvidence(envelope, publicKey);
      if (!result.valid || !result.statement) {
        io.stdout.write(`${chalk.red.bold('INVALID')} ${file}: ${result.reason}\n`);
        setExitCode(1);
        return;
      }
      const { predicate, subject } = result.statement;
      io.stdout.write(`${chalk.green.bold('VALID')} signature by key ${result.keyid}\n`);
      for (const item of subject) {
        const [algorithm, digest] = Object.entries(item.digest)[0] ?? ['?', '?'];
        io.stdout.write(`subject: ${item.name} ${algorithm}:${digest}\n`);
      }
      io.stdout.write(
        `target:  ${predicate.target.url}  (secgate ${predicate.tool.version}, ${predicate.finishedAt})\n\n`,
      );
      const idWidth = Math.max(20, ...predicate.checks.map((record) => record.id.length)) + 1;
      for (const record of predicate.checks) io.stdout.write(`${formatCheckLine(record, chalk, idWidth)}\n`);
      io.stdout.write(`\n${formatVerdict(predicate, chalk)}\n`);
      setExitCode(0);
    });
  return evidence;
}
