/** Levenshtein distance, for "did you mean" suggestions on unknown ids. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The closest candidates, best first; at most `limit`, and only plausible ones. */
export function closestMatches(input: string, candidates: readonly string[], limit = 3): string[] {
  const threshold = Math.max(3, Math.floor(input.length / 3));
  const scored = candidates
    .map((candidate) => ({
      candidate,
      distance: editDistance(input, candidate),
      // A name the user started typing (`ca` for `ca_file`) beats a merely short distance.
      prefix: candidate.startsWith(input) || input.startsWith(candidate),
    }))
    .filter(({ distance, prefix }) => distance <= threshold || prefix)
    .sort(
      (a, b) =>
        Number(b.prefix) - Number(a.prefix) || a.distance - b.distance || a.candidate.localeCompare(b.candidate),
    );
  const best = scored[0];
  if (!best) return [];
  return scored
    .filter((item) => item.prefix === best.prefix && item.distance <= best.distance)
    .slice(0, limit)
    .map(({ candidate }) => candidate);
}
