/**
 * Findings grouped by secret: a secret copied through many files or blobs is
 * one finding, with every place it appears. Pure: the checks read the
 * repository, this decides what to report and whether the baseline covers it.
 */
import type { Occurrence, SecretFinding } from '../engine/observations.js';
import { acceptedBy, type BaselineEntry } from './baseline.js';

// The contract owns these types (src/engine/observations.ts); re-exported for this module's importers.
export type { Occurrence, SecretFinding } from '../engine/observations.js';

/**
 * Groups occurrences of secrets by their fingerprint, keeping the order in
 * which each was first seen; one place found by several rules is one
 * occurrence.
 */
export function groupByFingerprint(
  found: readonly { fingerprint: string; length: number; occurrence: Occurrence }[],
): SecretFinding[] {
  const groups = new Map<string, { finding: SecretFinding; places: Map<string, Occurrence> }>();
  for (const { fingerprint, length, occurrence } of found) {
    const key = `${fingerprint}:${length}`;
    let group = groups.get(key);
    if (!group) {
      group = { finding: { fingerprint, length, occurrences: [] }, places: new Map() };
      groups.set(key, group);
    }
    // What holds it: a blob, or for a message the commit or the tag object (every message has the same path).
    const holder = occurrence.blob ?? occurrence.tag?.object ?? (occurrence.message ? occurrence.commit : '') ?? '';
    const place = `${holder}\0${occurrence.path}\0${occurrence.line ?? ''}\0${occurrence.offset ?? ''}`;
    const known = group.places.get(place);
    if (!known) {
      const own = { ...occurrence };
      group.places.set(place, own);
      group.finding.occurrences.push(own);
    } else if (known.rule !== occurrence.rule && !known.alsoMatchedBy?.includes(occurrence.rule)) {
      known.alsoMatchedBy = [...(known.alsoMatchedBy ?? []), occurrence.rule];
    }
  }
  return [...groups.values()].map((group) => group.finding);
}

/**
 * Whether the baseline accepts a finding: every one of its occurrences must
 * be covered (an entry narrowed to a path accepts the secret there only), so
 * a reviewed secret that turns up somewhere new is open again.
 */
export function baselineVerdict(
  baseline: readonly BaselineEntry[],
  finding: SecretFinding,
): { accepted: BaselineEntry | undefined; acceptedOccurrences: number } {
  let first: BaselineEntry | undefined;
  let acceptedOccurrences = 0;
  for (const occurrence of finding.occurrences) {
    // Any rule that found the value there may be the one the entry names.
    const entry = [occurrence.rule, ...(occurrence.alsoMatchedBy ?? [])]
      .map((rule) => acceptedBy(baseline, { fingerprint: finding.fingerprint, rule, path: occurrence.path }))
      .find((accepted) => accepted !== undefined);
    if (!entry) continue;
    first ??= entry;
    acceptedOccurrences++;
  }
  return {
    accepted: acceptedOccurrences === finding.occurrences.length ? first : undefined,
    acceptedOccurrences,
  };
}

/** Where an occurrence is, as text: `path:line`, `path (byte 1234)` or the path alone. */
export function placeOf(occurrence: Occurrence): string {
  if (occurrence.line !== undefined) return `${occurrence.path}:${occurrence.line}`;
  if (occurrence.offset !== undefined) return `${occurrence.path} (byte ${occurrence.offset})`;
  return occurrence.path;
}
