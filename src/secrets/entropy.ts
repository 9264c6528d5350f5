/**
 * Randomness measures for secret values. A real secret is drawn from a large
 * alphabet with every character roughly equally likely; `aaaa…`, `0123…0123…`
 * or an English word is not, whatever its length.
 */

/** Shannon entropy in bits per character of the value's character distribution. */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const character of value) counts.set(character, (counts.get(character) ?? 0) + 1);
  const total = [...value].length;
  let entropy = 0;
  for (const count of counts.values()) {
    const probability = count / total;
    entropy -= probability * Math.log2(probability);
  }
  return entropy;
}

export function distinctCharacters(value: string): number {
  return new Set(value).size;
}

/**
 * Length of the shortest unit whose repetition makes up the value (`abcabcab` → 3).
 * A secret that is a short pattern repeated carries only the pattern's entropy.
 */
export function repeatingUnitLength(value: string): number {
  const length = value.length;
  for (let unit = 1; unit <= length / 2; unit++) {
    let repeats = true;
    for (let index = unit; index < length; index++) {
      if (value[index] !== value[index - unit]) {
        repeats = false;
        break;
      }
    }
    if (repeats) return unit;
  }
  return length;
}

/**
 * Length of the shortest unit that the value mostly repeats: at least `share` of its characters past the
 * first unit equal the one a unit earlier (`password123!password123!password123!x` → 12). A character added,
 * dropped or changed does not make a repeated pattern random; a random value repeats about one character
 * in its alphabet's size.
 */
export function mostlyRepeatingUnitLength(value: string, share = 0.9): number {
  const length = value.length;
  for (let unit = 1; unit <= length / 2; unit++) {
    let same = 0;
    for (let index = unit; index < length; index++) if (value[index] === value[index - unit]) same++;
    if (same >= share * (length - unit)) return unit;
  }
  return length;
}
