import { z } from 'zod';
import { defineCheck, type Observation } from '../../src/engine/types.js';
import { listRefs, listUnreachableBlobs } from '../../src/probes/git.js';
import { type BlobIntroduction, readBlobs, walkHistory } from '../../src/probes/git-history.js';
import { isEnvFile } from '../../src/secrets/assignments.js';
import { acceptedBy, loadBaselineFile } from '../../src/secrets/baseline.js';
import { looksBinary, scanBuffer } from '../../src/secrets/scanner.js';

const MAX_FINDING_OBSERVATIONS = 200;
const MAX_LISTED_SKIPS = 50;

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

    let refs: Awaited<ReturnType<typeof listRefs>>;
    let walk: Awaited<ReturnType<typeof walkHistory>>;
    try {
      refs = await listRefs(ctx.repoDir, { signal: ctx.signal });
      walk = await walkHistory(ctx.repoDir, { signal: ctx.signal });
    } catch (error) {
      return {
        status: 'error',
        summary: `could not walk the git history of ${ctx.repoDir}: ${String(error)}`,
        observations,
      };
    }
    observations.push({
      probe: 'git for-each-ref',
      actual: { refs: refs.length, names: refs.slice(0, 100).map((ref) => ref.name) },
      note: `history walked from ${refs.length} refs (branches, tags, remote-tracking refs, stash)`,
    });

    const findings: HistoryFinding[] = [];
    // 1. .env-like files, ever added on any ref, even if later deleted or renamed.
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

    // 2. Every unique blob, once.
    const origins = new Map<string, BlobIntroduction | undefined>(walk.blobs);
    if (params.include_unreachable) {
      try {
        for (const blob of await listUnreachableBlobs(ctx.repoDir, { signal: ctx.signal })) {
          if (!origins.has(blob)) origins.set(blob, undefined);
        }
      } catch (error) {
        return { status: 'error', summary: `git fsck --unreachable failed: ${String(error)}`, observations };
      }
    }
    let binaryBlobs = 0;
    const largeBlobs: Observation[] = [];
    let totals: { blobs: number; bytes: number };
    try {
      totals = await readBlobs(
        ctx.repoDir,
        origins.keys(),
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
            findings.push({
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
    } catch (error) {
      return { status: 'error', summary: `could not read blobs: ${String(error)}`, observations };
    }
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
          ...(finding.commit === 'unreachable' ? {} : { commit: finding.commit }),
        },
      });
    }
    // Open findings first, so the cap never drops one in favour of an accepted one.
    findingObservations.sort((left, right) => Number(left.ok) - Number(right.ok));
    observations.push(...findingObservations.slice(0, MAX_FINDING_OBSERVATIONS));
    if (findingObservations.length > MAX_FINDING_OBSERVATIONS) {
      observations.push({
        probe: 'findings not listed',
        ok: open <= MAX_FINDING_OBSERVATIONS,
        note: `${findingObservations.length - MAX_FINDING_OBSERVATIONS} further findings omitted`,
      });
    }

    const accepted = findings.length - open;
    if (open > 0) {
      const first = findingObservations[0]?.note ?? '';
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
