/**
 * `secgate evidence render evidence.json [--key pub.pem] [--out report.html]`:
 * one self-contained HTML page from a DSSE evidence envelope, with the
 * signature checked when a public key is given. The page is written even when
 * the signature is invalid (it says so at the top), and the exit code tells
 * CI: 0 rendered, 1 the signature does not verify (or the signed predicate
 * contradicts itself), 2 the input is unusable.
 */

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { errorMessage } from '../engine/errors.js';
import { decodeStatement, isEnvelope } from '../evidence/dsse.js';
import { loadPublicKey } from '../evidence/keys.js';
import type { DsseEnvelope, EvidenceStatement } from '../evidence/types.js';
import { verifyEvidence } from '../evidence/verify.js';
import { renderHtml } from '../report/html.js';
import type { SignatureInfo } from '../report/input.js';
import { checkPredicate } from '../report/predicate-shape.js';
import { type CliIo, readInput, STDIO, UsageError } from './io.js';
import { makeParentDirectories } from './output-file.js';

export interface EvidenceRenderDeps {
  io: CliIo;
  setExitCode: (code: number) => void;
}

export interface RenderedEvidence {
  html: string;
  signature: SignatureInfo;
}

/**
 * Reads (a file, or standard input for `-`), verifies (when a key is given) and
 * renders; throws UsageError for input that cannot be rendered.
 */
export async function renderEvidenceFile(
  io: CliIo,
  envelopeFile: string,
  keyFile: string | undefined,
): Promise<RenderedEvidence> {
  let text: string;
  try {
    text = (await readInput(io, envelopeFile)).toString('utf8');
  } catch (error) {
    throw new UsageError(`cannot read evidence ${envelopeFile}: ${errorMessage(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's message quotes the input; whatever was handed in is not echoed.
    throw new UsageError(`cannot read evidence ${envelopeFile}: not JSON (expected a DSSE envelope)`);
  }
  if (!isEnvelope(parsed)) {
    throw new UsageError(
      `${envelopeFile} is not a DSSE envelope (expected payloadType, payload and signatures): write it with secgate verify --out`,
    );
  }
  const envelope: DsseEnvelope = parsed;
  let signature: SignatureInfo;
  let statement: EvidenceStatement | undefined;
  if (keyFile) {
    let publicKey: Awaited<ReturnType<typeof loadPublicKey>>;
    try {
      publicKey = await loadPublicKey(path.resolve(io.cwd, keyFile));
    } catch (error) {
      throw new UsageError(`cannot use public key ${keyFile}: ${errorMessage(error)}`);
    }
    const verification = verifyEvidence(envelope, publicKey);
    signature = verification.valid
      ? { status: 'valid', keyid: verification.keyid }
      : {
          status: 'invalid',
          keyid: verification.keyid,
          reason: verification.reason ?? 'the signature does not verify',
        };
    // An invalid envelope is still shown (clearly labelled) so the reader sees what was claimed.
    statement = verification.statement ?? decodeStatement(envelope);
  } else {
    const first = envelope.signatures[0];
    signature = first ? { status: 'unverified', keyid: first.keyid } : { status: 'unsigned' };
    statement = decodeStatement(envelope);
  }
  if (!statement) throw new UsageError(`${envelopeFile}: the payload is not an in-toto Statement v1`);
  const checked = checkPredicate(statement.predicate);
  if (!checked.ok) throw new UsageError(`${envelopeFile}: ${checked.problem}`);
  return { html: renderHtml({ predicate: checked.predicate, envelope, signature }), signature };
}

const SIGNATURE_LINES: Record<SignatureInfo['status'], string> = {
  valid: 'signature valid',
  invalid: 'signature INVALID',
  unsigned: 'UNSIGNED evidence',
  unverified: 'signature not checked (pass --key <public.pem> to check it)',
};

export function registerEvidenceRenderCommand(program: Command, deps: EvidenceRenderDeps): Command {
  // `secgate evidence` is the lead's command group (evidence verify); render joins it, or creates it when alone.
  const group =
    program.commands.find((command) => command.name() === 'evidence') ??
    program.command('evidence').description('Work with evidence envelopes');
  return group
    .command('render')
    .description('Render an evidence envelope as one self-contained HTML page for reviewers and auditors')
    .argument('<envelope>', 'evidence JSON written by secgate verify --out (- reads standard input)')
    .option('--key <pem>', 'public key of the signer; without it the page says the signature was not checked')
    .option(
      '-o, --out <file>',
      'where to write the page (default: the envelope name with .html; - or an envelope from stdin: standard output)',
    )
    .action(async (file: string, options: { key?: string; out?: string }) => {
      const { io } = deps;
      if (options.key === STDIO) throw new UsageError('--key must be a file: standard input (-) is for the envelope');
      const rendered = await renderEvidenceFile(io, file, options.key);
      const out = options.out ?? (file === STDIO ? STDIO : `${file.replace(/\.json$/i, '')}.html`);
      // With the page on stdout, what people read goes to stderr, so the page stays whole.
      const human = out === STDIO ? io.stderr : io.stdout;
      if (out === STDIO) io.stdout.write(rendered.html);
      else await writeOutput(io, path.resolve(io.cwd, out), rendered.html);
      human.write(
        `Evidence page: ${out === STDIO ? 'standard output' : out} (${SIGNATURE_LINES[rendered.signature.status]})\n`,
      );
      if (rendered.signature.status === 'invalid') {
        // The reason says which: a signature that does not verify, or signed evidence that contradicts itself.
        io.stderr.write(`secgate: ${file} does not verify: ${rendered.signature.reason ?? ''}\n`);
        deps.setExitCode(1);
        return;
      }
      deps.setExitCode(0);
    });
}

async function writeOutput(io: CliIo, file: string, content: string): Promise<void> {
  try {
    await makeParentDirectories(file);
    await writeFile(file, content);
  } catch (error) {
    throw new UsageError(`cannot write ${path.relative(io.cwd, file) || file}: ${errorMessage(error)}`);
  }
}
