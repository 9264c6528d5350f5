import { z } from 'zod';
import { type CheckOutcome, defineCheck, type Observation } from '../../src/engine/types.js';
import {
  type AbsentBlob,
  type BlobPlace,
  type HistorySeen,
  hasCommit,
  NO_COMMIT,
  UNREACHABLE,
  type UnjudgedBlob,
} from '../../src/probes/history-scan.js';
import { isEnvFile } from '../../src/secrets/assignments.js';
import { acceptedBy, type BaselineEntry, listedFindings, loadBaselineFile } from '../../src/secrets/baseline.js';
import { baselineVerdict, type Occurrence, placeOf, type SecretFinding } from '../../src/secrets/findings.js';
import { scopePathsParam, secretNamesParam } from './params.js';

/** Absent objects named one by one in the evidence; beyond that they are counted. */
const MAX_LISTED_ABSENT = 1000;
/** Other places of one secret named in its finding; beyond that they are counted. */
const MAX_LISTED_PLACES = 20;

export const historyParams = z
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
    names: secretNamesParam(
      'secret variable names: no committed file, commit message or tag message may ever have assigned them a value, judged as ' +
        'repo.committed-secrets judges it (placeholders in .env.example excepted), whatever its length',
    ),
  })
  .strict();
export type HistoryParams = z.output<typeof historyParams>;

/**
 * Seed 002 item 9 and the "JWT secret committed to git" pitfall: `git log
 * --all` keeps a secret forever, even after the file is deleted. Every ref
 * (branches, tags, remote-tracking refs, stash) and every stash entry is
 * walked once; every unique blob is read once and scanned, and so is every
 * commit's and annotated tag's message (ctx.git.scanHistory,
 * src/probes/history-scan.ts). Each secret is one finding, however many
 * blobs carry it.
 */
export default defineCheck({
  id: 'repo.history',
  title:
    'No .env file and no secret was ever committed (in a file or a commit or tag message), on any branch, tag, ' +
    'remote-tracking ref or stash entry',
  source: 'control K3 (docs/controls.md#K3): No secret anywhere in the git history',
  docs: 'docs/controls.md#K3',
  remediation:
    'Rotate every reported secret now (deleting it from history does not un-leak it), then rewrite history with ' +
    'git filter-repo if policy requires. Accept reviewed, harmless findings in the baseline file with a reason. ' +
    'On a partial clone, fetch the absent objects (git fetch --refetch, or clone without --filter).',
  effects: 'none',
  slow: true,
  severity: 'high',
  params: historyParams,
  strength: { include_unreachable: 'requirement', max_blob_bytes: 'higher', names: 'verified' },
  async run(ctx, params) {
    const loadedBaseline = await loadBaselineFile(ctx.files, ctx.baseDir, params.baseline);
    const before = loadedBaseline.observation ? [loadedBaseline.observation] : [];
    if (loadedBaseline.problem !== undefined) {
      return { status: 'error', summary: loadedBaseline.problem, observations: before };
    }
    const seen = await ctx.git.scanHistory(ctx.repoDir, {
      paths: params.paths,
      includeUnreachable: params.include_unreachable,
      maxBlobBytes: params.max_blob_bytes,
      names: params.names,
      signal: ctx.signal,
    });
    const outcome = judgeHistory(seen, params, loadedBaseline.entries);
    return { ...outcome, observations: [...before, ...outcome.observations] };
  },
});

/**
 * The verdict on a scanned history. Pure: what the scan saw, the parameters and
 * the baseline's entries are its inputs. Anything not read or not judged is an
 * error, never a pass; an open finding fails even then.
 */
export function judgeHistory(
  seen: HistorySeen,
  params: Pick<HistoryParams, 'paths'>,
  baseline: readonly BaselineEntry[],
): CheckOutcome {
  const observations: Observation[] = [];
  const { repoDir } = seen;
  const scope = params.paths;
  if (scope) {
    observations.push({
      probe: 'paths',
      actual: { paths: scope.map((entry) => (entry === '' ? '.' : entry)) },
      note: `history limited to ${scope.map((entry) => (entry === '' ? 'the whole repository' : `${entry}/`)).join(', ')}`,
    });
  }
  const error = (summary: string): CheckOutcome => ({ status: 'error', summary, observations });
  const failure = seen.failure;
  const cutoffs = seen.cutoffs;
  if (failure?.step === 'cutoffs' || cutoffs === undefined) {
    return error(
      `could not walk the git history of ${repoDir} (checking it is complete): ${failure?.reason ?? 'not asked'}`,
    );
  }
  if (cutoffs.length > 0) {
    observations.push({
      probe: 'git rev-parse --is-shallow-repository; info/grafts',
      expected: 'the whole history, as stored',
      actual: { cutoffs },
      ok: false,
      note: `the history is incomplete: ${cutoffs.join('; ')}`,
    });
    return error(
      `cannot judge the history of ${repoDir}: it is ${cutoffs.join('; and ')}. ` +
        'Fetch the whole history (git fetch --unshallow; in GitHub Actions, actions/checkout with fetch-depth: 0) or remove the grafts.',
    );
  }
  const refs = seen.refs;
  if (failure?.step === 'refs' || refs === undefined) {
    return error(`could not walk the git history of ${repoDir} (listing its refs): ${failure?.reason ?? 'not listed'}`);
  }
  const stash = seen.stashEntries ?? 0;
  // stash@{0} is refs/stash itself; the older entries only its reflog holds, and they are walked too.
  const stashNote = stash > 0 ? ` and ${stash} stash entr${stash === 1 ? 'y' : 'ies'}` : '';
  observations.push({
    probe: 'git for-each-ref; git rev-list --walk-reflogs refs/stash',
    actual: { refs: refs.length, names: refs.slice(0, 100), stash_entries: stash },
    note: `history walked from ${refs.length} refs (branches, tags, remote-tracking refs, stash)${stashNote}`,
  });
  if (failure?.step === 'partial-clone') {
    return error(`could not list the objects of a partial clone: ${failure.reason}`);
  }
  if (failure?.step === 'walk') return error(`could not walk the git history of ${repoDir}: ${failure.reason}`);
  if (failure?.step === 'read') return error(`could not read blobs: ${failure.reason}`);
  const totals = seen.totals;
  if (totals === undefined)
    return error(`could not walk the git history of ${repoDir}: ${failure?.reason ?? 'no totals'}`);
  // Every id sent must have come back, as a blob or as missing: fewer would mean content never scanned.
  if (totals.scannedBlobs + totals.missingFromStore !== totals.requested) {
    return error(
      `git cat-file answered ${totals.scannedBlobs} of ${totals.requested} blobs the walk found: the history was not fully read`,
    );
  }
  const { absent, unjudged, findings } = seen;
  observations.push({
    probe: 'git log --all --raw + git cat-file --batch',
    actual: {
      commits: totals.commits,
      commit_messages_scanned: totals.commits,
      tag_messages_scanned: totals.tagMessages,
      unique_blobs: totals.uniqueBlobs,
      scanned_blobs: totals.scannedBlobs,
      scanned_bytes: totals.scannedBytes,
      decoded_text_blobs: totals.decodedTextBlobs,
      binary_blobs_scanned_for_printable_runs: totals.binaryBlobs,
      large_blobs_streamed: totals.streamedBlobs,
      lfs_pointers: totals.lfsPointers,
      lfs_objects_scanned: totals.lfsObjectsScanned,
      unjudged_blobs: unjudged.length,
      absent_blobs: absent.length,
      seconds: Math.round(totals.seconds * 1000) / 1000,
    },
    note: `scanned ${totals.scannedBlobs} of ${totals.uniqueBlobs} unique blobs from ${totals.commits} commits`,
  });
  if (failure?.step === 'head') return error(`could not list HEAD's files: ${failure.reason}`);
  // A step added to the scan later and not named above: whatever it is, the scan did not finish.
  if (failure !== undefined)
    return error(`could not scan the git history of ${repoDir} (${failure.step}): ${failure.reason}`);

  let open = 0;
  const findingObservations: Observation[] = [];
  // .env-like files, ever added on any ref, even if later deleted or renamed.
  for (const introduced of seen.paths) {
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
    const observation = secretObservation(finding, seen.headPaths, baselineVerdict(baseline, finding));
    if (!observation.ok) open++;
    findingObservations.push(observation);
  }
  let openUnjudged = 0;
  for (const blob of unjudged) {
    const accepted = acceptedBy(baseline, { fingerprint: blob.blob, rule: 'unjudged-content', path: blob.path });
    if (!accepted) openUnjudged++;
    // An LFS pointer's `what` says itself why its content was not seen, and what to do.
    const what = blob.lfs
      ? `${whereBlob(blob)} is ${blob.what}`
      : `${blob.what}, ${blob.size} bytes, at ${whereBlob(blob)}: no scan can see into it`;
    findingObservations.push({
      probe: `git history blob ${blob.blob.slice(0, 12)}`,
      expected: 'content a scan can judge',
      actual: {
        rule: 'unjudged-content',
        blob: blob.blob,
        path: blob.path,
        commit: blob.commit,
        size: blob.size,
        ...(blob.lfs ? { lfs_oid: blob.lfs.oid, lfs_size: blob.lfs.size } : {}),
      },
      ok: accepted !== undefined,
      note: accepted ? `baselined: ${accepted.reason} (${what})` : `not judged: ${what}`,
      location: { path: blob.path, ...(hasCommit(blob.commit) ? { commit: blob.commit } : {}) },
    });
  }
  observations.push(...listedFindings(findingObservations, open + openUnjudged));
  if (seen.refNamingError !== undefined) {
    observations.push({ probe: 'git name-rev', ok: false, note: `could not name the refs: ${seen.refNamingError}` });
  }
  observations.push(...absentObservations(absent));

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
    return error(
      `cannot judge the whole history of ${repoDir}: ${notRead.join('; ')}${baselinedNote}. ${describeNotRead(absent, unjudged)}`,
    );
  }
  return {
    status: 'pass',
    summary:
      `no open findings in ${totals.scannedBlobs} blobs and ${totals.commits} commit messages` +
      (totals.tagMessages > 0 ? ` and ${totals.tagMessages} tag message${totals.tagMessages === 1 ? '' : 's'}` : '') +
      ` of ${totals.commits} commits across ${refs.length} refs${stashNote}${baselinedNote}`,
    observations,
  };
}

function whereBlob(place: BlobPlace): string {
  if (place.commit === NO_COMMIT) return `${place.path}, reachable from a ref without any commit`;
  if (!hasCommit(place.commit)) return place.path;
  return `${place.path} @ ${place.commit.slice(0, 12)}`;
}

/** One finding per secret: where it was introduced, where else it appears, and whether HEAD still has it. */
function secretObservation(
  finding: SecretFinding,
  headPaths: ReadonlyMap<string, readonly string[]>,
  verdict: ReturnType<typeof baselineVerdict>,
): Observation {
  const [introduced, ...elsewhere] = finding.occurrences;
  if (!introduced) throw new Error('a finding without an occurrence');
  const inHead = [
    ...new Set(finding.occurrences.flatMap((occurrence) => headPaths.get(occurrence.blob ?? '') ?? [])),
  ].sort();
  const commit = introduced.commit ?? UNREACHABLE;
  // HEAD holds files, not messages: for a secret found in messages only, whether HEAD holds it means nothing.
  const inFiles = finding.occurrences.some((occurrence) => occurrence.message === undefined);
  const what =
    originOf(introduced, commit) +
    (elsewhere.length > 0 ? `; also in ${elsewhere.length} other place${elsewhere.length === 1 ? '' : 's'}` : '') +
    (inHead.length > 0 ? `; still in HEAD (${inHead.slice(0, 3).join(', ')})` : inFiles ? '; not in HEAD' : '');
  const describe = (occurrence: Occurrence) => ({
    rule: occurrence.rule,
    ...(occurrence.name === undefined ? {} : { name: occurrence.name }),
    commit: occurrence.commit ?? UNREACHABLE,
    path: occurrence.path,
    ...(occurrence.tag ? { tag_object: occurrence.tag.object, tag_ref: occurrence.tag.ref } : {}),
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
    // A message is in no file: a location would send SARIF readers and annotations to a path that does not exist.
    ...(introduced.message
      ? {}
      : {
          location: {
            path: introduced.path,
            ...(introduced.line === undefined ? {} : { line: introduced.line }),
            ...(hasCommit(commit) ? { commit } : {}),
          },
        }),
  };
}

/** Where a secret was introduced: a file of a commit, a commit's or a tag's message, or a blob no commit holds. */
function originOf(introduced: Occurrence, commit: string): string {
  const where = placeOf(introduced);
  // A named secret's rule says which variable: `named-secret-value POSTGRES_PASSWORD in compose.yml:5 …`.
  const rule = introduced.name === undefined ? introduced.rule : `${introduced.rule} ${introduced.name}`;
  if (introduced.message === 'commit') return `${rule} in ${where} of commit ${commit}`;
  if (introduced.message === 'tag') {
    const tag = introduced.tag;
    return `${rule} in ${where} of ${tag ? `${tag.ref} (tag object ${tag.object})` : 'an annotated tag'}`;
  }
  if (commit === NO_COMMIT) return `${rule} in ${where}, reachable from a ref without any commit`;
  return `${rule} in ${where} introduced by commit ${commit}`;
}

/** Every absent blob, with its path, the commit that introduced it and a ref that reaches that commit. */
function absentObservations(absent: readonly AbsentBlob[]): Observation[] {
  if (absent.length === 0) return [];
  const listed = absent.slice(0, MAX_LISTED_ABSENT).map((place) => ({
    blob: place.blob,
    path: place.path,
    commit: place.commit,
    ref: place.ref ?? null,
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

function describeNotRead(absent: readonly AbsentBlob[], unjudged: readonly UnjudgedBlob[]): string {
  const parts: string[] = [];
  if (absent.length > 0) {
    const named = absent
      .slice(0, 3)
      .map((place) => `${place.blob} (${place.path}, reached by ${place.ref ?? place.commit})`);
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
