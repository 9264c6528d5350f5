/**
 * Files the checklist names, read and checked when it loads: a trust anchor
 * that is not PEM, or a findings baseline that is not JSON, is a checklist
 * error (exit 2, at the key that names it) rather than an error met mid-run.
 * Problems never quote the file's content: a checklist may name any file
 * (`baseline: ../../../../etc/passwd`), and its bytes must not reach a report.
 */
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { baselineSchema } from '../../secrets/baseline.js';
import type { ChecklistProblem } from './errors.js';
import type { LoadedChecklist } from './load.js';
import { readAtMost } from './read-bounded.js';

/** A trust anchor or baseline larger than this is not what the key meant to name. */
const MAX_NAMED_FILE_BYTES = 4 * 1024 * 1024;

type NamedFile = Pick<LoadedChecklist, 'checklist' | 'entries' | 'baseDir' | 'locate'>;

export async function namedFileProblems(loaded: NamedFile): Promise<ChecklistProblem[]> {
  const problems: ChecklistProblem[] = [];
  const caFile = loaded.checklist.target.ca_file;
  if (caFile !== undefined) {
    const problem = await readNamedFile(loaded.baseDir, caFile).then(
      (bytes) => pemCertificateProblem(bytes),
      (error: unknown) => readProblem(error),
    );
    if (problem) {
      problems.push({
        ...loaded.locate(['target', 'ca_file']),
        keyPath: 'target.ca_file',
        message: `${caFile}: ${problem}`,
      });
    }
  }
  for (const [index, entry] of loaded.checklist.checks.entries()) {
    // Every check's `baseline:` names a JSON findings baseline (repo.committed-secrets, repo.history).
    const baseline = entry.with?.baseline;
    if (typeof baseline !== 'string') continue;
    const problem = await readNamedFile(loaded.baseDir, baseline).then(
      (bytes) => baselineProblem(bytes),
      (error: unknown) => readProblem(error),
    );
    if (problem) {
      problems.push({
        ...loaded.locate(['checks', index, 'with', 'baseline']),
        keyPath: `checks[${index}].with.baseline`,
        message: `${baseline}: ${problem}`,
      });
    }
  }
  return problems;
}

async function readNamedFile(baseDir: string, file: string): Promise<Buffer> {
  const bytes = await readAtMost(path.resolve(baseDir, file), MAX_NAMED_FILE_BYTES + 1);
  if (bytes.length > MAX_NAMED_FILE_BYTES)
    throw new NamedFileError(`larger than ${MAX_NAMED_FILE_BYTES / 1024 / 1024} MiB`);
  return bytes;
}

class NamedFileError extends Error {}

function readProblem(error: unknown): string {
  if (error instanceof NamedFileError) return error.message;
  const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
  return `cannot be read (${code})`;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g;

/** A trust anchor is one or more PEM certificates, each of which parses. */
export function pemCertificateProblem(bytes: Buffer): string | undefined {
  const blocks = bytes.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    return 'expected PEM certificates (-----BEGIN CERTIFICATE-----), found none';
  }
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return `certificate ${index + 1} of ${blocks.length} is not a valid X.509 certificate`;
    }
  }
  return undefined;
}

/** A findings baseline is JSON of the documented shape; neither failure quotes a byte of the file. */
export function baselineProblem(bytes: Buffer): string | undefined {
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch {
    return 'expected a JSON baseline ([{ "fingerprint": …, "reason": … }]); the file is not JSON';
  }
  const parsed = baselineSchema.safeParse(data);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  return `not a findings baseline${where}: expected a list of { fingerprint, reason } (or { findings: [...] })`;
}
