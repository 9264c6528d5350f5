/**
 * `secgate verify`: load and validate the checklist (nothing is probed if it is
 * invalid), run the checks, sign the evidence, report, and exit 0/1/2/3.
 */
import type { KeyObject } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { constants } from 'node:fs';
import { access, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Chalk } from 'chalk';
import type { Command } from 'commander';
import { execa } from 'execa';
import { z } from 'zod';
import { allChecks } from '../../checks/index.js';
import {
  BASELINE_CHECK_ID,
  BASELINE_CHECK_SOURCE,
  BASELINE_CHECK_TITLE,
  BASELINE_REMEDIATION,
  BaselineError,
  baselineOutcome,
  compareChecklists,
  parseComparableChecklist,
  readChecklistAtRef,
} from '../baseline/index.js';
import {
  type LoadedChecklist,
  loadChecklist,
  type PlannedEntry,
  secretLookingValues,
} from '../engine/checklist/load.js';
import { closestMatches } from '../engine/checklist/suggest.js';
import { openCheckContext } from '../engine/context.js';
import { type CheckResult, DESELECTED_SUMMARY, runChecks } from '../engine/run.js';
import { createSecretRedactor } from '../engine/secrets.js';
import { type CheckDefinition, type CheckOutcome, defineCheck } from '../engine/types.js';
import { signPayload, unsignedEnvelope } from '../evidence/dsse.js';
import { loadPrivateKey } from '../evidence/keys.js';
import { buildStatement, redactDeep, serializeStatement } from '../evidence/statement.js';
import type { DsseEnvelope, EvidenceStatement } from '../evidence/types.js';
import { parseReportSpec, type ReportSpec, ReportSpecError, reporters } from '../report/index.js';
import { formatDetails, formatVerdict } from '../report/text.js';
import { type CliIo, EXIT, UsageError } from './io.js';
import { VERSION } from './package-info.js';
import { createProgressDisplay } from './progress.js';

export interface VerifyOptions {
  checklist: string;
  only?: string[];
  skip?: string[];
  signKey?: string;
  out?: string;
  requireSignature?: boolean;
  json?: boolean;
  concurrency?: number;
  /** `format:path` report specs, e.g. `junit:secgate.xml`; `-` is stdout. */
  report?: string[];
  /** Compare checklist.yaml with the one on this git ref and fail if the gate was weakened. */
  baselineRef?: string;
  /** Let a run with --only / --skip pass (recorded in the evidence); without it a partial run exits 3. */
  allowPartial?: boolean;
  /** Check registry; the CLI passes every check, tests may pass their own. */
  registry?: readonly CheckDefinition[];
  /** Cancels the run (the CLI wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
}

export interface VerifyOutcome {
  exitCode: 0 | 1 | 2 | 3;
  envelope?: DsseEnvelope;
  statement?: EvidenceStatement;
}

export async function runVerify(options: VerifyOptions, io: CliIo): Promise<VerifyOutcome> {
  const registry = options.registry ?? allChecks;
  const color = new Chalk({ level: io.stderr.isTTY && !io.env.NO_COLOR && io.env.CI !== 'true' ? 1 : 0 });
  // With --json, stdout carries only the evidence; everything for people goes to stderr.
  const human = options.json ? io.stderr : io.stdout;
  const say = (line = '') => human.write(`${line}\n`);

  // 1. Everything that can be wrong with the invocation is found before anything is probed.
  if (options.requireSignature && !options.signKey) {
    throw new UsageError('--require-signature needs --sign-key <private-key.pem> (see secgate keygen)');
  }
  let signingKey: KeyObject | undefined;
  if (options.signKey) {
    try {
      signingKey = await loadPrivateKey(path.resolve(io.cwd, options.signKey));
    } catch (error) {
      throw new UsageError(`cannot use signing key ${options.signKey}: ${describeError(error)}`);
    }
  }
  const reportSpecs = parseReportSpecs(options.report ?? [], options.json === true);
  const loaded = await loadChecklist(path.resolve(io.cwd, options.checklist), { env: io.env, registry });
  validateSelection(loaded, options.only ?? [], '--only');
  validateSelection(loaded, options.skip ?? [], '--skip');
  // An unwritable output is found now, before anything is probed, not after a run whose evidence is lost.
  if (options.out) await ensureWritable(path.resolve(io.cwd, options.out), '--out');
  for (const spec of reportSpecs) {
    if (spec.path !== '-') await ensureWritable(path.resolve(io.cwd, spec.path), `--report ${spec.format}`);
  }
  const baseline = options.baselineRef
    ? await compareWithBaseline(loaded, options.baselineRef, registry, displayPath(io.cwd, loaded.file))
    : undefined;
  const entries = baseline ? [...loaded.entries, baseline.entry] : loaded.entries;

  // What the checklist interpolated, and every secret-looking variable a check could read through ctx.env.
  const secrets = createSecretRedactor([...loaded.secretValues, ...secretLookingValues(io.env)]);
  const { checklist } = loaded;
  const baseDir = path.dirname(loaded.file);
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  // Every check links its own signal to this one.
  setMaxListeners(0, signal);
  let opened: Awaited<ReturnType<typeof openCheckContext>>;
  try {
    opened = await openCheckContext({
      target: checklist.target,
      repoDir: checklist.repo,
      baseDir,
      databaseUrl: checklist.database?.url,
      auth: checklist.auth,
      env: io.env,
      signal,
      secrets,
    });
  } catch (error) {
    throw new UsageError(`cannot prepare the run: ${secrets.redact(describeError(error))}`);
  }

  // 2. Probe.
  if (!signingKey) {
    io.stderr.write(
      `${color.yellow.bold('WARNING: no --sign-key given: the evidence will be UNSIGNED and proves nothing to a reviewer.')}\n`,
    );
  }
  const progress = createProgressDisplay(human, {
    live: Boolean(human.isTTY) && io.env.CI !== 'true',
    chalk: color,
    idWidth: Math.max(20, ...loaded.entries.map((entry) => entry.id.length)) + 1,
    redact: (text) => secrets.redact(text),
  });
  const startedAt = new Date();
  let results: CheckResult[];
  try {
    results = await runChecks({
      entries,
      context: opened.context,
      signal,
      concurrency: options.concurrency ?? checklist.settings.concurrency,
      waivers: checklist.waivers,
      only: options.only ?? [],
      skip: options.skip ?? [],
      onEvent: (event) => progress.onEvent(event),
    });
  } finally {
    progress.stop();
    await opened.close();
  }
  const finishedAt = new Date();
  const deselected = results.filter((result) => result.outcome.summary === DESELECTED_SUMMARY).map((r) => r.entry.id);

  // 3. Evidence: built, scrubbed of every known secret, signed.
  const commit = await gitCommit(opened.context.repoDir);
  const statement = redactDeep(
    buildStatement({
      toolVersion: VERSION,
      loaded,
      checklistDisplayPath: displayPath(io.cwd, loaded.file),
      results,
      startedAt,
      finishedAt,
      commit: commit?.sha,
      repoDisplayPath: displayPath(io.cwd, opened.context.repoDir),
      interrupted: signal.aborted,
      ...(baseline?.sha256 ? { baselineSha256: baseline.sha256 } : {}),
      ...(deselected.length > 0 ? { partial: { deselected, allowed: options.allowPartial === true } } : {}),
    }),
    secrets,
  );
  if (commit?.dirty && statement.subject[0]?.digest.gitCommit) {
    statement.subject[0].annotations = { uncommittedChanges: true };
  }
  if (!commit) {
    // DESIGN: the commit verified is a subject. Say loudly when the evidence cannot name one.
    io.stderr.write(
      `${color.yellow.bold(`WARNING: ${statement.predicate.target.repo} is not a readable git checkout: the evidence names no commit.`)}\n`,
    );
    statement.predicate.target.commit = null;
  }
  const payload = serializeStatement(statement);
  const envelope = signingKey ? signPayload(payload, signingKey) : unsignedEnvelope(payload);
  let exitCode = statement.predicate.exitCode;

  // 4. Report. A report file that cannot be written never changes the exit code; the evidence can (below).
  for (const line of formatDetails(statement.predicate.checks, color)) say(line);
  say();
  if (deselected.length > 0) {
    say(
      options.allowPartial
        ? color.yellow(`Partial run (--allow-partial): ${deselected.length} check(s) not run: ${deselected.join(', ')}`)
        : color.magenta(
            `Partial run: ${deselected.length} check(s) left out by --only/--skip, so the gate cannot pass (exit 3); --allow-partial accepts that for local iteration.`,
          ),
    );
  }
  say(formatVerdict(statement.predicate, color));
  if (options.out) {
    const written = await writeReportFile(path.resolve(io.cwd, options.out), `${JSON.stringify(envelope, null, 2)}\n`);
    if (written) say(`Evidence (${signingKey ? 'signed' : 'UNSIGNED'}): ${options.out}`);
    else {
      // Asked-for evidence that does not exist proves nothing: a passing run cannot exit 0 without it.
      io.stderr.write(color.red(`could not write the evidence to ${options.out}\n`));
      if (exitCode === 0) exitCode = 3;
    }
  }
  const signature = signingKey
    ? { status: 'valid' as const, keyid: envelope.signatures[0]?.keyid ?? '' }
    : { status: 'unsigned' as const };
  for (const spec of reportSpecs) {
    let text: string;
    try {
      text = reporters[spec.format]({ predicate: statement.predicate, envelope, signature });
    } catch (error) {
      // A broken reporter loses one report, never the verdict or the evidence.
      io.stderr.write(
        color.red(`could not render the ${spec.format} report: ${secrets.redact(describeError(error))}\n`),
      );
      continue;
    }
    if (spec.path === '-') io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    else if (await writeReportFile(path.resolve(io.cwd, spec.path), text)) say(`Report (${spec.format}): ${spec.path}`);
    else io.stderr.write(color.red(`could not write the ${spec.format} report to ${spec.path}\n`));
  }
  // In GitHub Actions, failures also become annotations on the pull request's diff (on stderr with
  // --json, which keeps stdout for the evidence alone; GitHub reads workflow commands from both).
  if (io.env.GITHUB_ACTIONS === 'true' && !reportSpecs.some((spec) => spec.format === 'github')) {
    human.write(reporters.github({ predicate: statement.predicate, envelope, signature }));
  }
  if (options.json) io.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`);
  return { exitCode, envelope, statement };
}

function parseReportSpecs(specs: string[], json: boolean): ReportSpec[] {
  try {
    const parsed = specs.map(parseReportSpec);
    const toStdout = parsed.filter((spec) => spec.path === '-').length + (json ? 1 : 0);
    if (toStdout > 1) throw new UsageError('only one of --json and --report format:- may write to stdout');
    return parsed;
  } catch (error) {
    if (error instanceof ReportSpecError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * The weakening guard runs before anything is probed (an unreadable base ref is
 * an invalid invocation) and is recorded as the check `secgate.baseline`, so
 * a waiver with a reason and an expiry can accept a deliberate weakening.
 */
async function compareWithBaseline(
  loaded: LoadedChecklist,
  ref: string,
  registry: readonly CheckDefinition[],
  checklistPath: string,
): Promise<{ entry: PlannedEntry; sha256: string | undefined }> {
  let outcome: CheckOutcome;
  let sha256: string | undefined;
  try {
    const base = await readChecklistAtRef(
      path.resolve(path.dirname(loaded.file), loaded.checklist.repo),
      ref,
      loaded.file,
    );
    if (!base) {
      // Renaming or moving the checklist must not slip past the guard: its absence is itself a finding.
      outcome = {
        status: 'fail',
        summary: `${checklistPath} does not exist at ${ref}, so nothing shows this gate is as strict as the base branch's; if the checklist is new or moved, accept that with a waiver on secgate.baseline`,
        observations: [
          {
            probe: `git show ${ref}:${checklistPath}`,
            expected: 'the base checklist',
            actual: 'no such file',
            ok: false,
          },
        ],
      };
    } else {
      sha256 = base.sha256;
      // The checks as loaded (their defaults applied), the scope as written (no `${VAR}` interpolated).
      const headAsWritten = parseComparableChecklist(loaded.text, checklistPath);
      const comparison = compareChecklists(
        parseComparableChecklist(base.text, `${checklistPath} at ${ref}`),
        { ...loaded.checklist, scope: headAsWritten.scope },
        { registry },
      );
      outcome = baselineOutcome({ comparison, ref, checklistPath, baseSha256: base.sha256, headSha256: loaded.sha256 });
    }
  } catch (error) {
    if (error instanceof BaselineError) throw new UsageError(error.message);
    throw error;
  }
  const check = defineCheck({
    id: BASELINE_CHECK_ID,
    title: BASELINE_CHECK_TITLE,
    source: BASELINE_CHECK_SOURCE,
    remediation: BASELINE_REMEDIATION,
    effects: 'none',
    params: z.object({}).strict(),
    run: async () => outcome,
  });
  return { entry: { id: BASELINE_CHECK_ID, check, params: {}, timeoutMs: 60_000, alwaysRun: true }, sha256 };
}

function validateSelection(loaded: LoadedChecklist, ids: string[], flag: string): void {
  const known = [...new Set(loaded.entries.flatMap((entry) => [entry.id, entry.check.id]))];
  for (const id of ids) {
    if (known.includes(id)) continue;
    const suggestions = closestMatches(id, known);
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(' or ')}?` : '';
    throw new UsageError(`${flag} names '${id}', which is not a check in ${path.basename(loaded.file)}${hint}`);
  }
}

async function gitCommit(repoDir: string): Promise<{ sha: string; dirty: boolean } | undefined> {
  try {
    const sha = (await execa('git', ['-C', repoDir, 'rev-parse', 'HEAD'])).stdout.trim();
    // Untracked files count: the repository checks scan the work tree, not only the commit.
    const status = (await execa('git', ['-C', repoDir, 'status', '--porcelain'])).stdout;
    return { sha, dirty: status.trim().length > 0 };
  } catch {
    return undefined;
  }
}

/** Creates the output's directory and proves the file can be written, without creating the file. */
async function ensureWritable(file: string, flag: string): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    const existing = await stat(file).catch(() => undefined);
    if (existing?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    await access(existing ? file : path.dirname(file), constants.W_OK);
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : describeError(error);
    throw new UsageError(`${flag} ${file} cannot be written (${reason}); nothing was probed`);
  }
}

export async function writeReportFile(file: string, content: string): Promise<boolean> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    return true;
  } catch {
    return false;
  }
}

function displayPath(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return relative === '' ? '.' : relative.startsWith('..') ? file : relative;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? ` (${error.code})` : '';
    return `${error.message}${code}`;
  }
  return String(error);
}

const splitList = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
];

export function registerVerifyCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('verify')
    .description('Probe the deployment and repository named in the checklist, then write signed evidence')
    .option('-c, --checklist <file>', 'checklist to run', 'checklist.yaml')
    .option('--only <ids>', 'run only these checks (comma-separated, repeatable)', splitList)
    .option('--skip <ids>', 'do not run these checks (comma-separated, repeatable)', splitList)
    .option('--sign-key <pem>', 'private key (Ed25519 or ECDSA P-256) that signs the evidence')
    .option('--require-signature', 'refuse to run without --sign-key (exit 2)')
    .option('-o, --out <file>', 'write the evidence envelope (DSSE JSON) to this file')
    .option('--json', 'print the evidence envelope on stdout (human output goes to stderr)')
    .option(
      '--report <format:path>',
      'also write a report: junit, sarif, markdown, html or github (repeatable; path - is stdout)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--allow-partial', 'let a run with --only/--skip pass (recorded in the evidence); otherwise it exits 3')
    .option('--baseline-ref <ref>', 'fail if the checklist is weaker than on this git ref (e.g. origin/main)')
    .option('--concurrency <n>', 'checks without side effects run this many at a time', (value) => {
      const parsed = Number.parseInt(value, 10);
      if (!Number.isInteger(parsed) || parsed < 1 || parsed > 64) throw new UsageError('--concurrency takes 1..64');
      return parsed;
    })
    .action(async (options: VerifyOptions) => {
      const controller = new AbortController();
      let interrupts = 0;
      const onSignal = (signalName: NodeJS.Signals) => {
        interrupts += 1;
        if (interrupts > 1) process.exit(EXIT.couldNotVerify);
        io.stderr.write(`\n${signalName}: stopping the checks that are running; press again to exit at once\n`);
        controller.abort(new Error(signalName));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const outcome = await runVerify({ ...options, signal: controller.signal }, io);
        setExitCode(outcome.exitCode);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
