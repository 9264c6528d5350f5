/** `secgate keygen`: a PEM key pair for signing evidence. */
import path from 'node:path';
import type { Command } from 'commander';
import { errorMessageWithCode } from '../engine/errors.js';
import { generateSigningKeyPair, type KeyAlgorithm, writeKeyPair } from '../evidence/keys.js';
import { type CliIo, UsageError } from './io.js';

export function registerKeygenCommand(program: Command, io: CliIo): void {
  program
    .command('keygen')
    .description('Write a new signing key pair (private key mode 0600)')
    .option('--out <prefix>', 'file prefix: writes <prefix>.key.pem and <prefix>.pub.pem', 'secgate-signing')
    .option('--algorithm <name>', 'ed25519 or ecdsa-p256', 'ed25519')
    .action(async (options: { out: string; algorithm: string }) => {
      if (options.algorithm !== 'ed25519' && options.algorithm !== 'ecdsa-p256') {
        throw new UsageError(`--algorithm must be ed25519 or ecdsa-p256, got '${options.algorithm}'`);
      }
      const pair = generateSigningKeyPair(options.algorithm as KeyAlgorithm);
      const privatePath = path.resolve(io.cwd, `${options.out}.key.pem`);
      const publicPath = path.resolve(io.cwd, `${options.out}.pub.pem`);
      try {
        await writeKeyPair(pair, privatePath, publicPath);
      } catch (error) {
        throw new UsageError(
          `cannot write the key pair: ${errorMessageWithCode(error)} (an existing key is never overwritten)`,
        );
      }
      io.stdout.write(
        `private key: ${privatePath} (keep it secret)\npublic key:  ${publicPath}\nkey id:      ${pair.keyid}\n`,
      );
    });
}
