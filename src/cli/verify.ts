/**
 * `secgate verify`: load and validate the checklist (nothing is probed if it is
 * invalid), run the checks, sign the evidence, report, and exit 0/1/2/3.
 */
import type { KeyObject } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChalkInstance } from 'chalk';
import { z } from 'zod';
import { loadBuiltInChecks } from '../../checks/lazy.js';
import { auditMappingProblems } from '../engine/audit-mapping.js';
import { fleetSourceAddresses } from '../engine/checklist/fleet.js';
import {
  checklistFromBytes,
  type LoadedChecklist,
  loadChecklist,
  MAX_CHECKLIST_BYTES,
  type NamedChecks,
  type PlannedEntry,
  secretLookingValues,
} from '../engine/checklist/load.js';
import { closestMatches } from '../engine/checklist/suggest.js';
import { openCheckContext } from '../engine/context.js';
import { errorMessageWithCode } from '../engine/errors.js';
import { type CheckResult, DESELECTED_SUMMARY, runChecks } from '../engine/run.js';
import { createSecretRedactor } from '../engine/secrets.js';
import { type CheckDefinition, type CheckOutcome, defineCheck, type SecretRedactor } from '../engine/types.js';
import { signPayload, unsignedEnvelope } from '../evidence/dsse.js';
import { loadPrivateKey } from '../evidence/keys.js';
import { buildStatement, redactDeep, serializeStatement } from '../evidence/statement.js';
import type { DsseEnvelope, EvidencePredicate, EvidenceStatement } from '../evidence/types.js';
import {
  addedBaselineEntries,
  BASELINE_CHECK_ID,
  BASELINE_CHECK_SOURCE,
  BASELINE_CHECK_TITLE,
  BASELINE_FILE_CHECKS,
  BASELINE_REMEDIATION,
  BaselineError,
  baselineOutcome,
  type ChecklistChange,
  type ComparableChecklist,
  compareChecklists,
  parseComparableChecklist,
  readBaselineFileVersions,
  readChecklistAtRef,
} from '../guard/index.js';
import { parseReportSpec, type ReportInput, type ReportSpec, ReportSpecError, reporters } from '../report/index.js';
import { formatDetails, formatVerdict } from '../report/text.js';
import { type CliIo, chalkFor, type OutputStream, readInput, STDIO, UsageError } from './io.js';
import { proveWritable, writeOutputFile } from './output-file.js';
import { VERSION } from './package-info.js';
import { createProgressDisplay } from './progress.js';
import { checklistRepositoryPath, checklistSubjectName, identifyRepository, STDIN_CHECKLIST } from './repository.js';

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
  /** The SARIF report's code-scanning category (automationDetails.id); default: checklist + target host. */
  sarifCategory?: string;
  /** Let a run with --only / --skip pass (recorded in the evidence); without it a partial run exits 3. */
  allowPartial?: boolean;
  /** Check registry; the CLI passes every check, tests may pass their own. */
  registry?: readonly CheckDefinition[];
  /** Cancels the run (the CLI wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
  /** For a checklist that declares targets: the one to verify. */
  target?: string;
}

export interface VerifyOutcome {
  exitCode: 0 | 1 | 2 | 3;
  envelope?: DsseEnvelope;
  statement?: EvidenceStatement;
}

/** Every built-in check: for the weakening guard, whose base checklist may name checks the head does not. */
const everyCheck = async () => (await import('../../checks/index.js')).allChecks;

/**
 * The checks a checklist names, imported alone (with the clients they use), so a TLS-only gate does not load
 * the database client; every check when an entry names a plugin (its id must not be a built-in's) or an id
 * that is not a built-in (the error suggests the closest ones).
 */
async function registryFor(named: NamedChecks): Promise<readonly CheckDefinition[]> {
  return (!named.needsEveryCheck && (await loadBuiltInChecks(named.ids))) || everyCheck();
}

export async function runVerify(options: VerifyOptions, io: CliIo): Promise<VerifyOutcome> {
  const registry = options.registry ?? (options.baselineRef ? await everyCheck() : registryFor);
  const reportSpecs = parseReportSpecs(options.report ?? [], options.json === true);
  const streams = outputStreams(io, options.json === true || reportSpecs.some((spec) => spec.path === STDIO));
  const prepared = await prepareRun(options, io, registry, reportSpecs);
  const run = await probe(prepared, options, io, streams);
  const evidence = await buildEvidence(prepared, run, options, io, streams);
  const exitCode = await report(prepared, evidence, options, io, streams);
  return { exitCode, envelope: evidence.envelope, statement: evidence.statement };
}

/**
 * Where people read: stdout, unless stdout carries the evidence (`--json`) or
 * a report (`format:-`), which must stay parseable. Colour is decided per
 * stream, so a redirected stdout never gets escape sequences.
 */
interface Streams {
  human: OutputStream;
  humanColor: ChalkInstance;
  /** Warnings and errors: stderr, coloured by stderr's own terminal. */
  warnColor: ChalkInstance;
  say(line?: string): void;
  warn(line: string): void;
}

function outputStreams(io: CliIo, stdoutTaken: boolean): Streams {
  const human = stdoutTaken ? io.stderr : io.stdout;
  return {
    human,
    humanColor: chalkFor(human, io.env),
    warnColor: chalkFor(io.stderr, io.env),
    say: (line = '') => human.write(`${line}\n`),
    warn: (line) => io.stderr.write(`${line}\n`),
  };
}

interface PreparedRun {
  loaded: LoadedChecklist;
  /** The checklist as people name it: relative to the working directory, or `-`. */
  checklistDisplay: string;
  signingKey: KeyObject | undefined;
  reportSpecs: ReportSpec[];
  entries: PlannedEntry[];
  baselineSha256: string | undefined;
  secrets: SecretRedactor;
}

/** 1. Everything that can be wrong with the invocation is found before anything is probed. */
/** A registry, or how to get one for the checks a checklist names (see registryFor). */
type Registry = readonly CheckDefinition[] | ((named: NamedChecks) => Promise<readonly CheckDefinition[]>);

async function prepareRun(
  options: VerifyOptions,
  io: CliIo,
  registry: Registry,
  reportSpecs: ReportSpec[],
): Promise<PreparedRun> {
  if (options.requireSignature && !options.signKey) {
    throw new UsageError('--require-signature needs --sign-key <private-key.pem> (see secgate keygen)');
  }
  if (options.checklist === STDIO && options.baselineRef) {
    throw new UsageError('--baseline-ref needs the checklist as a file in the repository, not -c - (standard input)');
  }
  let signingKey: KeyObject | undefined;
  if (options.signKey) {
    try {
      signingKey = await loadPrivateKey(path.resolve(io.cwd, options.signKey));
    } catch (error) {
      throw new UsageError(`cannot use signing key ${options.signKey}: ${errorMessageWithCode(error)}`);
    }
  }
  const loaded = await readChecklist(options.checklist, io, registry, options.target);
  requireFleetSelection(loaded, options.target);
  const checklistDisplay = options.checklist === STDIO ? STDIO : displayPath(io.cwd, loaded.file);
  validateSelection(loaded, options.only ?? [], '--only');
  validateSelection(loaded, options.skip ?? [], '--skip');
  // An unwritable output is found now, before anything is probed, not after a run whose evidence is lost.
  if (options.out) await ensureWritable(path.resolve(io.cwd, options.out), '--out');
  for (const spec of reportSpecs) {
    if (spec.path !== STDIO) await ensureWritable(path.resolve(io.cwd, spec.path), `--report ${spec.format}`);
  }
  const baseline = options.baselineRef
    ? await compareWithBaseline(
        loaded,
        options.baselineRef,
        typeof registry === 'function' ? await everyCheck() : registry,
        checklistDisplay,
      )
    : undefined;
  return {
    loaded,
    checklistDisplay,
    signingKey,
    reportSpecs,
    entries: baseline ? [...loaded.entries, baseline.entry] : loaded.entries,
    baselineSha256: baseline?.sha256,
    // What the checklist interpolated, and every secret-looking variable a check could read through ctx.env.
    secrets: createSecretRedactor([...loaded.secretValues, ...secretLookingValues(io.env)]),
  };
}

/** The checklist from its file, or from standard input for `-c -` (relative paths then resolve from here). */
async function readChecklist(
  checklist: string,
  io: CliIo,
  registry: Registry,
  target?: string,
): Promise<LoadedChecklist> {
  const loadOptions = {
    env: io.env,
    ...(typeof registry === 'function' ? { registry: [], resolveRegistry: registry } : { registry }),
    ...(target !== undefined ? { target } : {}),
  };
  if (checklist !== STDIO) return loadChecklist(path.resolve(io.cwd, checklist), loadOptions);
  let bytes: Buffer;
  try {
    bytes = await readInput(io, STDIO, MAX_CHECKLIST_BYTES + 1);
  } catch (error) {
    throw new UsageError(`cannot read the checklist from standard input: ${errorMessageWithCode(error)}`);
  }
  return checklistFromBytes(bytes, STDIN_CHECKLIST, { ...loadOptions, baseDir: io.cwd });
}

interface ProbeResult {
  results: CheckResult[];
  startedAt: Date;
  finishedAt: Date;
  repoDir: string;
  interrupted: boolean;
  deselected: string[];
}

/** 2. Probe: every selected check, effectful ones last, then every socket and pool closed. */
async function probe(prepared: PreparedRun, options: VerifyOptions, io: CliIo, streams: Streams): Promise<ProbeResult> {
  const { loaded, secrets } = prepared;
  const { checklist } = loaded;
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  // Every check links its own signal to this one.
  setMaxListeners(0, signal);
  let opened: Awaited<ReturnType<typeof openCheckContext>>;
  try {
    opened = await openCheckContext({
      target: fleetTargetConfig(loaded),
      repoDir: checklist.repo,
      baseDir: loaded.baseDir,
      databaseUrl: checklist.database?.url,
      auth: checklist.auth,
      env: { ...io.env, ...loaded.fleet?.variables },
      signal,
      secrets,
    });
  } catch (error) {
    throw new UsageError(`cannot prepare the run: ${secrets.redact(errorMessageWithCode(error))}`);
  }
  await refuseWrongAuditMapping(prepared, opened);
  if (!prepared.signingKey) {
    streams.warn(
      streams.warnColor.yellow.bold(
        'WARNING: no --sign-key given: the evidence will be UNSIGNED and proves nothing to a reviewer.',
      ),
    );
  }
  const progress = createProgressDisplay(streams.human, {
    live: Boolean(streams.human.isTTY) && io.env.CI !== 'true' && io.env.TERM !== 'dumb',
    chalk: streams.humanColor,
    idWidth: Math.max(20, ...loaded.entries.map((entry) => entry.id.length)) + 1,
    redact: (text) => secrets.redact(text),
  });
  const startedAt = new Date();
  let results: CheckResult[];
  try {
    results = await runChecks({
      entries: prepared.entries,
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
  return {
    results,
    startedAt,
    finishedAt: new Date(),
    repoDir: opened.context.repoDir,
    interrupted: signal.aborted,
    deselected: results.filter((result) => result.outcome.summary === DESELECTED_SUMMARY).map((r) => r.entry.id),
  };
}

/**
 * The audit tables' mapping against the database's catalogue, before anything
 * is probed: a mapped column the table lacks is exit 2 naming the key, not an
 * `error` in every auth check. Only when a selected check reads the database.
 */
async function refuseWrongAuditMapping(
  prepared: PreparedRun,
  opened: Awaited<ReturnType<typeof openCheckContext>>,
): Promise<void> {
  const { context } = opened;
  const readsAudit = prepared.entries.some(
    (entry) => entry.check.id.startsWith('auth.') && (entry.check.requires?.(entry.params) ?? []).includes('database'),
  );
  if (!readsAudit || !context.db || !context.auth) return;
  const problems = await auditMappingProblems(context.db, context.auth);
  if (!problems) return;
  await opened.close();
  throw new UsageError(
    `${prepared.checklistDisplay}: the auth mapping does not match the database: ${problems}; nothing was probed`,
  );
}

interface Evidence {
  statement: EvidenceStatement;
  envelope: DsseEnvelope;
}

/** 3. Evidence: built, scrubbed of every known secret and URL credential, signed. */
async function buildEvidence(
  prepared: PreparedRun,
  run: ProbeResult,
  options: VerifyOptions,
  io: CliIo,
  streams: Streams,
): Promise<Evidence> {
  const repository = await identifyRepository(run.repoDir);
  const checklistFile = options.checklist === STDIO ? undefined : prepared.loaded.file;
  const checklistInRepository = await checklistRepositoryPath(checklistFile, repository);
  const statement = redactDeep(
    buildStatement({
      toolVersion: VERSION,
      loaded: prepared.loaded,
      checklistDisplayPath: prepared.checklistDisplay,
      checklistSubjectName: await checklistSubjectName(checklistFile, repository),
      ...(checklistInRepository ? { checklistRepositoryPath: checklistInRepository } : {}),
      results: run.results,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      repository,
      repoDisplayPath: displayPath(io.cwd, run.repoDir),
      interrupted: run.interrupted,
      ...(prepared.baselineSha256 ? { baselineSha256: prepared.baselineSha256 } : {}),
      ...(run.deselected.length > 0
        ? { partial: { deselected: run.deselected, allowed: options.allowPartial === true } }
        : {}),
    }),
    prepared.secrets,
  );
  if (!repository) {
    // DESIGN: the commit verified is a subject. Say loudly when the evidence cannot name one.
    streams.warn(
      streams.warnColor.yellow.bold(
        `WARNING: ${statement.predicate.target.repo} is not a readable git checkout: the evidence names no commit.`,
      ),
    );
  }
  const payload = serializeStatement(statement);
  const envelope = prepared.signingKey ? signPayload(payload, prepared.signingKey) : unsignedEnvelope(payload);
  return { statement, envelope };
}

/**
 * 4. Report, and the exit code. A report that cannot be written never changes
 * the exit code; asked-for evidence that cannot be written turns a pass into 3.
 */
async function report(
  prepared: PreparedRun,
  { statement, envelope }: Evidence,
  options: VerifyOptions,
  io: CliIo,
  streams: Streams,
): Promise<VerifyOutcome['exitCode']> {
  const { predicate } = statement;
  printHumanReport(predicate, options, streams);
  const envelopeText = `${JSON.stringify(envelope, null, 2)}\n`;
  const evidenceWritten = await writeEvidenceFile(prepared, envelopeText, options, io, streams);
  await writeReports(prepared, { predicate, envelope }, options, io, streams);
  if (options.json) io.stdout.write(envelopeText);
  // Asked-for evidence that does not exist proves nothing: a passing run cannot exit 0 without it.
  return !evidenceWritten && predicate.exitCode === 0 ? 3 : predicate.exitCode;
}

/** 4a. The details, the partial-run notice and the verdict, for people. */
function printHumanReport(predicate: EvidencePredicate, options: VerifyOptions, streams: Streams): void {
  const { say, humanColor: color } = streams;
  for (const line of formatDetails(predicate.checks, color)) say(line);
  say();
  const left = predicate.partial?.deselected ?? [];
  if (left.length > 0) {
    say(
      options.allowPartial
        ? color.yellow(
            `Partial run (--allow-partial): ${left.length} check(s) not run: ${left.join(', ')}; the evidence says verdict "partial", never "pass".`,
          )
        : color.magenta(
            `Partial run: ${left.length} check(s) left out by --only/--skip, so the gate cannot pass (exit 3); --allow-partial accepts that for local iteration.`,
          ),
    );
  }
  say(formatVerdict(predicate, color));
}

/** 4b. The envelope to --out; false when it was asked for and could not be written. */
async function writeEvidenceFile(
  prepared: PreparedRun,
  envelopeText: string,
  options: VerifyOptions,
  io: CliIo,
  streams: Streams,
): Promise<boolean> {
  if (!options.out) return true;
  if (await writeOutputFile(path.resolve(io.cwd, options.out), envelopeText)) {
    streams.say(`Evidence (${prepared.signingKey ? 'signed' : 'UNSIGNED'}): ${options.out}`);
    return true;
  }
  streams.warn(streams.warnColor.red(`could not write the evidence to ${options.out}`));
  return false;
}

/** 4c. Every --report, the GitHub annotations and job summary; a failure here only warns. */
async function writeReports(
  prepared: PreparedRun,
  { predicate, envelope }: { predicate: EvidencePredicate; envelope: DsseEnvelope },
  options: VerifyOptions,
  io: CliIo,
  streams: Streams,
): Promise<void> {
  const { say } = streams;
  const signature = prepared.signingKey
    ? { status: 'valid' as const, keyid: envelope.signatures[0]?.keyid ?? '' }
    : { status: 'unsigned' as const };
  for (const spec of prepared.reportSpecs) {
    let text: string;
    try {
      text = reporters[spec.format]({
        predicate,
        envelope,
        signature,
        ...(options.sarifCategory ? { sarifCategory: options.sarifCategory } : {}),
      });
    } catch (error) {
      // A broken reporter loses one report, never the verdict or the evidence.
      streams.warn(
        streams.warnColor.red(
          `could not render the ${spec.format} report: ${prepared.secrets.redact(errorMessageWithCode(error))}`,
        ),
      );
      continue;
    }
    if (spec.path === STDIO) io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    else if (await writeOutputFile(path.resolve(io.cwd, spec.path), text)) say(`Report (${spec.format}): ${spec.path}`);
    else streams.warn(streams.warnColor.red(`could not write the ${spec.format} report to ${spec.path}`));
  }
  // In GitHub Actions, failures also become annotations on the pull request's diff (on stderr when
  // stdout carries the evidence or a report; GitHub reads workflow commands from both).
  if (io.env.GITHUB_ACTIONS === 'true' && !prepared.reportSpecs.some((spec) => spec.format === 'github')) {
    streams.human.write(reporters.github({ predicate, envelope, signature }));
  }
  await writeJobSummary(prepared, { predicate, envelope, signature }, io, streams);
}

/**
 * In GitHub Actions the job summary shows the Markdown report: appended to $GITHUB_STEP_SUMMARY
 * (the step's own file, which other commands of the step may write too), unless a --report
 * already sends Markdown there. Like any report, it never changes the exit code.
 */
async function writeJobSummary(prepared: PreparedRun, input: ReportInput, io: CliIo, streams: Streams): Promise<void> {
  const summaryFile = io.env.GITHUB_STEP_SUMMARY;
  if (!summaryFile) return;
  const target = path.resolve(io.cwd, summaryFile);
  const alreadyThere = prepared.reportSpecs.some(
    (spec) => spec.format === 'markdown' && spec.path !== STDIO && path.resolve(io.cwd, spec.path) === target,
  );
  if (alreadyThere) return;
  try {
    await appendFile(target, reporters.markdown(input));
  } catch (error) {
    streams.warn(
      streams.warnColor.red(
        `could not write the job summary to $GITHUB_STEP_SUMMARY: ${prepared.secrets.redact(errorMessageWithCode(error))}`,
      ),
    );
  }
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
    const repoDir = path.resolve(loaded.baseDir, loaded.checklist.repo);
    const base = await readChecklistAtRef(repoDir, ref, loaded.file);
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
      // Both sides as written, neither interpolated: the environment may differ between two runs, the text may not.
      const baseChecklist = parseComparableChecklist(base.text, `${checklistPath} at ${ref}`);
      const compared = compareChecklists(
        baseChecklist,
        parseComparableChecklist(loaded.text, checklistPath),
        // Built-ins only: a plugin's own `strength` and defaults are the head's code, which the pull request
        // may have changed, so any change to a plugin entry's parameters blocks.
        { registry },
      );
      const edited = [
        ...(await changedPluginFiles(loaded, baseChecklist, ref, repoDir)),
        ...(await addedBaselineFileEntries(loaded, ref, repoDir)),
      ];
      const comparison = {
        changes: [...compared.changes, ...edited],
        weakenings: [...compared.weakenings, ...edited],
      };
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
    severity: 'high',
    params: z.object({}).strict(),
    run: async () => outcome,
  });
  return { entry: { id: BASELINE_CHECK_ID, check, params: {}, timeoutMs: 60_000, alwaysRun: true }, sha256 };
}

/**
 * A plugin named alike on both refs may still be other code: its module file, when it is in the
 * repository, is compared with the one at the base ref, and an edited (or new) file blocks like any
 * change the guard cannot prove stronger. A package's version is the lock file's, and a file outside
 * the repository the host's: neither is compared here (the evidence records every module's sha256).
 */
async function changedPluginFiles(
  loaded: LoadedChecklist,
  base: ComparableChecklist,
  ref: string,
  repoDir: string,
): Promise<ChecklistChange[]> {
  const changes: ChecklistChange[] = [];
  for (const { id, plugin } of loaded.entries) {
    if (!plugin || !/^(\.{1,2}\/|\/)/.test(plugin.specifier)) continue;
    // Another specifier, or no such entry at the base, is already a change of its own (plugin-changed, plugin-added).
    if (base.checks.find((entry) => (entry.id ?? entry.check) === id)?.plugin !== plugin.specifier) continue;
    const file = path.resolve(loaded.baseDir, plugin.path);
    const inside = path.relative(repoDir, file);
    if (inside.startsWith('..') || path.isAbsolute(inside) || inside.split(path.sep).includes('node_modules')) continue;
    const before = await readChecklistAtRef(repoDir, ref, file);
    if (before?.sha256 === plugin.sha256) continue;
    const short = (digest: string) => digest.slice(0, 12);
    changes.push({
      kind: 'plugin-changed',
      entry: id,
      before: before ? { sha256: before.sha256 } : null,
      after: { sha256: plugin.sha256 },
      blocking: true,
      message: before
        ? `${id}: ${plugin.path} differs from its version at ${ref} (sha256 ${short(before.sha256)} → ${short(plugin.sha256)}): other code judges the control, which nothing proves as strict`
        : `${id}: ${plugin.path} is not in the repository at ${ref}: other code judges the control, which nothing proves as strict`,
    });
  }
  return changes;
}

/**
 * The checklist's text is not all that decides what passes: an entry added to a repository check's
 * `baseline:` file accepts a finding as surely as a waiver does. Each such file (as the head checklist
 * names it, resolved as the check resolves it) is compared with its version at the base ref.
 */
async function addedBaselineFileEntries(
  loaded: LoadedChecklist,
  ref: string,
  repoDir: string,
): Promise<ChecklistChange[]> {
  const files = new Map<string, { entry: string; file: string }>();
  for (const { id, check, params, plugin } of loaded.entries) {
    if (plugin || !BASELINE_FILE_CHECKS.includes(check.id)) continue;
    const baseline = (params as { baseline?: unknown }).baseline;
    if (typeof baseline !== 'string') continue;
    const file = path.resolve(loaded.baseDir, baseline);
    if (!files.has(file)) files.set(file, { entry: id, file: baseline });
  }
  const changes: ChecklistChange[] = [];
  for (const [file, names] of files) {
    changes.push(...addedBaselineEntries(await readBaselineFileVersions(repoDir, ref, file, names), ref));
  }
  return changes;
}

/** A checklist with targets runs one of them; `--target` on one without is a mistake, not a no-op. */
function requireFleetSelection(loaded: LoadedChecklist, target: string | undefined): void {
  if (loaded.fleet && target === undefined) {
    throw new UsageError(
      `${path.basename(loaded.file)} declares ${loaded.fleet.targets.length} targets (${loaded.fleet.targets.join(', ')}): name one with --target, or run them all with --all`,
    );
  }
  if (!loaded.fleet && target !== undefined) {
    throw new UsageError(`--target ${target}: ${path.basename(loaded.file)} declares no targets (see README, Fleets)`);
  }
}

/** A fleet target's own source-address pool, so targets run side by side never share one. */
function fleetTargetConfig(loaded: LoadedChecklist): LoadedChecklist['checklist']['target'] {
  const { target } = loaded.checklist;
  if (loaded.fleet?.index === undefined) return target;
  const addresses = fleetSourceAddresses(target, loaded.fleet.index);
  return addresses ? { ...target, source_addresses: addresses } : target;
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

/** An output that cannot be written is an invalid invocation, found before anything is probed. */
async function ensureWritable(file: string, flag: string): Promise<void> {
  try {
    await proveWritable(file);
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : errorMessageWithCode(error);
    throw new UsageError(`${flag} ${file} cannot be written (${reason}); nothing was probed`);
  }
}

function displayPath(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return relative === '' ? '.' : relative.startsWith('..') ? file : relative;
}
