/**
 * `secgate evidence aggregate` (the join of a sharded fleet run) and
 * `secgate evidence check` (the deploy-time admission step). The judgements
 * are pure (src/evidence/fleet.ts, src/evidence/admission.ts); this reads the
 * files, prints, signs and sets the exit code — 0 pass, 1 a control failed,
 * 2 invalid invocation or input, 3 not verified.
 */
import { createHash, type KeyObject } from 'node:crypto';
import path from 'node:path';
import type { Command } from 'commander';
import { loadFleetInventory } from '../engine/checklist/load.js';
import { errorMessageWithCode } from '../engine/errors.js';
import { judgeAdmission } from '../evidence/admission.js';
import { signPayload } from '../evidence/dsse.js';
import { aggregateFleet, formatAge, serializeFleetStatement } from '../evidence/fleet.js';
import { loadPrivateKey, loadPublicKey } from '../evidence/keys.js';
import { formatFleet } from '../report/fleet-text.js';
import { type CliIo, chalkFor, EXIT, readInput, STDIO, UsageError } from './io.js';
import { proveWritable, writeOutputFile } from './output-file.js';
import { VERSION } from './package-info.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `90s`, `30m`, `24h`, `7d` → milliseconds. */
export function parseMaxAge(value: string): number {
  const match = /^(\d{1,6})(s|m|h|d)$/.exec(value.trim());
  if (!match) throw new UsageError(`--max-age takes a duration such as 30m, 24h or 7d, got '${value}'`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  const ms = Number(match[1]) * unit;
  if (ms <= 0) throw new UsageError(`--max-age must be more than 0, got '${value}'`);
  return ms;
}

async function publicKeys(io: CliIo, files: readonly string[]): Promise<KeyObject[]> {
  if (files.length === 0)
    throw new UsageError('--key <public.pem> is required: the keys whose signatures are accepted');
  const keys: KeyObject[] = [];
  for (const file of files) {
    if (file === STDIO) throw new UsageError('--key must be a file');
    try {
      keys.push(await loadPublicKey(path.resolve(io.cwd, file)));
    } catch (error) {
      throw new UsageError(`cannot use public key ${file}: ${errorMessageWithCode(error)}`);
    }
  }
  return keys;
}

/** An envelope file as JSON; anything else is invalid input (exit 2), never echoed. */
async function readEnvelope(io: CliIo, file: string): Promise<unknown> {
  let text: string;
  try {
    text = (await readInput(io, file)).toString('utf8');
  } catch (error) {
    throw new UsageError(`cannot read evidence ${file}: ${errorMessageWithCode(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`cannot read evidence ${file}: not JSON (expected a DSSE envelope)`);
  }
}

interface AggregateOptions {
  key?: string[];
  checklist: string;
  out: string;
  signKey: string;
  maxAge: string;
  commit?: string;
}

interface CheckOptions {
  key?: string[];
  commit: string;
  checklist?: string;
  checklistSha256?: string;
  maxAge: string;
  target?: string;
}

export function registerFleetEvidenceCommands(evidence: Command, io: CliIo, setExitCode: (code: number) => void): void {
  evidence
    .command('aggregate')
    .description(
      "Verify every target's evidence and write one signed fleet statement (exit 0 pass, 1 fail, 2 refused input, 3 not verified)",
    )
    .argument('<envelopes...>', 'per-target evidence written by secgate verify --target / --all')
    .option('--key <pem>', 'public key whose signatures are accepted (repeatable)', collect)
    .option(
      '-c, --checklist <file>',
      'the checklist (its targets: or inventory:) the fleet is made of',
      'checklist.yaml',
    )
    .requiredOption('-o, --out <file>', 'where to write the signed fleet statement (DSSE JSON)')
    .requiredOption('--sign-key <pem>', 'private key that signs the fleet statement')
    .option('--max-age <duration>', 'evidence older than this is stale (s, m, h or d)', '24h')
    .option('--commit <sha>', 'the commit every target must have verified (default: the one they all name)')
    .action(async (files: string[], options: AggregateOptions) => {
      const maxAgeMs = parseMaxAge(options.maxAge);
      const keys = await publicKeys(io, options.key ?? []);
      let signingKey: KeyObject;
      try {
        signingKey = await loadPrivateKey(path.resolve(io.cwd, options.signKey));
      } catch (error) {
        throw new UsageError(`cannot use signing key ${options.signKey}: ${errorMessageWithCode(error)}`);
      }
      const out = path.resolve(io.cwd, options.out);
      await proveWritable(out).catch((error: unknown) => {
        throw new UsageError(`--out ${options.out} cannot be written (${errorMessageWithCode(error)})`);
      });
      const inventory = await loadFleetInventory(path.resolve(io.cwd, options.checklist));
      const envelopes = [];
      for (const file of files) envelopes.push({ source: file, envelope: await readEnvelope(io, file) });
      const result = aggregateFleet({
        envelopes,
        keys,
        targets: inventory.targets,
        checklistSha256: inventory.sha256,
        ...(inventory.inventory ? { inventory: inventory.inventory } : {}),
        ...(options.commit ? { commit: options.commit } : {}),
        maxAgeMs,
        now: new Date(),
        toolVersion: VERSION,
      });
      if ('refused' in result) {
        // Nothing is written: a fleet statement over evidence that cannot be trusted would launder it.
        io.stderr.write(
          `secgate: evidence aggregate refused its input; nothing was written.\n${result.refused.join('\n')}\n`,
        );
        setExitCode(EXIT.invalidInvocation);
        return;
      }
      const { statement } = result;
      const envelope = signPayload(serializeFleetStatement(statement), signingKey);
      for (const line of formatFleet(statement, chalkFor(io.stdout, io.env))) io.stdout.write(`${line}\n`);
      if (!(await writeOutputFile(out, `${JSON.stringify(envelope, null, 2)}\n`))) {
        io.stderr.write(`could not write the fleet statement to ${options.out}\n`);
        setExitCode(EXIT.couldNotVerify);
        return;
      }
      io.stdout.write(`Fleet statement (signed): ${options.out}\n`);
      setExitCode(statement.predicate.exitCode);
    });

  evidence
    .command('check')
    .description(
      'Admission at deploy time: may this commit go out on this evidence? (exit 0 yes, 1 a control failed, 3 not proven)',
    )
    .argument('<envelope>', "a target's evidence, or a fleet statement (- reads standard input)")
    .option('--key <pem>', 'public key whose signature is accepted (repeatable)', collect)
    .requiredOption('--commit <sha>', 'the commit being deployed (full hex)')
    .option('-c, --checklist <file>', 'the reviewed checklist (its sha256 must be the one verified)')
    .option('--checklist-sha256 <hex>', 'the reviewed checklist, by its sha256')
    .option('--max-age <duration>', 'refuse evidence older than this (s, m, h or d)', '24h')
    .option('--target <name>', 'the fleet target being deployed (required for fleet evidence)')
    .action(async (file: string, options: CheckOptions) => {
      const maxAgeMs = parseMaxAge(options.maxAge);
      if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(options.commit)) {
        throw new UsageError(`--commit takes a full commit id (40 or 64 hex digits), got '${options.commit}'`);
      }
      const checklistSha256 = await reviewedChecklistSha256(io, options);
      const keys = await publicKeys(io, options.key ?? []);
      const envelope = await readEnvelope(io, file);
      const decision = judgeAdmission(envelope, keys, {
        commit: options.commit,
        checklistSha256,
        maxAgeMs,
        ...(options.target ? { target: options.target } : {}),
        now: new Date(),
      });
      const chalk = chalkFor(io.stdout, io.env);
      if (decision.exitCode === 0) {
        io.stdout.write(
          `${chalk.green.bold('ADMITTED')} ${options.target ? `target ${options.target}, ` : ''}commit ${options.commit.slice(0, 12)}: signed by key ${decision.keyid}, verdict pass, younger than ${formatAge(maxAgeMs)}\n`,
        );
      } else {
        io.stdout.write(
          `${chalk.red.bold('REFUSED')} ${file}:\n${decision.reasons.map((reason) => `  - ${reason}`).join('\n')}\n`,
        );
      }
      setExitCode(decision.exitCode);
    });
}

async function reviewedChecklistSha256(io: CliIo, options: CheckOptions): Promise<string> {
  if (options.checklist && options.checklistSha256)
    throw new UsageError('give --checklist or --checklist-sha256, not both');
  if (options.checklistSha256) {
    if (!/^[0-9a-f]{64}$/.test(options.checklistSha256)) throw new UsageError('--checklist-sha256 takes 64 hex digits');
    return options.checklistSha256;
  }
  if (!options.checklist)
    throw new UsageError('--checklist <file> or --checklist-sha256 <hex> is required: the reviewed checklist');
  try {
    return createHash('sha256')
      .update(await readInput(io, options.checklist))
      .digest('hex');
  } catch (error) {
    throw new UsageError(`cannot read the checklist ${options.checklist}: ${errorMessageWithCode(error)}`);
  }
}
