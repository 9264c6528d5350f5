import { z } from 'zod';
import { defineCheck, type Observation } from '../../src/engine/types.js';
import { BlobIdQueue, type BlobIntroduction } from '../../src/probes/git-history.js';
import { isEnvFile } from '../../src/secrets/assignments.js';
import { acceptedBy, listedFindings, loadBaselineFile } from '../../src/secrets/baseline.js';
import { type ContentScan, ContentScanner, scanContent } from '../../src/secrets/content.js';
import {
  baselineVerdict,
  groupByFingerprint,
  type Occurrence,
  placeOf,
  type SecretFinding,
} from '../../src/secrets/findings.js';
import { inScope } from '../../src/secrets/paths.js';
import { scopePathsParam } from './params.js';

/** Absent objects named one by one in the evidence; beyond that they are counted. */
const MAX_LISTED_ABSENT = 1000;
/** Other places of one secret named in its finding; beyond that they are counted. */
const MAX_LISTED_PLACES = 20;

/** The "commit" of a blob that a ref reaches without any commit (a tag on a blob or a tree). */
const NO_COMMIT = 'none';

/** A blob read, or not, with where the walk met it. */
interface BlobPlace {
  blob: string;
  commit: string;
  path: string;
}

/** Content that no scan can judge (an archive): named, and open unless the baseline accepts its blob. */
interface UnjudgedBlob extends BlobPlace {
  what: string;
  size: number;
}

/**
 * Seed 002 item 9 and the "JWT secret committed to git" pitfall: `git log
 * --all` keeps a secret forever, even after the file is deleted. Every ref
 * (branches, tags, remote-tracking refs, stash) is walked once; every unique
 * blob is read once through one `git cat-file --batch` process and scanned:
 * text as it is, UTF-16 decoded, binary content for its printable runs,
 * blobs too large to hold as a stream. Each secret is one finding, however
 * many blobs carry it.
 */
export default defineCheck({
  id: 'repo.history',
  title: 'No .env file and no secret was ever committed, on any branch, tag, remote-tracking ref or stash',
  source: 'control K3 (docs/controls.md#K3): No secret anywhere in the git history',
  docs: 'docs/controls.md#K3',
  remediation:
    'Rotate every reported secret now (deleting it from history does not un-leak it), then rewrite history with ' +
    'git filter-repo if policy requires. Accept reviewed, harmless findings in the baseline file with a reason. ' +
    'On a partial clone, fetch the absent objects (git fetch --refetch, or clone without --filter).',
  effects: 'none',
  slow: true,
  severity: 'high',
  params: z
    .object({
      baseline: z
        .string()
        .min(1)
        .optional()
        .describe("JSON baseline of accepted findings, relative to the checklist's directory"),
      include_unreachable: z
        .boolean()
        .default(false)
        .describe('also scan blobs no ref reaches (dropped stashes, amended commits); they have no commit to name'),
      max_blob_bytes: z
        .number()
        .int()
        .positive()
        .default(8 * 1024 * 1024)
        .describe('blobs above this size are not held in memory: they are scanned as a stream'),
      paths: scopePathsParam,
    })
    .strict(),
  strength: { include_unreachable: 'requirement', max_blob_bytes: 'higher' },
  async run(ctx, params) {
    const observations: Observation[] = [];
    const started = performance.now();

    const loadedBaseline = await loadBaselineFile(ctx.files, ctx.baseDir, params.baseline);
    if (loadedBaseline.observation) observations.push(loadedBaseline.observation);
    if (loadedBaseline.problem !== undefined) {
      return { status: 'error', summary: loadedBaseline.problem, observations };
    }
    const baseline = loadedBaseline.entries;
    const scope = params.paths;
    if (scope) {
      observations.push({
        probe: 'paths',
        actual: { paths: scope.map((entry) => (entry === '' ? '.' : entry)) },
        note: `history limited to ${scope.map((entry) => (entry === '' ? 'the whole repository' : `${entry}/`)).join(', ')}`,
      });
    }

    // A walk can only judge the history that is there: a shallow clone or grafts would make it pass unseen.
    // The questions go to git at once.
    const [cutoffsAsked, refsListed, partialAsked] = await Promise.allSettled([
      ctx.git.historyCutoffs(ctx.repoDir, { signal: ctx.signal }),
      ctx.git.listRefs(ctx.repoDir, { signal: ctx.signal }),
      ctx.git.isPartialClone(ctx.repoDir, { signal: ctx.signal }),
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

    if (refsListed.status === 'rejected' || partialAsked.status === 'rejected') {
      const reason =
        refsListed.status === 'rejected' ? refsListed.reason : (partialAsked as PromiseRejectedResult).reason;
      return {
        status: 'error',
        summary: `could not walk the git history of ${ctx.repoDir} (listing its refs): ${String(reason)}`,
        observations,
      };
    }
    const refs = refsListed.value;
    observations.push({
      probe: 'git for-each-ref',
      actual: { refs: refs.length, names: refs.slice(0, 100).map((ref) => ref.name) },
      note: `history walked from ${refs.length} refs (branches, tags, remote-tracking refs, stash)`,
    });

    // A partial clone lacks objects by design, and git would fetch each one it is asked for (or die trying):
    // ask only for the objects that are here, and name the others.
    let present: Set<string> | undefined;
    if (partialAsked.value) {
      try {
        present = await ctx.git.localObjects(ctx.repoDir, { signal: ctx.signal });
      } catch (error) {
        return {
          status: 'error',
          summary: `could not list the objects of a partial clone: ${String(error)}`,
          observations,
        };
      }
    }

    // Every unique blob, once, read while the walk is still finding them: the walk writes each new
    // blob id into `blobIds`, the reader sends them on to `git cat-file --batch` as they come.
    const origins = new Map<string, BlobIntroduction | undefined>();
    const absent: BlobPlace[] = [];
    let requested = 0;
    const blobIds = new BlobIdQueue();
    const request = (blob: string, origin: BlobIntroduction | undefined): void => {
      origins.set(blob, origin);
      if (present && !present.has(blob)) {
        absent.push({ blob, commit: origin?.commit ?? 'unreachable', path: origin?.path ?? '(unreachable blob)' });
        return;
      }
      requested++;
      blobIds.push(blob);
    };
    // The walk is stopped when the check is, and when reading fails (its ids would go nowhere).
    const walkStop = new AbortController();
    const stopWalk = (): void => walkStop.abort();
    const walkSignal = AbortSignal.any([ctx.signal, walkStop.signal]);
    let readFailed = false;
    let walkFailed = false;
    const walking = (async () => {
      const walk = await ctx.git.walkHistory(ctx.repoDir, {
        signal: walkSignal,
        onNewBlob: request,
        ...(scope ? { inScope: (path: string) => inScope(scope, path) } : {}),
      });
      // Blobs a ref reaches without any commit (a tag on a blob or a tree): no commit walk sees them. They
      // have no path in the repository, so a path scope cannot leave them out.
      let refOnly: Awaited<ReturnType<typeof ctx.git.blobsBehindRefs>>;
      try {
        refOnly = await ctx.git.blobsBehindRefs(ctx.repoDir, refs, { signal: walkSignal });
      } catch (error) {
        throw new Error(`could not read what the non-commit refs name: ${String(error)}`);
      }
      for (const { blob, ref, path } of refOnly) {
        if (origins.has(blob)) continue;
        request(blob, { commit: NO_COMMIT, path: path === '' ? `(blob tagged by ${ref})` : `${ref}:${path}` });
      }
      if (params.include_unreachable) {
        let unreachable: string[];
        try {
          unreachable = await ctx.git.listUnreachableBlobs(ctx.repoDir, { signal: walkSignal });
        } catch (error) {
          throw new Error(`git fsck --unreachable failed: ${String(error)}`);
        }
        for (const blob of unreachable) if (!origins.has(blob)) request(blob, undefined);
      }
      blobIds.end();
      return walk;
    })();
    // A failed walk ends the id stream with its error, which stops the reader too.
    walking.catch((error: unknown) => {
      if (!readFailed) walkFailed = true;
      blobIds.fail(error);
    });

    const placeOfBlob = (blob: string): BlobPlace => {
      const origin = origins.get(blob);
      return {
        blob,
        commit: origin?.commit ?? 'unreachable',
        path: origin?.path ?? `(unreachable blob ${blob.slice(0, 12)})`,
      };
    };
    const found: { fingerprint: string; length: number; occurrence: Occurrence }[] = [];
    const unjudged: UnjudgedBlob[] = [];
    const kinds = { decoded_text: 0, binary: 0, streamed: 0 };
    const record = (blob: string, size: number, scan: ContentScan): void => {
      if (scan.kind === 'binary') kinds.binary++;
      else if (scan.kind !== 'text') kinds.decoded_text++;
      // The common case, a text blob without findings, allocates nothing here.
      if (scan.unjudged === undefined && scan.matches.length === 0) return;
      const place = placeOfBlob(blob);
      if (scan.unjudged !== undefined) unjudged.push({ ...place, what: scan.unjudged, size });
      for (const match of scan.matches) {
        const { length, sha256 } = ctx.secrets.fingerprint(match.value);
        const position = scan.kind === 'binary' ? { offset: match.offset } : { line: match.line };
        found.push({ fingerprint: sha256, length, occurrence: { rule: match.ruleId, ...place, ...position } });
      }
    };
    // Blobs too large to hold are scanned as they stream past, one bounded window at a time.
    const streaming = new Map<string, ContentScanner>();
    const reading = ctx.git.readBlobs(
      ctx.repoDir,
      blobIds,
      {
        maxBlobBytes: params.max_blob_bytes,
        signal: ctx.signal,
        onLargeBlob: (sha) => {
          const scanner = new ContentScanner(origins.get(sha)?.path);
          streaming.set(sha, scanner);
          return (piece) => scanner.push(piece);
        },
      },
      (blob) => {
        if (blob.kind === 'missing') {
          absent.push(placeOfBlob(blob.sha));
          return;
        }
        if (blob.kind === 'too-large') {
          const scanner = streaming.get(blob.sha);
          streaming.delete(blob.sha);
          if (!scanner) throw new Error(`blob ${blob.sha} was read without being scanned`);
          kinds.streamed++;
          record(blob.sha, blob.size, scanner.end());
          return;
        }
        // The path only matters to rules that allow some paths (example files); unreachable blobs have none.
        record(blob.sha, blob.size, scanContent(blob.content, origins.get(blob.sha)?.path));
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
    const missingFromStore = absent.length - (origins.size - requested);
    // Every id sent must have come back, as a blob or as missing: fewer would mean content never scanned.
    if (totals.blobs + missingFromStore !== requested) {
      return {
        status: 'error',
        summary: `git cat-file answered ${totals.blobs} of ${requested} blobs the walk found: the history was not fully read`,
        observations,
      };
    }

    const seconds = (performance.now() - started) / 1000;
    observations.push({
      probe: 'git log --all --raw + git cat-file --batch',
      actual: {
        commits: walk.commits,
        unique_blobs: origins.size,
        scanned_blobs: totals.blobs,
        scanned_bytes: totals.bytes,
        decoded_text_blobs: kinds.decoded_text,
        binary_blobs_scanned_for_printable_runs: kinds.binary,
        large_blobs_streamed: kinds.streamed,
        unjudged_blobs: unjudged.length,
        absent_blobs: absent.length,
        seconds: Math.round(seconds * 1000) / 1000,
      },
      note: `scanned ${totals.blobs} of ${origins.size} unique blobs from ${walk.commits} commits`,
    });

    const findings: SecretFinding[] = groupByFingerprint(found);
    // Where HEAD still holds each blob, within the scope: the same content elsewhere is another service's.
    const headPaths = new Map<string, string[]>();
    try {
      const head =
        findings.length > 0
          ? await ctx.git.headBlobs(ctx.repoDir, { signal: ctx.signal })
          : new Map<string, string[]>();
      for (const [blob, paths] of head) {
        const scoped = paths.filter((path) => inScope(scope, path));
        if (scoped.length > 0) headPaths.set(blob, scoped);
      }
    } catch (error) {
      return { status: 'error', summary: `could not list HEAD's files: ${String(error)}`, observations };
    }

    let open = 0;
    const findingObservations: Observation[] = [];
    // .env-like files, ever added on any ref, even if later deleted or renamed.
    for (const introduced of walk.paths.values()) {
      if (!isEnvFile(introduced.path)) continue;
      // The blob id identifies the committed file content, so a baseline entry can accept it.
      const identity = { fingerprint: introduced.blob.slice(0, 12), rule: 'env-file-committed', path: introduced.path };
      const accepted = acceptedBy(baseline, identity);
      if (!accepted) open++;
      const what = `.env file ${introduced.path} committed in ${introduced.commit}`;
      findingObservations.push({
        probe: `git history blob ${introduced.blob.slice(0, 12)}`,
        expected: 'no .env file in any commit',
        actual: {
          rule: identity.rule,
          commit: introduced.commit,
          path: introduced.path,
          fingerprint: identity.fingerprint,
        },
        ok: accepted !== undefined,
        note: accepted ? `baselined: ${accepted.reason} (${what})` : what,
        location: { path: introduced.path, commit: introduced.commit },
      });
    }
    for (const finding of findings) {
      const observation = secretObservation(finding, headPaths, baselineVerdict(baseline, finding));
      if (!observation.ok) open++;
      findingObservations.push(observation);
    }
    let openUnjudged = 0;
    for (const blob of unjudged) {
      const accepted = acceptedBy(baseline, { fingerprint: blob.blob, rule: 'unjudged-content', path: blob.path });
      if (!accepted) openUnjudged++;
      const what = `${blob.what}, ${blob.size} bytes, at ${whereBlob(blob)}: no scan can see into it`;
      findingObservations.push({
        probe: `git history blob ${blob.blob.slice(0, 12)}`,
        expected: 'content a scan can judge',
        actual: { rule: 'unjudged-content', blob: blob.blob, path: blob.path, commit: blob.commit, size: blob.size },
        ok: accepted !== undefined,
        note: accepted ? `baselined: ${accepted.reason} (${what})` : `not judged: ${what}`,
        location: { path: blob.path, ...(hasCommit(blob.commit) ? { commit: blob.commit } : {}) },
      });
    }
    observations.push(...listedFindings(findingObservations, open + openUnjudged));

    let absentRefs: Map<string, string | undefined>;
    try {
      absentRefs = await ctx.git.refsReaching(ctx.repoDir, absent.map((place) => place.commit).filter(hasCommit), {
        signal: ctx.signal,
      });
    } catch (error) {
      absentRefs = new Map();
      observations.push({ probe: 'git name-rev', ok: false, note: `could not name the refs: ${String(error)}` });
    }
    observations.push(...absentObservations(absent, absentRefs));

    const accepted = findingObservations.filter((observation) => observation.ok).length;
    const baselinedNote = accepted > 0 ? ` (${accepted} baselined)` : '';
    const notRead = [
      ...(absent.length > 0 ? [`${absent.length} absent blob${absent.length === 1 ? '' : 's'} not read`] : []),
      ...(openUnjudged > 0 ? [`${openUnjudged} blob${openUnjudged === 1 ? '' : 's'} not judged`] : []),
    ];
    if (open > 0) {
      const first = findingObservations.find((observation) => !observation.ok)?.note ?? '';
      return {
        status: 'fail',
        summary:
          `${open} secret finding${open === 1 ? '' : 's'} in git history${baselinedNote}` +
          `${notRead.length > 0 ? `, and ${notRead.join(', ')}` : ''}, first: ${first}`,
        observations,
      };
    }
    if (notRead.length > 0) {
      return {
        status: 'error',
        summary: `cannot judge the whole history of ${ctx.repoDir}: ${notRead.join('; ')}${baselinedNote}. ${describeNotRead(absent, absentRefs, unjudged)}`,
        observations,
      };
    }
    return {
      status: 'pass',
      summary: `no open findings in ${totals.blobs} blobs of ${walk.commits} commits across ${refs.length} refs${baselinedNote}`,
      observations,
    };
  },
});

function hasCommit(commit: string): boolean {
  return commit !== NO_COMMIT && commit !== 'unreachable';
}

function whereBlob(place: BlobPlace): string {
  if (place.commit === NO_COMMIT) return `${place.path}, reachable from a ref without any commit`;
  if (place.commit === 'unreachable') return place.path;
  return `${place.path} @ ${place.commit.slice(0, 12)}`;
}

/** One finding per secret: where it was introduced, where else it appears, and whether HEAD still has it. */
function secretObservation(
  finding: SecretFinding,
  headPaths: ReadonlyMap<string, string[]>,
  verdict: ReturnType<typeof baselineVerdict>,
): Observation {
  const [introduced, ...elsewhere] = finding.occurrences;
  if (!introduced) throw new Error('a finding without an occurrence');
  const inHead = [
    ...new Set(finding.occurrences.flatMap((occurrence) => headPaths.get(occurrence.blob ?? '') ?? [])),
  ].sort();
  const where = placeOf(introduced);
  const commit = introduced.commit ?? 'unreachable';
  const origin =
    commit === NO_COMMIT
      ? `${introduced.rule} in ${where}, reachable from a ref without any commit`
      : `${introduced.rule} in ${where} introduced by commit ${commit}`;
  const what =
    origin +
    (elsewhere.length > 0 ? `; also in ${elsewhere.length} other place${elsewhere.length === 1 ? '' : 's'}` : '') +
    (inHead.length > 0 ? `; still in HEAD (${inHead.slice(0, 3).join(', ')})` : '; not in HEAD');
  const describe = (occurrence: Occurrence) => ({
    rule: occurrence.rule,
    commit: occurrence.commit ?? 'unreachable',
    path: occurrence.path,
    ...(occurrence.alsoMatchedBy ? { also_matched_by: occurrence.alsoMatchedBy } : {}),
    ...(occurrence.line === undefined ? {} : { line: occurrence.line }),
    ...(occurrence.offset === undefined ? {} : { byte_offset: occurrence.offset }),
  });
  return {
    probe: `git history secret ${finding.fingerprint}`,
    expected: 'no secret in any committed blob',
    actual: {
      rule: introduced.rule,
      fingerprint: finding.fingerprint,
      length: finding.length,
      // Kept flat too: baselines and reviewers read `commit` and `path` of the introduction.
      commit,
      path: introduced.path,
      introduced: describe(introduced),
      occurrences: finding.occurrences.length,
      also_in: elsewhere.slice(0, MAX_LISTED_PLACES).map(describe),
      ...(elsewhere.length > MAX_LISTED_PLACES ? { also_in_not_listed: elsewhere.length - MAX_LISTED_PLACES } : {}),
      in_head: inHead.length > 0,
      head_paths: inHead.slice(0, MAX_LISTED_PLACES),
      ...(verdict.acceptedOccurrences > 0 && !verdict.accepted
        ? { baselined_occurrences: verdict.acceptedOccurrences }
        : {}),
    },
    ok: verdict.accepted !== undefined,
    note: verdict.accepted ? `baselined: ${verdict.accepted.reason} (${what})` : what,
    location: {
      path: introduced.path,
      ...(introduced.line === undefined ? {} : { line: introduced.line }),
      ...(hasCommit(commit) ? { commit } : {}),
    },
  };
}

/** Every absent blob, with its path, the commit that introduced it and a ref that reaches that commit. */
function absentObservations(
  absent: readonly BlobPlace[],
  refs: ReadonlyMap<string, string | undefined>,
): Observation[] {
  if (absent.length === 0) return [];
  const listed = absent.slice(0, MAX_LISTED_ABSENT).map((place) => ({
    blob: place.blob,
    path: place.path,
    commit: place.commit,
    ref: refs.get(place.commit) ?? null,
  }));
  return [
    {
      probe: 'git cat-file --batch (absent objects)',
      expected: 'every blob of the history in the object store',
      actual: {
        absent: absent.length,
        blobs: listed,
        ...(absent.length > MAX_LISTED_ABSENT ? { not_listed: absent.length - MAX_LISTED_ABSENT } : {}),
      },
      ok: false,
      note: `${absent.length} blob${absent.length === 1 ? ' is' : 's are'} absent from the object store (a partial clone, or a damaged one) and could not be scanned`,
    },
  ];
}

function describeNotRead(
  absent: readonly BlobPlace[],
  refs: ReadonlyMap<string, string | undefined>,
  unjudged: readonly UnjudgedBlob[],
): string {
  const parts: string[] = [];
  if (absent.length > 0) {
    const named = absent
      .slice(0, 3)
      .map((place) => `${place.blob} (${place.path}, reached by ${refs.get(place.commit) ?? place.commit})`);
    parts.push(
      `Absent from the object store: ${named.join(', ')}${absent.length > 3 ? ` and ${absent.length - 3} more` : ''}; fetch them (git fetch --refetch, or clone without --filter).`,
    );
  }
  if (unjudged.length > 0) {
    parts.push(
      `Not judged: ${unjudged
        .slice(0, 3)
        .map((blob) => `${blob.path} (${blob.what})`)
        .join(', ')}.`,
    );
  }
  return parts.join(' ');
}
