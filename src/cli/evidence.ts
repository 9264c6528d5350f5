/**
 * `secgate evidence verify`: check an envelope's signature and show what it attests — a target's
 * evidence or a fleet statement, each refused when its signed content contradicts itself.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { errorMessageWithCode } from '../engine/errors.js';
import { decodeStatement, isEnvelope } from '../evidence/dsse.js';
import { FLEET_PREDICATE_TYPE } from '../evidence/fleet.js';
import { type FleetVerification, verifyFleetEvidence } from '../evidence/fleet-check.js';
import { loadPublicKey } from '../evidence/keys.js';
import type { ResourceDescriptor } from '../evidence/types.js';
import { verifyEvidence } from '../evidence/verify.js';
import { formatFleet } from '../report/fleet-text.js';
import { formatCheckLine, formatVerdict } from '../report/text.js';
import { type CliIo, chalkFor, readInput, STDIO, UsageError } from './io.js';

export function registerEvidenceCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): Command {
  const evidence = program.command('evidence').description('Work with evidence envelopes');
  evidence
    .command('verify')
    .description(
      "Verify the signature of a target's evidence or a fleet statement and print its summary (exit 0 valid, 1 invalid)",
    )
    .argument(
      '<envelope>',
      'evidence JSON written by secgate verify --out or evidence aggregate --out (- reads standard input)',
    )
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
      // The decoded type is a hint that picks the reader; either one verifies the signature itself.
      if (isEnvelope(envelope) && isFleetStatement(decodeStatement(envelope))) {
        setExitCode(printFleetVerification(io, file, verifyFleetEvidence(envelope, publicKey)));
        return;
      }
      const result = verifyEvidence(envelope, publicKey);
      if (!result.valid || !result.statement) {
        io.stdout.write(`${chalk.red.bold('INVALID')} ${file}: ${result.reason}\n`);
        setExitCode(1);
        return;
      }
      const { predicate, subject } = result.statement;
      io.stdout.write(`${chalk.green.bold('VALID')} signature by key ${result.keyid}\n`);
      printSubjects(io, subject);
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

function isFleetStatement(statement: { predicateType: string } | undefined): boolean {
  return statement?.predicateType === FLEET_PREDICATE_TYPE;
}

function printSubjects(io: CliIo, subject: readonly ResourceDescriptor[]): void {
  for (const item of subject) {
    const [algorithm, digest] = Object.entries(item.digest)[0] ?? ['?', '?'];
    io.stdout.write(`subject: ${item.name} ${algorithm}:${digest}\n`);
  }
}

/** A fleet statement's verification, as `evidence verify` prints it; returns the exit code (0 valid, 1 invalid). */
function printFleetVerification(io: CliIo, file: string, result: FleetVerification): 0 | 1 {
  const chalk = chalkFor(io.stdout, io.env);
  if (!result.valid) {
    io.stdout.write(`${chalk.red.bold('INVALID')} ${file}: ${result.reason}\n`);
    return 1;
  }
  const { predicate, subject } = result.statement;
  io.stdout.write(`${chalk.green.bold('VALID')} signature by key ${result.keyid}\n`);
  printSubjects(io, subject);
  io.stdout.write(
    `fleet:   commit ${predicate.commit ?? '(none)'}, checklist sha256 ${predicate.checklist.sha256}  (secgate ${predicate.tool.version}, joined ${predicate.generatedAt})\n\n`,
  );
  for (const line of formatFleet(result.statement, chalk)) io.stdout.write(`${line}\n`);
  return 0;
}
