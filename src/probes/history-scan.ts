/**
 * The history scan repo.history judges: every ref walked once, every unique
 * blob read once through one `git cat-file --batch` process and scanned (text
 * as it is, UTF-16 decoded, binary content for its printable runs, blobs too
 * large to hold as a stream). It returns what it saw, a `HistorySeen`, and
 * decides nothing: the check's pure `judgeHistory` turns that into pass, fail
 * or error, so its verdicts can be tested from sample observations without a
 * repository. Checks reach it as `ctx.git.scanHistory`.
 */
import { createCheckFiles } from '../engine/context-io.js';
import type { BlobPlace, HistoryScanOptions, HistorySeen, HistoryStep } from '../engine/observations.js';
import { fingerprintSecret } from '../engine/secrets.js';
import { type ContentScan, ContentScanner, scanContent } from '../secrets/content.js';
import { groupByFingerprint, type Occurrence } from '../secrets/findings.js';
import { LFS_POINTER_MAX_BYTES, type LfsPointer, parseLfsPointer, scanLfsObject } from '../secrets/lfs.js';
import {
  decodedText,
  NAMED_SECRET_MARKER,
  NAMED_SECRET_RULE,
  namedSecretFindings,
  namedSecretRules,
  unacceptedAssignments,
} from '../secrets/named-secrets.js';
import { COMMIT_MESSAGE, inScope, TAG_MESSAGE } from '../secrets/paths.js';
import { type SecretMatch, scanText } from '../secrets/scanner.js';
import {
  blobsBehindRefs,
  gitCommonDir,
  headBlobs,
  historyCutoffs,
  isPartialClone,
  listRefs,
  listUnreachableBlobs,
  localObjects,
  type RefOnlyBlob,
  refsReaching,
  stashEntries,
  type TagMessage,
  tagMessages,
} from './git.js';
import { BlobIdQueue, type BlobIntroduction, readBlobs, walkHistory } from './git-history.js';

// The contract owns these types (src/engine/observations.ts); re-exported for this module's importers.
export type {
  AbsentBlob,
  BlobPlace,
  HistoryScanOptions,
  HistorySeen,
  HistoryStep,
  HistoryTotals,
  UnjudgedBlob,
} from '../engine/observations.js';

/** The "commit" of a blob that a ref reaches without any commit (a tag on a blob or a tree). */
export const NO_COMMIT = 'none';
/** The "commit" of a blob no ref reaches (include_unreachable): there is none to name. */
export const UNREACHABLE = 'unreachable';
/** The "path" of a secret in a commit's message, or an annotated tag's: it lies in no file (src/secrets/paths.ts). */
export { COMMIT_MESSAGE, TAG_MESSAGE } from '../secrets/paths.js';

export async function scanHistory(repoDir: string, options: HistoryScanOptions): Promise<HistorySeen> {
  const { signal } = options;
  const scope = options.paths;
  const started = performance.now();
  // The names are keywords of the one prefilter pass: a blob without any costs nothing more. Every scan below
  // uses this one rule list, so that the prefilter is built once; text blobs held whole heed its marker, and
  // every other scan (streamed, binary, decoded) looks for the names itself (ContentScan.assignments).
  const names = options.names ?? [];
  const rules = namedSecretRules(names);
  const seen: HistorySeen = { repoDir, paths: [], findings: [], headPaths: new Map(), unjudged: [], absent: [] };
  const failed = (step: HistoryStep, reason: unknown): HistorySeen => {
    seen.failure = { step, reason: String(reason) };
    return seen;
  };

  // A walk can only judge the history that is there: a shallow clone or grafts would make it pass unseen.
  // The questions go to git at once.
  const [cutoffsAsked, refsListed, partialAsked, stashListed] = await Promise.allSettled([
    historyCutoffs(repoDir, { signal }),
    listRefs(repoDir, { signal }),
    isPartialClone(repoDir, { signal }),
    stashEntries(repoDir, { signal }),
  ]);
  if (cutoffsAsked.status === 'rejected') return failed('cutoffs', cutoffsAsked.reason);
  seen.cutoffs = cutoffsAsked.value;
  if (seen.cutoffs.length > 0) return seen;
  if (refsListed.status === 'rejected') return failed('refs', refsListed.reason);
  if (partialAsked.status === 'rejected') return failed('refs', partialAsked.reason);
  if (stashListed.status === 'rejected') return failed('refs', stashListed.reason);
  const refs = refsListed.value;
  seen.refs = refs.map((ref) => ref.name);
  const stash = stashListed.value;
  seen.stashEntries = stash.length;
  seen.partialClone = partialAsked.value;

  // A partial clone lacks objects by design, and git would fetch each one it is asked for (or die trying):
  // ask only for the objects that are here, and name the others.
  let present: Set<string> | undefined;
  if (partialAsked.value) {
    try {
      present = await localObjects(repoDir, { signal });
    } catch (error) {
      return failed('partial-clone', error);
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
      absent.push({ blob, commit: origin?.commit ?? UNREACHABLE, path: origin?.path ?? '(unreachable blob)' });
      return;
    }
    requested++;
    blobIds.push(blob);
  };
  // The walk is stopped when the scan is, and when reading fails (its ids would go nowhere).
  const walkStop = new AbortController();
  const stopWalk = (): void => walkStop.abort();
  const walkSignal = AbortSignal.any([signal, walkStop.signal]);
  let readFailed = false;
  let walkFailed = false;
  // Messages lie in no file: a path scope cannot leave them out. Their findings come after the blobs' (below).
  const inMessages: { fingerprint: string; length: number; occurrence: Occurrence }[] = [];
  const recordMessage = (
    message: string,
    matches: readonly SecretMatch[],
    place: Omit<Occurrence, 'rule' | 'line'> & { path: string },
  ): void => {
    let named = false;
    for (const match of matches) {
      if (match.ruleId === NAMED_SECRET_MARKER) {
        named = true;
        continue;
      }
      const { length, sha256 } = fingerprintSecret(match.value);
      inMessages.push({ fingerprint: sha256, length, occurrence: { rule: match.ruleId, ...place, line: match.line } });
    }
    // A name in a message: its values judged as in a documentation file (a sentence going on is prose).
    if (!named || names.length === 0) return;
    for (const assignment of namedSecretFindings(message, names, place.path)) {
      const { length, sha256 } = fingerprintSecret(assignment.value);
      inMessages.push({
        fingerprint: sha256,
        length,
        occurrence: { rule: NAMED_SECRET_RULE, name: assignment.name, ...place, line: assignment.line },
      });
    }
  };
  // The annotated tags' messages are read while the commits are walked.
  const tagsReading = tagMessages(repoDir, refs, { signal: walkSignal });
  tagsReading.catch(() => {});
  const walking = (async () => {
    const walk = await walkHistory(repoDir, {
      signal: walkSignal,
      onNewBlob: request,
      starts: stash,
      onMessage: (commit, message) => {
        const matches = scanText(message, rules, COMMIT_MESSAGE);
        if (matches.length > 0) recordMessage(message, matches, { path: COMMIT_MESSAGE, message: 'commit', commit });
      },
      ...(scope ? { inScope: (path: string) => inScope(scope, path) } : {}),
    });
    let tags: TagMessage[];
    try {
      tags = await tagsReading;
    } catch (error) {
      throw new Error(`could not read the annotated tags' messages: ${String(error)}`);
    }
    for (const tag of tags) {
      const matches = scanText(tag.message, rules, TAG_MESSAGE);
      if (matches.length > 0)
        recordMessage(tag.message, matches, {
          path: TAG_MESSAGE,
          message: 'tag',
          commit: NO_COMMIT,
          tag: { object: tag.object, ref: tag.ref },
        });
    }
    // Blobs a ref reaches without any commit (a tag on a blob or a tree): no commit walk sees them. They
    // have no path in the repository, so a path scope cannot leave them out.
    let refOnly: RefOnlyBlob[];
    try {
      refOnly = await blobsBehindRefs(repoDir, refs, { signal: walkSignal });
    } catch (error) {
      throw new Error(`could not read what the non-commit refs name: ${String(error)}`);
    }
    for (const { blob, ref, path } of refOnly) {
      if (origins.has(blob)) continue;
      request(blob, { commit: NO_COMMIT, path: path === '' ? `(blob tagged by ${ref})` : `${ref}:${path}` });
    }
    if (options.includeUnreachable) {
      let unreachable: string[];
      try {
        unreachable = await listUnreachableBlobs(repoDir, { signal: walkSignal });
      } catch (error) {
        throw new Error(`git fsck --unreachable failed: ${String(error)}`);
      }
      for (const blob of unreachable) if (!origins.has(blob)) request(blob, undefined);
    }
    blobIds.end();
    return { walk, tagMessages: tags.length };
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
      commit: origin?.commit ?? UNREACHABLE,
      path: origin?.path ?? `(unreachable blob ${blob.slice(0, 12)})`,
    };
  };
  const found: { fingerprint: string; length: number; occurrence: Occurrence }[] = [];
  const kinds = { decoded_text: 0, binary: 0, streamed: 0 };
  /** `content`: text held whole, where the names are looked for (`lookForNames`: even without the marker). */
  const record = (blob: string, size: number, scan: ContentScan, content?: Uint8Array, lookForNames = false): void => {
    if (scan.kind === 'binary') kinds.binary++;
    else if (scan.kind !== 'text') kinds.decoded_text++;
    // The common case, a text blob without findings, allocates nothing here.
    if (scan.unjudged === undefined && scan.matches.length === 0 && !lookForNames && !scan.assignments?.length) return;
    const place = placeOfBlob(blob);
    if (scan.unjudged !== undefined) seen.unjudged.push({ ...place, what: scan.unjudged, size });
    // Binary content has no lines: its positions are byte offsets.
    const positionOf = (found: { line: number; offset?: number }) =>
      scan.kind === 'binary' && found.offset !== undefined ? { offset: found.offset } : { line: found.line };
    let named = lookForNames;
    for (const match of scan.matches) {
      if (match.ruleId === NAMED_SECRET_MARKER) {
        named = true;
        continue;
      }
      // Only the fingerprint leaves the scan: the observation never holds a secret.
      const { length, sha256 } = fingerprintSecret(match.value);
      found.push({ fingerprint: sha256, length, occurrence: { rule: match.ruleId, ...place, ...positionOf(match) } });
    }
    // A name occurs: its values judged as repo.committed-secrets judges them. After the rules: a value a rule found
    // too stays that rule's finding, and this rule joins it (groupByFingerprint). The scan found them itself in
    // what was not text held whole (streamed past, binary, decoded); text held whole is searched here.
    const path = origins.get(blob)?.path ?? '';
    const text = scan.assignments === undefined && named && content ? decodedText(content, scan.kind) : undefined;
    const assignments =
      scan.assignments !== undefined
        ? unacceptedAssignments(scan.assignments, path)
        : text === undefined
          ? []
          : namedSecretFindings(text, names, path);
    for (const assignment of assignments) {
      const { length, sha256 } = fingerprintSecret(assignment.value);
      found.push({
        fingerprint: sha256,
        length,
        occurrence: { rule: NAMED_SECRET_RULE, name: assignment.name, ...place, ...positionOf(assignment) },
      });
    }
  };
  // Blobs too large to hold are scanned as they stream past, one bounded window at a time.
  const streaming = new Map<string, ContentScanner>();
  // Git LFS pointers stand for content outside git: it is looked for in the LFS store once every blob is read.
  const pointers: { blob: string; size: number; pointer: LfsPointer }[] = [];
  const reading = readBlobs(
    repoDir,
    blobIds,
    {
      // Never below a pointer's size: a pointer streamed past would not be recognised.
      maxBlobBytes: Math.max(options.maxBlobBytes, LFS_POINTER_MAX_BYTES),
      signal,
      onLargeBlob: (sha) => {
        const scanner = new ContentScanner(origins.get(sha)?.path, rules, names);
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
      const pointer = blob.size <= LFS_POINTER_MAX_BYTES ? parseLfsPointer(blob.content) : undefined;
      if (pointer) {
        pointers.push({ blob: blob.sha, size: blob.size, pointer });
        return;
      }
      // The path only matters to rules that allow some paths (example files); unreachable blobs have none.
      record(blob.sha, blob.size, scanContent(blob.content, origins.get(blob.sha)?.path, rules, names), blob.content);
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
  if (walked.status === 'rejected' && !readFailed) return failed('walk', walked.reason);
  if (read.status === 'rejected') return failed('read', read.reason);
  if (walked.status === 'rejected') return failed('walk', walked.reason);
  const { walk } = walked.value;
  const totals = read.value;
  let lfsObjectsScanned = 0;
  // A store that cannot be read is reported once the totals say what was read before it.
  let lfsFailure: unknown;
  if (pointers.length > 0) {
    try {
      const commonDir = await gitCommonDir(repoDir, { signal });
      const files = createCheckFiles((file) => file);
      for (const { blob, size, pointer } of pointers) {
        const object = await scanLfsObject(files, commonDir, pointer, origins.get(blob)?.path, {
          maxBytes: options.maxBlobBytes,
          names,
          signal,
        });
        if (object.state === 'scanned') {
          lfsObjectsScanned++;
          // Scanned with the default rules (lfs.ts): no marker, so its text is searched for the names directly.
          record(blob, object.bytes, object.scan, object.content, object.content !== undefined);
        } else {
          // The pointer blob is what a baseline entry names; its message says what the content is.
          seen.unjudged.push({
            ...placeOfBlob(blob),
            what: object.scan.unjudged ?? '',
            size,
            lfs: { oid: pointer.oid, size: pointer.size },
          });
        }
      }
    } catch (error) {
      lfsFailure = error;
    }
  }
  seen.totals = {
    commits: walk.commits,
    tagMessages: walked.value.tagMessages,
    uniqueBlobs: origins.size,
    requested,
    scannedBlobs: totals.blobs,
    scannedBytes: totals.bytes,
    // Absent blobs beyond those never sent: git cat-file answered them `missing`.
    missingFromStore: absent.length - (origins.size - requested),
    decodedTextBlobs: kinds.decoded_text,
    binaryBlobs: kinds.binary,
    streamedBlobs: kinds.streamed,
    lfsPointers: pointers.length,
    lfsObjectsScanned,
    seconds: (performance.now() - started) / 1000,
  };
  if (lfsFailure !== undefined) return failed('lfs', `could not read the Git LFS store: ${String(lfsFailure)}`);
  seen.paths = [...walk.paths.values()];
  seen.findings = groupByFingerprint([...found, ...inMessages]);
  seen.absent = absent;

  // Where HEAD still holds each blob, within the scope: the same content elsewhere is another service's.
  if (seen.findings.length > 0) {
    const headPaths = new Map<string, string[]>();
    try {
      for (const [blob, paths] of await headBlobs(repoDir, { signal })) {
        const scoped = paths.filter((path) => inScope(scope, path));
        if (scoped.length > 0) headPaths.set(blob, scoped);
      }
    } catch (error) {
      return failed('head', error);
    }
    seen.headPaths = headPaths;
  }

  if (absent.length > 0) {
    try {
      const reaching = await refsReaching(repoDir, absent.map((place) => place.commit).filter(hasCommit), { signal });
      seen.absent = absent.map((place) => {
        const ref = reaching.get(place.commit);
        return ref === undefined ? place : { ...place, ref };
      });
    } catch (error) {
      seen.refNamingError = String(error);
    }
  }
  return seen;
}

/** Whether a place's commit names a commit (not NO_COMMIT, not UNREACHABLE). */
export function hasCommit(commit: string): boolean {
  return commit !== NO_COMMIT && commit !== UNREACHABLE;
}
