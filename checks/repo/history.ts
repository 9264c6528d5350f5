import { z } from 'zod';
import { defineCheck, type Observation } from '../../src/engine/types.js';
import { blobsBehindRefs, historyCutoffs, listRefs, listUnreachableBlobs } from '../../src/probes/git.js';
import { BlobIdQueue, type BlobIntroduction, readBlobs, walkHistory } from '../../src/probes/git-history.js';
import { isEnvFile } from '../../src/secrets/assignments.js';
import { acceptedBy, listedFindings, loadBaselineFile } from '../../src/secrets/baseline.js';
import { looksBinary, scanBuffer } from '../../src/secrets/scanner.js';

const MAX_LISTED_SKIPS = 50;

/** The "commit" of a blob that a ref reaches without any commit (a tag on a blob or a tree). */
const NO_COMMIT = 'none';

interface HistoryFinding {
  rule: string;
  fingerprint: string;
  length: number;
  commit: string;
  path: string;
  line?: number;
  blob: string;
}

/**
 * Seed 002 item 9 and the "JWT secret committed to git" pitfall: `git log
 * --all` keeps a secret forever, even after the file is deleted. Every ref
 * (branches, tags, remote-tracking refs, stash) is walked once; every unique
 * blob is read once through one `git cat-file --batch` process and scanned.
 */
export default defineCheck({
  id: 'repo.history',
  title: 'No .env file and no secret was ever committed, on any branch, tag, remote-tracking ref or stash',
  source: "seed 002, checklist item 9 (git log --all --full-history -- '*.env'); seed 002, common pitfalls",
  remediation:
    'Rotate every reported secret now (deleting it from history does not un-leak it), then rewrite history with ' +
    'git filter-repo if policy requires. Accept reviewed, harmless findings in the baseline file with a reason.',
  effects: 'none',
  params: z
    .object({
      /** JSON baseline of accepted findings, relative to the checklist's directory. */
      baseline: z.string().min(1).optional(),
      /** Also scan blobs no ref reaches (dropped stashes, amended commits); they have no commit to name. */
      include_unreachable: z.boolean().default(false),
      /** Blobs above this size are not scanned; each one is listed as an observation. */
      max_blob_bytes: z
        .number()
        .int()
        .positive()
        .default(8 * 1024 * 1024),
    })
    .strict(),
  async run(ctx, params) {
    const observations: Observation[] = [];
    const started = performance.now();

    const loadedBaseline = await loadBaselineFile(ctx.baseDir, params.baseline);
    if (loadedBaseline.observation) observations.push(loadedBaseline.observation);
    if (loadedBaseline.problem !== undefined) {
      return { status: 'error', summary: loadedBaseline.problem, observations };
    }
    const baseline = loadedBaseline.entries;

    // A walk can only judge the history that is there: a shallow clone or grafts would make it pass unseen.
    // Both questions go to git at once.
    const [cutoffsAsked, refsListed] = await Promise.allSettled([
      historyCutoffs(ctx.repoDir, { signal: ctx.signal }),
      listRefs(ctx.repoDir, { signal: ctx.signal }),
    ]);
    if (cutoffsAsked.status === 'rejected') {
      return {
        status: 'error',
        summary: `could not walk the git history of ${ctx.repoDir} (checking it is complete): ${String(cutoffsAsked.reason)}`,
        observations,
      };
    }
    const cutoffs = cutoffsAsked.value;
    if (cutoffs.length > 0) {
      observations.push({
        probe: 'git rev-parse --is-shallow-repository; info/grafts',
        expected: 'the whole history, as stored',
        actual: { cutoffs },
        ok: false,
        note: `the history is incomplete: ${cutoffs.join('; ')}`,
      });
      return {
        status: 'error',
        summary:
          `cannot judge the history of ${ctx.repoDir}: it is ${cutoffs.join('; and ')}. ` +
          'Fetch the whole history (git fetch --unshallow; in GitHub Actions, actions/checkout with fetch-depth: 0) or remove the grafts.',
        observations,
      };
    }

    if (refsListed.status === 'rejected') {
      return {
        status: 'error',
        summary: `could not walk the git history of ${ctx.repoDir} (listing its refs): ${String(refsListed.reason)}`,
        observations,
      };
    }
    const refs = refsListed.value;
    observations.push({
      probe: 'git for-each-ref',
      actual: { refs: refs.length, names: refs.slice(0, 100).map((ref) => ref.name) },
      note: `history walked from ${refs.length} refs (branches, tags, remote-tracking refs, stash)`,
    });

    // Every unique blob, once, read while the walk is still finding them: the walk writes each new
    // blob id into `blobIds`, the reader sends them on to `git cat-file --batch` as they come.
    const origins = new Map<string, BlobIntroduction | undefined>();
    const blobIds = new BlobIdQueue();
    // The walk is stopped when the check is, and when reading fails (its ids would go nowhere).
    const walkStop = new AbortController();
    const stopWalk = (): void => walkStop.abort();
    const walkSignal = AbortSignal.any([ctx.signal, walkStop.signal]);
    let readFailed = false;
    let walkFailed = false;
    const walking = (async () => {
      const walk = await walkHistory(ctx.repoDir, {
        signal: walkSignal,
        onNewBlob: (sha, introduction) => {
          origins.set(sha, introduction);
          blobIds.push(sha);
        },
      });
      // Blobs a ref reaches without any commit (a tag on a blob or a tree): no commit walk sees them.
      let refOnly: Awaited<ReturnType<typeof blobsBehindRefs>>;
      try {
        refOnly = await blobsBehindRefs(ctx.repoDir, refs, { signal: walkSignal });
      } catch (error) {
        throw new Error(`could not read what the non-commit refs name: ${String(error)}`);
      }
      for (const { blob, ref, path } of refOnly) {
        if (origins.has(blob)) continue;
        origins.set(blob, { commit: NO_COMMIT, path: path === '' ? `(blob tagged by ${ref})` : `${ref}:${path}` });
        blobIds.push(blob);
      }
      if (params.include_unreachable) {
        let unreachable: string[];
        try {
          unreachable = await listUnreachableBlobs(ctx.repoDir, { signal: walkSignal });
        } catch (error) {
          throw new Error(`git fsck --unreachable failed: ${String(error)}`);
        }
        for (const blob of unreachable) {
          if (origins.has(blob)) continue;
          origins.set(blob, undefined);
          blobIds.push(blob);
        }
      }
      blobIds.end();
      return walk;
    })();
    // A failed walk ends the id stream with its error, which stops the reader too.
    walking.catch((error: unknown) => {
      if (!readFailed) walkFailed = true;
      blobIds.fail(error);
    });

    const blobFindings: HistoryFinding[] = [];
    let binaryBlobs = 0;
    const largeBlobs: Observation[] = [];
    const reading = readBlobs(
      ctx.repoDir,
      blobIds,
      { maxBlobBytes: params.max_blob_bytes, signal: ctx.signal },
      (blob) => {
        const origin = origins.get(blob.sha);
        const where = origin ? `${origin.path} @ ${origin.commit.slice(0, 12)}` : 'unreachable object';
        if (blob.kind === 'missing') throw new Error(`blob ${blob.sha} is missing from the object store`);
        if (blob.kind === 'too-large') {
          largeBlobs.push({
            probe: `git cat-file blob ${blob.sha.slice(0, 12)}`,
            actual: { size: blob.size, path: origin?.path ?? null, commit: origin?.commit ?? null },
            note: `not scanned: ${blob.size} bytes exceeds max_blob_bytes (${where})`,
          });
          return;
        }
        if (looksBinary(blob.content)) {
          binaryBlobs++;
          return;
        }
        for (const match of scanBuffer(blob.content)) {
          const fingerprint = ctx.secrets.fingerprint(match.value);
          blobFindings.push({
            rule: match.ruleId,
            fingerprint: fingerprint.sha256,
            length: fingerprint.length,
            commit: origin?.commit ?? 'unreachable',
            path: origin?.path ?? `(unreachable blob ${blob.sha.slice(0, 12)})`,
            line: match.line,
            blob: blob.sha,
          });
        }
      },
    );
    reading.catch(() => {
      if (walkFailed) return;
      readFailed = true;
      stopWalk();
    });
    const [walked, read] = await Promise.allSettled([walking, reading]);
    // The walk's own failure explains a reader stopped for lack of ids, so it is reported first; a walk
    // stopped because reading failed is not news.
    const walkError = (reason: unknown) => ({
      status: 'error' as const,
      summary: `could not walk the git history of ${ctx.repoDir}: ${String(reason)}`,
      observations,
    });
    if (walked.status === 'rejected' && !readFailed) return walkError(walked.reason);
    if (read.status === 'rejected') {
      return { status: 'error', summary: `could not read blobs: ${String(read.reason)}`, observations };
    }
    if (walked.status === 'rejected') return walkError(walked.reason);
    const walk = walked.value;
    const totals = read.value;
    // Every id sent must have come back as a blob: fewer would mean content never scanned.
    if (totals.blobs !== origins.size) {
      return {
        status: 'error',
        summary: `git cat-file answered ${totals.blobs} of ${origins.size} blobs the walk found: the history was not fully read`,
        observations,
      };
    }

    const findings: HistoryFinding[] = [];
    // .env-like files, ever added on any ref, even if later deleted or renamed.
    for (const introduced of walk.paths.values()) {
      if (!isEnvFile(introduced.path)) continue;
      findings.push({
        rule: 'env-file-committed',
        // The blob id identifies the committed file content, so a baseline entry can accept it.
        fingerprint: introduced.blob.slice(0, 12),
        length: 0,
        commit: introduced.commit,
        path: introduced.path,
        blob: introduced.blob,
      });
    }
    findings.push(...blobFindings);
    const seconds = (performance.now() - started) / 1000;
    observations.push({
      probe: 'git log --all --raw + git cat-file --batch',
      actual: {
        commits: walk.commits,
        unique_blobs: totals.blobs,
        scanned_bytes: totals.bytes,
        binary_blobs_skipped: binaryBlobs,
        large_blobs_skipped: largeBlobs.length,
        seconds: Math.round(seconds * 1000) / 1000,
      },
      note: `scanned ${totals.blobs} unique blobs from ${walk.commits} commits`,
    });
    observations.push(...largeBlobs.slice(0, MAX_LISTED_SKIPS));

    let open = 0;
    const findingObservations: Observation[] = [];
    for (const finding of findings) {
      const accepted = acceptedBy(baseline, finding);
      if (!accepted) open++;
      const where = finding.line === undefined ? finding.path : `${finding.path}:${finding.line}`;
      const what =
        finding.rule === 'env-file-committed'
          ? `.env file ${finding.path} committed in ${finding.commit}`
          : finding.commit === NO_COMMIT
            ? `${finding.rule} in ${where}, reachable from a ref without any commit`
            : `${finding.rule} in ${where} introduced by commit ${finding.commit}`;
      findingObservations.push({
        probe: `git history blob ${finding.blob.slice(0, 12)}`,
        expected:
          finding.rule === 'env-file-committed' ? 'no .env file in any commit' : 'no secret in any committed blob',
        actual: {
          rule: finding.rule,
          commit: finding.commit,
          path: finding.path,
          fingerprint: finding.fingerprint,
          ...(finding.length > 0 ? { length: finding.length } : {}),
        },
        ok: accepted !== undefined,
        note: accepted ? `baselined: ${accepted.reason} (${what})` : what,
        location: {
          path: finding.path,
          ...(finding.line === undefined ? {} : { line: finding.line }),
          ...(finding.commit === 'unreachable' || finding.commit === NO_COMMIT ? {} : { commit: finding.commit }),
        },
      });
    }
    observations.push(...listedFindings(findingObservations, open));

    const accepted = findings.length - open;
    if (open > 0) {
      const first = findingObservations.find((observation) => !observation.ok)?.note ?? '';
      return {
        status: 'fail',
        summary: `${open} secret finding${open === 1 ? '' : 's'} in git history (${accepted} baselined), first: ${first}`,
        observations,
      };
    }
    return {
      status: 'pass',
      summary: `no open findings in ${totals.blobs} blobs of ${walk.commits} commits across ${refs.length} refs${accepted > 0 ? ` (${accepted} baselined)` : ''}`,
      observations,
    };
  },
});
