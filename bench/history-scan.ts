/**
 * Bench: the repo.history scan on a large generated history, against the
 * physical limit (`git cat-file --batch-all-objects --batch`, which only reads
 * every object) and against the naive `git log -p --all | grep -E …`.
 * Records MB/s of unique blob content, the ratios and peak RSS at two history
 * sizes (to show memory stays flat as the history grows) in
 * bench/results/history-scan.md.
 *
 * Build and run (Node 20 runs no TypeScript; `tsc -p tsconfig.bench.json` compiles bench/):
 *
 *   npm run bench:history      # = tsc -p tsconfig.bench.json && node dist/bench/history-scan.js --commits 4000 --reps 3
 *
 * `--repo DIR` also measures a real repository's history (a `git clone --mirror` of it), in
 * alternating rounds against git's raw read of the same objects, and records how to obtain it again
 * (commit count, HEAD, pack size); `--repo-source URL` names where it was cloned from:
 *
 *   git clone --mirror https://github.com/fastapi/full-stack-fastapi-template /tmp/fastapi.git
 *   tsc -p tsconfig.bench.json && node dist/bench/history-scan.js --commits 4000 --reps 3 \
 *     --repo /tmp/fastapi.git --repo-source https://github.com/fastapi/full-stack-fastapi-template --repo-reps 9
 *
 * The history is written with `git fast-import` into a temp directory and
 * removed afterwards (`--generate 4000` keeps one and prints its path;
 * `node --cpu-prof dist/bench/history-scan.js --scan DIR` profiles one scan). Each scan runs in a fresh node process so that its peak
 * RSS is its own.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import repoHistory from '../checks/repo/history.js';
import { alphabets, randomString, seededRandom } from '../fixtures/secrets-corpus/random.js';
import { openCheckContext } from '../src/engine/context.js';
import { BlobIdQueue, readBlobs, walkHistory } from '../src/probes/git-history.js';
import { buildKeywordFilter } from '../src/secrets/keyword-filter.js';
import { secretRules } from '../src/secrets/rules.js';
import { scanBuffer } from '../src/secrets/scanner.js';

const thisFile = fileURLToPath(import.meta.url);
// dist/bench/history-scan.js → the repository root.
const repoRoot = path.resolve(path.dirname(thisFile), '..', '..');

const gitEnv = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@bench.invalid',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@bench.invalid',
};

/** Lines typical of application source, so the generic rule's keywords fire as they would in real code. */
const SOURCE_LINES = [
  "import { createHash } from 'node:crypto';",
  'export async function handler(request: Request): Promise<Response> {',
  "  const key = cache.get(request.url + ':v2');",
  "  if (!key) return fetch(request, { headers: { accept: 'application/json' } });",
  '  // Tokens are validated by the middleware before this handler runs.',
  "  const password = await vault.read('app/db/password');",
  '  return new Response(JSON.stringify({ ok: true, items: rows.map((row) => row.id) }));',
  '}',
  'const retries = Number(process.env.RETRIES ?? 3);',
  '  for (const entry of entries) total += entry.amount * entry.quantity;',
  "      throw new Error('unexpected status ' + response.status + ' from ' + url);",
  '  private readonly queue: Array<() => Promise<void>> = [];',
];

interface GeneratedHistory {
  dir: string;
  commits: number;
  blobBytes: number;
  plantedSecrets: number;
}

/** Streams a fast-import script: `commits` commits, each rewriting `filesPerCommit` files of ~`blobBytes` bytes. */
async function generateHistory(commits: number, filesPerCommit: number, blobBytes: number): Promise<GeneratedHistory> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'secgate-bench-history-'));
  await execa('git', ['init', '--quiet', '--initial-branch=main'], { cwd: dir, env: gitEnv });
  const importer = execa('git', ['fast-import', '--quiet', '--done'], { cwd: dir, env: gitEnv, stdin: 'pipe' });
  const random = seededRandom(42);
  const write = async (text: string | Buffer): Promise<void> => {
    if (!importer.stdin.write(text)) await new Promise<void>((resolve) => importer.stdin.once('drain', resolve));
  };
  let totalBlobBytes = 0;
  let planted = 0;
  for (let commit = 1; commit <= commits; commit++) {
    const files: { path: string; content: Buffer }[] = [];
    for (let file = 0; file < filesPerCommit; file++) {
      const lines: string[] = [`// module ${commit}-${file} revision ${randomString(random, alphabets.hex, 12)}`];
      let size = lines[0]?.length ?? 0;
      while (size < blobBytes) {
        const line = SOURCE_LINES[Math.floor(random() * SOURCE_LINES.length)] ?? '';
        lines.push(line);
        size += line.length + 1;
      }
      // One blob in 500 carries a secret, so the scan has findings to report.
      if (random() < 0.002) {
        lines.splice(10, 0, `const API_TOKEN = '${randomString(random, alphabets.alphanumeric, 40)}';`);
        planted++;
      }
      const content = Buffer.from(`${lines.join('\n')}\n`);
      totalBlobBytes += content.length;
      files.push({ path: `src/module-${(commit * filesPerCommit + file) % 400}.ts`, content });
    }
    const message = `change ${commit}`;
    await write(`commit refs/heads/main\ncommitter Bench <bench@bench.invalid> ${1_767_225_600 + commit * 60} +0000\n`);
    await write(`data ${Buffer.byteLength(message)}\n${message}\n`);
    for (const file of files) {
      await write(`M 100644 inline ${file.path}\ndata ${file.content.length}\n`);
      await write(file.content);
      await write('\n');
    }
  }
  await write('done\n');
  importer.stdin.end();
  await importer;
  return { dir, commits, blobBytes: totalBlobBytes, plantedSecrets: planted };
}

interface Timing {
  seconds: number;
  /** user + sys CPU of every process the shell waited for (git, grep, node), from the shell's `times`. */
  cpuSeconds: number;
}

/** `times` prints the shell's own and its children's user/sys times: "0m1.234s 0m0.100s". */
function childrenCpuSeconds(timesOutput: string): number {
  const lines = timesOutput.trim().split('\n');
  const children = lines[lines.length - 1] ?? '';
  let total = 0;
  for (const match of children.matchAll(/(\d+)m([\d.]+)s/g)) total += Number(match[1]) * 60 + Number(match[2]);
  return total;
}

async function timeShell(script: string, cwd: string): Promise<Timing & { stdout: string }> {
  const started = performance.now();
  // The grep pattern travels in the environment: it holds quotes that a shell string would break on.
  const result = await execa('sh', ['-c', `${script}\nstatus=$?\necho '--times--'\ntimes\nexit $status`], {
    cwd,
    env: { ...gitEnv, PATH: process.env.PATH ?? '', SECGATE_GREP_PATTERN: GREP_PATTERN },
    reject: false,
    maxBuffer: 16 * 1024 * 1024,
  });
  const seconds = (performance.now() - started) / 1000;
  // grep exits 1 when nothing matches; anything above that is a broken measurement.
  if ((result.exitCode ?? 2) > 1) throw new Error(`${script} failed: ${result.stderr}`);
  const [stdout = '', times = ''] = result.stdout.split('--times--');
  return { seconds, cpuSeconds: childrenCpuSeconds(times), stdout };
}

/** Child mode: run repo.history once on `dir` and print timing and peak RSS as JSON. */
async function scanOnce(dir: string): Promise<void> {
  const { context, close } = await openCheckContext({
    target: { url: 'https://127.0.0.1:9' },
    repoDir: dir,
    baseDir: dir,
  });
  // CPU of the scan itself, not of node's start-up and module loading.
  const before = process.resourceUsage();
  const started = performance.now();
  const outcome = await repoHistory.run(context, repoHistory.params.parse({ max_blob_bytes: 64 * 1024 * 1024 }));
  const seconds = (performance.now() - started) / 1000;
  const usage = process.resourceUsage();
  await close();
  const stats = outcome.observations.find((observation) => observation.probe.startsWith('git log --all'))?.actual;
  process.stdout.write(
    JSON.stringify({
      seconds,
      maxRssMb: usage.maxRSS / 1024,
      cpuSeconds: (usage.userCPUTime + usage.systemCPUTime - before.userCPUTime - before.systemCPUTime) / 1e6,
      status: outcome.status,
      findings: outcome.observations.filter((observation) => observation.ok === false).length,
      stats,
    }),
  );
}

/**
 * Child mode: repo.history's own walk and transport (git log → ids → git
 * cat-file → socket → this process) with nothing scanned — what the scan costs
 * before it looks at a byte. Prints the wall seconds as JSON.
 */
async function readOnlyOnce(dir: string): Promise<void> {
  const started = performance.now();
  const ids = new BlobIdQueue();
  const walking = walkHistory(dir, { onNewBlob: (sha) => ids.push(sha) }).then(
    () => ids.end(),
    (error: unknown) => ids.fail(error),
  );
  const read = await readBlobs(dir, ids, { maxBlobBytes: 64 * 1024 * 1024 }, () => {});
  await walking;
  process.stdout.write(JSON.stringify({ seconds: (performance.now() - started) / 1000, bytes: read.bytes }));
}

/** Keyword hits per MB in `.js` files under `dir` (real-world code), by the prefilter the scan uses. */
async function keywordDensity(files: string[]): Promise<{ mb: number; hitsPerMb: number }> {
  const filter = buildKeywordFilter(
    secretRules.map((rule) => rule.keywords),
    { locate: secretRules.map(() => true) },
  );
  let bytes = 0;
  let hits = 0;
  for (const file of files) {
    const content = await readFile(file);
    bytes += content.length;
    filter.visitStarts(content, () => hits++);
  }
  return { mb: bytes / 1e6, hitsPerMb: hits / (bytes / 1e6) };
}

interface PeerComparison {
  mb: number;
  blobs: number;
  secgate: { seconds: number; findings: number };
  secretlint: { seconds: number; findings: number };
}

/**
 * A real peer on the same content: the first `sampleBytes` of the history's blobs (in history order),
 * held in memory, scanned by secgate's scanner and by secretlint's recommended preset in this process.
 * No git, no I/O: scanner against scanner. Each runs twice and keeps its faster pass (both warmed alike).
 */
async function comparePeer(dir: string, sampleBytes: number): Promise<PeerComparison> {
  const walk = await walkHistory(dir);
  const sample: { path: string; content: Buffer }[] = [];
  let bytes = 0;
  await readBlobs(dir, walk.blobs.keys(), { maxBlobBytes: 64 * 1024 * 1024 }, (blob) => {
    if (bytes >= sampleBytes || blob.kind !== 'text-or-binary') return;
    sample.push({ path: walk.blobs.get(blob.sha)?.path ?? 'blob.txt', content: Buffer.from(blob.content) });
    bytes += blob.size;
  });
  // Loaded here, not at the top: the `--scan` child processes must not carry secretlint's modules.
  const { createSecretlintPeer } = await import('./secretlint-peer.js');
  const secretlintPeer = await createSecretlintPeer(repoRoot);
  const best = async (scanAll: () => Promise<number>): Promise<{ seconds: number; findings: number }> => {
    let fastest = Number.POSITIVE_INFINITY;
    let findings = 0;
    for (let pass = 0; pass < 2; pass++) {
      const started = performance.now();
      findings = await scanAll();
      fastest = Math.min(fastest, (performance.now() - started) / 1000);
    }
    return { seconds: fastest, findings };
  };
  const secgate = await best(async () => sample.reduce((count, blob) => count + scanBuffer(blob.content).length, 0));
  const secretlint = await best(async () => {
    let count = 0;
    for (const blob of sample) count += (await secretlintPeer.ruleIds(blob.content.toString('utf8'), blob.path)).length;
    return count;
  });
  return { mb: bytes / 1e6, blobs: sample.length, secgate, secretlint };
}

/** Keyword hits per MB of every blob in the history. */
async function historyKeywordDensity(dir: string): Promise<number> {
  const filter = buildKeywordFilter(
    secretRules.map((rule) => rule.keywords),
    { locate: secretRules.map(() => true) },
  );
  const walk = await walkHistory(dir);
  let hits = 0;
  const read = await readBlobs(dir, walk.blobs.keys(), { maxBlobBytes: 64 * 1024 * 1024 }, (blob) => {
    if (blob.kind === 'text-or-binary') filter.visitStarts(blob.content, () => hits++);
  });
  return hits / (read.bytes / 1e6);
}

async function listFiles(dir: string, suffix: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** What repo.history reports about its walk (its `git log --all --raw + git cat-file --batch` observation). */
interface ScanStats {
  scanned_bytes: number;
  unique_blobs: number;
  binary_blobs_scanned_for_printable_runs: number;
  absent_blobs: number;
}

interface ScanTiming {
  seconds: number;
  /** The scanning process from start to exit, as the shell saw it (node's start-up included). */
  processSeconds: number;
  maxRssMb: number;
  cpuSeconds: number;
  totalCpuSeconds: number;
  findings: number;
  scannedBytes: number;
  status: string;
  stats: ScanStats;
}

async function timeScan(dir: string): Promise<ScanTiming> {
  const timing = await timeShell(`"${process.execPath}" "${thisFile}" --scan "${dir}"`, dir);
  const result = JSON.parse(timing.stdout) as {
    seconds: number;
    maxRssMb: number;
    cpuSeconds: number;
    status: string;
    findings: number;
    stats: ScanStats;
  };
  return {
    ...result,
    processSeconds: timing.seconds,
    // Node's own CPU, and node plus its git children as the shell saw them.
    totalCpuSeconds: timing.cpuSeconds,
    scannedBytes: result.stats.scanned_bytes,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** The run with the median wall time (its CPU time travels with it). */
function medianTiming(timings: Timing[]): Timing {
  const seconds = median(timings.map((timing) => timing.seconds));
  return timings.find((timing) => timing.seconds === seconds) ?? { seconds, cpuSeconds: Number.NaN };
}

function stringArgument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index === -1 ? undefined : Number(process.argv[index + 1]);
  return value !== undefined && Number.isFinite(value) ? value : fallback;
}

const GREP_PATTERN = `(AKIA[A-Z2-7]{16}|gh[pousr]_[A-Za-z0-9]{36}|-----BEGIN [A-Z ]*PRIVATE KEY|(SECRET|KEY|PASSWORD|TOKEN)[A-Z_]* *= *['"][^'"]{12,})`;

/**
 * How the history's objects are packed. `fast-import` is how the generator leaves them (long delta
 * chains in import order); `gc` is after `git repack -adf`, the deltas `git gc` computes — what a
 * real repository that was committed to and garbage-collected holds, and the fairer limit.
 */
type Packing = 'fast-import' | 'gc';

interface SizeResult {
  history: GeneratedHistory;
  packing: Packing;
  scan: ScanTiming;
  raw: Timing;
  /** `--unordered`: pack order, the cheapest way git can read every object. */
  rawUnordered: Timing;
  grep: Timing;
  /** The `--unordered` read piped into `cat`: what moving the bytes out of git costs any scanner. */
  catRead: Timing;
  /** repo.history's walk and transport with no scanning (`--read-only`). */
  readOnly: Timing;
  /** Keyword hits per MB of the history's blobs (how often the regex stage runs). */
  hitsPerMb: number;
  diskMb: number;
}

/** The peer comparison, made once on the largest history. */
let peer: PeerComparison | undefined;

/** Both packings of one generated history: as fast-import left it, then repacked as `git gc` would. */
async function measureSize(commits: number, reps: number): Promise<SizeResult[]> {
  process.stderr.write(`generating ${commits} commits…\n`);
  const history = await generateHistory(commits, 3, 18 * 1024);
  try {
    const asImported = await measurePacking(history, 'fast-import', reps);
    process.stderr.write('  repacking (git repack -adf)…\n');
    await execa('git', ['repack', '-adf', '-q'], { cwd: history.dir });
    const repacked = await measurePacking(history, 'gc', reps);
    if (commits === argument('--commits', 4000)) {
      process.stderr.write('  secretlint on the same blobs…\n');
      peer = await comparePeer(history.dir, 40 * 1024 * 1024);
    }
    return [asImported, repacked];
  } finally {
    await rm(history.dir, { recursive: true, force: true });
  }
}

async function measurePacking(history: GeneratedHistory, packing: Packing, reps: number): Promise<SizeResult> {
  process.stderr.write(`  ${packing} pack\n`);
  {
    const { stdout: du } = await execa('du', ['-sk', path.join(history.dir, '.git')]);
    const diskMb = Number(du.split('\t')[0]) / 1024;
    const scans = [];
    const raws: Timing[] = [];
    const rawsUnordered: Timing[] = [];
    const greps: Timing[] = [];
    const catReads: Timing[] = [];
    const readOnlys: Timing[] = [];
    await timeShell('git cat-file --batch-all-objects --batch > /dev/null', history.dir); // warm the page cache
    for (let rep = 0; rep < reps; rep++) {
      process.stderr.write(`  rep ${rep + 1}/${reps}\n`);
      raws.push(await timeShell('git cat-file --batch-all-objects --batch > /dev/null', history.dir));
      rawsUnordered.push(
        await timeShell('git cat-file --batch-all-objects --unordered --batch > /dev/null', history.dir),
      );
      scans.push(await timeScan(history.dir));
      catReads.push(
        await timeShell('git cat-file --batch-all-objects --unordered --batch | cat > /dev/null', history.dir),
      );
      const readOnly = await timeShell(`"${process.execPath}" "${thisFile}" --read-only "${history.dir}"`, history.dir);
      readOnlys.push({
        seconds: (JSON.parse(readOnly.stdout) as { seconds: number }).seconds,
        cpuSeconds: readOnly.cpuSeconds,
      });
      greps.push(await timeShell('git log -p --all | grep -E "$SECGATE_GREP_PATTERN" > /dev/null', history.dir));
    }
    const scanSeconds = median(scans.map((scan) => scan.seconds));
    const scan = scans.find((candidate) => candidate.seconds === scanSeconds) ?? scans[0];
    if (!scan) throw new Error('no scan');
    return {
      history,
      packing,
      scan: { ...scan, maxRssMb: Math.max(...scans.map((candidate) => candidate.maxRssMb)) },
      raw: medianTiming(raws),
      rawUnordered: medianTiming(rawsUnordered),
      grep: medianTiming(greps),
      catRead: medianTiming(catReads),
      readOnly: medianTiming(readOnlys),
      hitsPerMb: await historyKeywordDensity(history.dir),
      diskMb,
    };
  }
}

/** How a real history was obtained and what it holds: enough for anyone to clone the same one again. */
interface RepoDescription {
  dir: string;
  source: string;
  commits: number;
  refs: number;
  head: string;
  packMb: number;
}

async function describeRepo(dir: string, source: string | undefined): Promise<RepoDescription> {
  const git = async (args: string[]) => (await execa('git', args, { cwd: dir, env: gitEnv })).stdout.trim();
  const packs = (await git(['count-objects', '-v'])).match(/^size-pack: (\d+)$/m)?.[1] ?? 'NaN';
  const remote = await git(['config', '--get', 'remote.origin.url']).catch(() => '');
  return {
    dir,
    source: source ?? (remote || 'unknown'),
    commits: Number(await git(['rev-list', '--all', '--count'])),
    refs: (await git(['for-each-ref', '--format=%(refname)'])).split('\n').filter(Boolean).length,
    head: await git(['rev-parse', 'HEAD']),
    packMb: Number(packs) / 1024,
  };
}

interface RepoRound {
  raw: Timing;
  scan: ScanTiming;
}

interface RepoResult {
  repo: RepoDescription;
  rounds: RepoRound[];
  loadBefore: number[];
  loadAfter: number[];
}

const RAW_READ = 'git cat-file --batch-all-objects --batch --unordered > /dev/null';

/**
 * Alternating rounds on a real history: git's raw read of every object in pack order, then the scan
 * (every other round the other way round, so that a change in the machine's load weighs on both alike).
 * Ratios are taken within a round, then the median of them: the box is shared, only same-run ratios mean anything.
 */
async function measureRepo(repo: RepoDescription, reps: number): Promise<RepoResult> {
  process.stderr.write(`real history ${repo.dir}: ${repo.commits} commits\n`);
  const loadBefore = os.loadavg();
  await timeShell(RAW_READ, repo.dir); // warm the page cache
  const rounds: RepoRound[] = [];
  for (let rep = 0; rep < reps; rep++) {
    process.stderr.write(`  round ${rep + 1}/${reps}\n`);
    if (rep % 2 === 0) {
      const raw = await timeShell(RAW_READ, repo.dir);
      rounds.push({ raw, scan: await timeScan(repo.dir) });
    } else {
      const scan = await timeScan(repo.dir);
      rounds.push({ raw: await timeShell(RAW_READ, repo.dir), scan });
    }
  }
  return { repo, rounds, loadBefore, loadAfter: os.loadavg() };
}

function formatLoad(load: readonly number[]): string {
  return load.map((value) => value.toFixed(1)).join(' / ');
}

/** The real history's section of the results: how to get it, every round, the medians of the same-round ratios. */
function repoSection(result: RepoResult): string[] {
  const { repo, rounds } = result;
  const ratios = (pick: (round: RepoRound) => number) => rounds.map(pick);
  const wall = ratios((round) => round.scan.seconds / round.raw.seconds);
  const processWall = ratios((round) => round.scan.processSeconds / round.raw.seconds);
  const cpu = ratios((round) => round.scan.totalCpuSeconds / round.raw.cpuSeconds);
  const range = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
  const first = rounds[0]?.scan;
  const lines = [
    '## Real history',
    '',
    `${repo.source} as \`git clone --mirror\` stores it: ${repo.commits} commits on ${repo.refs} refs ` +
      `(branches, tags and the pull-request refs a mirror clone fetches), HEAD ${repo.head}, pack ${repo.packMb.toFixed(0)} MB` +
      (first
        ? `; repo.history reads ${first.scannedBytes} bytes in ${first.stats.unique_blobs} unique blobs ` +
          `(${first.stats.binary_blobs_scanned_for_printable_runs} binary, scanned for printable runs), status \`${first.status}\`, ` +
          `${first.findings} failing observations, ${first.stats.absent_blobs} absent blobs.`
        : '.'),
    `Load average ${formatLoad(result.loadBefore)} before the rounds, ${formatLoad(result.loadAfter)} after.`,
    '',
    `Raw read: \`${RAW_READ.replace(' > /dev/null', '')}\` to /dev/null (every object, pack order). Rounds alternate which runs first.`,
    '"scan" is repo.history in a fresh node process (`--scan DIR`) as the check reports it; "process" adds node\u2019s start-up.',
    '',
    '| round | raw read wall s / CPU s | repo.history scan wall s / process wall s | total CPU s (node + git) / node CPU s | × raw read: scan wall / process wall / CPU | peak RSS MB |',
    '|---:|---:|---:|---:|---:|---:|',
    ...rounds.map(
      (round, index) =>
        `| ${index + 1} | ${round.raw.seconds.toFixed(2)} / ${round.raw.cpuSeconds.toFixed(2)} | ` +
        `${round.scan.seconds.toFixed(2)} / ${round.scan.processSeconds.toFixed(2)} | ` +
        `${round.scan.totalCpuSeconds.toFixed(2)} / ${round.scan.cpuSeconds.toFixed(2)} | ` +
        `${(wall[index] ?? Number.NaN).toFixed(2)} / ${(processWall[index] ?? Number.NaN).toFixed(2)} / ${(cpu[index] ?? Number.NaN).toFixed(2)} | ` +
        `${round.scan.maxRssMb.toFixed(0)} |`,
    ),
    '',
    `Median of the same-round ratios: scan **${median(wall).toFixed(2)}×** the raw read in wall time (${range(wall)} over ${rounds.length} rounds), ` +
      `${median(processWall).toFixed(2)}× with node\u2019s start-up, ${median(cpu).toFixed(2)}× in CPU time (${range(cpu)}) — ` +
      `goal ≤ 1.5×: ${median(wall) <= 1.5 ? 'met' : '**not met**'} in wall time.`,
    '',
  ];
  return lines;
}

async function main(): Promise<void> {
  const scanIndex = process.argv.indexOf('--scan');
  if (scanIndex !== -1) {
    await scanOnce(process.argv[scanIndex + 1] ?? '.');
    return;
  }
  if (process.argv.includes('--read-only')) {
    await readOnlyOnce(process.argv[process.argv.indexOf('--read-only') + 1] ?? '.');
    return;
  }
  // `--generate N`: build a history of N commits, print its directory and keep it (for profiling a scan).
  if (process.argv.includes('--generate')) {
    const history = await generateHistory(argument('--generate', 4000), 3, 18 * 1024);
    process.stdout.write(`${history.dir}\n`);
    return;
  }
  const commits = argument('--commits', 4000);
  const reps = argument('--reps', 3);
  const repoDir = stringArgument('--repo');
  const repoSource = stringArgument('--repo-source');
  const repoReps = argument('--repo-reps', 9);
  const loadAtStart = os.loadavg();
  const real = repoDir ? await measureRepo(await describeRepo(path.resolve(repoDir), repoSource), repoReps) : undefined;
  const sizes = [Math.round(commits / 2), commits];
  const results: SizeResult[] = [];
  for (const size of sizes) results.push(...(await measureSize(size, reps)));
  const repoArguments = real
    ? ` --repo ${repoDir}${repoSource ? ` --repo-source ${repoSource}` : ''} --repo-reps ${repoReps}`
    : '';

  const mb = (bytes: number) => bytes / 1e6;
  const lines = [
    '# repo.history scan bench',
    '',
    `Produced by \`tsc -p tsconfig.bench.json && node dist/bench/history-scan.js --commits ${commits} --reps ${reps}${repoArguments}\` on ${new Date().toISOString()}.`,
    '',
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}, Node ${process.version}, load average at start ${formatLoad(
      loadAtStart,
    )}, at the end ${formatLoad(os.loadavg())}, ${(await execa('git', ['--version'])).stdout}.`,
    '',
    ...(real ? repoSection(real) : []),
    '## Generated history',
    '',
    'History: generated with `git fast-import`, measured as imported and again after `git repack -adf` (the deltas `git gc`',
    'computes, as in a repository that was committed to and collected: the fairer limit); every commit rewrites 3 TypeScript-like files of ~18 KB (unique content, lines that',
    "contain the generic rule's keywords `key`, `token`, `password`, so the regex stage really runs), one blob in 500 carries a secret.",
    'MB/s is unique blob content (what `repo.history` scans) divided by wall time. Medians of the repetitions; the scan runs in a',
    'fresh node process each time (`--scan DIR`), and its peak RSS is that process’s `maxRSS` (git child processes not included).',
    '',
    'Wall times are what a user waits; CPU times (user + sys, from the shell’s `times`) are robust to other load on the machine',
    'and say what one core can do. "node CPU" is the scanning process during the scan (reading, parsing, prefilter, regexes; start-up',
    'excluded), "total CPU" is the whole process including start-up plus',
    'its git children (`git log --raw`, `git cat-file --batch`: decompression). The raw read is measured in both orders:',
    '`--batch-all-objects` alone reads in object-id order, which on a `fast-import` pack with long delta chains re-inflates',
    'delta bases again and again; `--unordered` reads in pack order. The ratio uses the faster of the two. repo.history asks for',
    'blobs in history order (the order `git log --reverse` introduced them), which is close to pack order.',
    '',
    '| commits | pack | unique blob MB | .git MB | raw read wall s / CPU s | raw read `--unordered` wall s / CPU s | raw read `--unordered \\| cat` wall s | walk + transport, nothing scanned, wall s | repo.history wall s / total CPU s / node CPU s | MB/s wall | MB per node-CPU s | × faster raw read (wall / CPU) | grep wall s / CPU s | × faster than grep (wall / CPU) | peak RSS MB | findings |',
    '|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const result of results) {
    const scannedMb = mb(result.scan.scannedBytes);
    const scan = result.scan;
    // The limit is whichever way of reading every object git does faster on this pack.
    const limit = result.rawUnordered.seconds < result.raw.seconds ? result.rawUnordered : result.raw;
    lines.push(
      `| ${result.history.commits} | ${result.packing} | ${scannedMb.toFixed(0)} | ${result.diskMb.toFixed(0)} | ${result.raw.seconds.toFixed(2)} / ${result.raw.cpuSeconds.toFixed(2)} | ` +
        `${result.rawUnordered.seconds.toFixed(2)} / ${result.rawUnordered.cpuSeconds.toFixed(2)} | ` +
        `${result.catRead.seconds.toFixed(2)} | ${result.readOnly.seconds.toFixed(2)} | ` +
        `${scan.seconds.toFixed(2)} / ${scan.totalCpuSeconds.toFixed(2)} / ${scan.cpuSeconds.toFixed(2)} | ${(scannedMb / scan.seconds).toFixed(0)} | ` +
        `${(scannedMb / scan.cpuSeconds).toFixed(0)} | ${(scan.seconds / limit.seconds).toFixed(2)} / ${(scan.totalCpuSeconds / limit.cpuSeconds).toFixed(2)} | ` +
        `${result.grep.seconds.toFixed(2)} / ${result.grep.cpuSeconds.toFixed(2)} | ${(result.grep.seconds / scan.seconds).toFixed(1)} / ${(result.grep.cpuSeconds / scan.totalCpuSeconds).toFixed(1)} | ` +
        `${scan.maxRssMb.toFixed(0)} | ${scan.findings} (planted ${result.history.plantedSecrets}) |`,
    );
  }
  if (peer) {
    const secgateRate = peer.mb / peer.secgate.seconds;
    const secretlintRate = peer.mb / peer.secretlint.seconds;
    lines.push(
      '',
      `Against a real peer, scanner against scanner: the first ${peer.mb.toFixed(0)} MB (${peer.blobs} blobs) of the largest history in memory, ` +
        `scanned in this process by secgate's scanner (\`scanBuffer\`) and by secretlint's recommended preset (\`@secretlint/node\` ` +
        `\`executeOnContent\`), each the faster of two passes: secgate ${secgateRate.toFixed(0)} MB/s, secretlint ${secretlintRate.toFixed(1)} MB/s ` +
        `(${(secgateRate / secretlintRate).toFixed(0)}× faster); findings ${peer.secgate.findings} vs ${peer.secretlint.findings} ` +
        "(the planted secrets are `API_TOKEN = '…'` assignments, which only a generic assignment rule finds; secretlint's preset has none). " +
        "secretlint's time includes the JSON its Node API formats for each file and the parse of it (a few microseconds for a file " +
        'without findings); every blob here is text, so neither side skips binary content.',
    );
  }
  // How keyword-dense real code is, for scale: every .js file this project installed (third-party code).
  const realWorld = await keywordDensity(await listFiles(path.join(repoRoot, 'node_modules'), '.js'));
  lines.push(
    '',
    `Keyword hits (where the anchored rules' regexes run): ${results[results.length - 1]?.hitsPerMb.toFixed(0)} per MB in this history, ` +
      `${realWorld.hitsPerMb.toFixed(0)} per MB in the ${realWorld.mb.toFixed(0)} MB of \`.js\` under node_modules (real third-party code): ` +
      'the generated history is the denser, harder case.',
    '',
    `grep pattern: \`${GREP_PATTERN}\` — it reads every diff of every commit (so each blob many times as context) and knows nothing of`,
    'entropy, placeholders, commits or line numbers; it is the floor a team would otherwise use.',
    '',
  );
  // The issue's goals, judged on the largest history as `git gc` packs it (the realistic case).
  const gcResults = results.filter((result) => result.packing === 'gc');
  const largest = gcResults[gcResults.length - 1];
  const smallest = gcResults[0];
  const largestImported = results.filter((result) => result.packing === 'fast-import').at(-1);
  if (largest && smallest && largestImported) {
    const scannedMb = mb(largest.scan.scannedBytes);
    const fastest = (result: SizeResult) =>
      result.rawUnordered.seconds < result.raw.seconds ? result.rawUnordered : result.raw;
    const limit = fastest(largest);
    const perCore = scannedMb / largest.scan.cpuSeconds;
    const wall = scannedMb / largest.scan.seconds;
    const ratio = largest.scan.seconds / limit.seconds;
    const importedRatio = largestImported.scan.seconds / fastest(largestImported).seconds;
    const rssGrowth = largest.scan.maxRssMb / smallest.scan.maxRssMb;
    const verdict = (met: boolean) => (met ? 'met' : '**not met**');
    lines.push(
      '## Against the goals (largest history, gc pack)',
      '',
      `- ≥ 100 MB/s on one core: ${perCore.toFixed(0)} MB per CPU-second of the scanning process, ${wall.toFixed(0)} MB/s wall — ` +
        `${verdict(perCore >= 100)} per core, ${verdict(wall >= 100)} in wall time at this machine's load.`,
      `- Within 1.5× of the raw read: ${ratio.toFixed(2)}× the fastest raw read in wall time — ${verdict(ratio <= 1.5)} ` +
        `(${(largest.scan.seconds / largest.raw.seconds).toFixed(1)}× the issue's own command, \`git cat-file --batch-all-objects --batch\`). ` +
        `On the fast-import pack ${importedRatio.toFixed(1)}× the fastest read and ` +
        `${(largestImported.scan.seconds / largestImported.raw.seconds).toFixed(2)}× the issue's command, which there is slow only because id order re-inflates long delta chains: not counted. ` +
        `On the half-size history (${mb(smallest.scan.scannedBytes).toFixed(0)} MB) ${(smallest.scan.seconds / fastest(smallest).seconds).toFixed(1)}×: ` +
        'the fixed costs (three git processes to start, a socket to connect, code to compile) weigh twice as much there.',
      `  Where the time goes: moving the bytes out of git at all (the same read piped into \`cat\`) takes ${largest.catRead.seconds.toFixed(2)} s ` +
        `(${(largest.catRead.seconds / limit.seconds).toFixed(1)}× the read to /dev/null); repo.history's walk and transport with nothing scanned take ` +
        `${largest.readOnly.seconds.toFixed(2)} s (${(largest.readOnly.seconds / limit.seconds).toFixed(1)}×), and scanning adds ` +
        `${Math.max(0, largest.scan.seconds - largest.readOnly.seconds).toFixed(2)} s on top: the SIMD prefilter, ` +
        `the regexes at ${largest.hitsPerMb.toFixed(0)} keyword hits per MB, the walk, all on two cores shared with both git processes.`,
      `- Flat memory: peak RSS ${smallest.scan.maxRssMb.toFixed(0)} MB → ${largest.scan.maxRssMb.toFixed(0)} MB while the history doubles ` +
        `(× ${rssGrowth.toFixed(2)}) — ${verdict(rssGrowth < 1.2)}. Memory holds one blob at a time plus one map entry per unique blob.`,
      '',
    );
  }
  const output = path.join(repoRoot, 'bench', 'results', 'history-scan.md');
  await mkdir(path.dirname(output), { recursive: true });
  await writeFile(output, `${lines.join('\n')}\n`);
  process.stdout.write(`${lines.join('\n')}\n\nwritten to ${output}\n`);
}

await main();
