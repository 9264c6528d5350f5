/**
 * The keyword prefilter as one pass over the content: it answers "which rules
 * have at least one keyword in this content" and, for the rules it is asked to
 * locate, "where does each of their keywords start". Forty separate
 * `includes` calls would read the content forty times; this reads it once,
 * and works on the raw buffer, so content that triggers no rule is never even
 * decoded. The start offsets let the scanner try a rule whose matches always
 * begin with a keyword only there, instead of at every offset.
 *
 * Two engines give the same answers: bytes (every blob of a history scan) go
 * through the SIMD scan of keyword-scan.wat, 16 offsets at a time; strings,
 * and bytes where WebAssembly SIMD is unavailable, through an Aho-Corasick
 * automaton over the keywords (ASCII, case-folded on the fly), one table
 * load per character. test/secrets/keyword-filter.test.ts holds them to
 * each other and to a plain search.
 */
import { buildSimdKeywordScan } from './keyword-scan-simd.js';

const ALPHABET = 128;

export interface KeywordScan {
  /** Bitmask of the rule indexes whose keywords occur in the content. */
  rules: number;
  /**
   * For each located rule (by index), the offsets where one of its keywords
   * starts, ascending and without duplicates; empty for every other rule.
   */
  starts: readonly (readonly number[])[];
}

export interface KeywordFilter {
  /** Bitmask of the rule indexes whose keywords occur in the content. */
  match(content: Uint8Array | string): number;
  /** The mask, plus where the located rules' keywords start. */
  scan(content: Uint8Array | string): KeywordScan;
  /**
   * The mask, calling `visit(offset, rule)` for every start of a located
   * rule's keyword, each rule's starts ascending and once each (different
   * rules' visits may interleave). No lists are built: the history scan
   * tries its regexes right there.
   */
  visitStarts(content: Uint8Array, visit: (offset: number, rule: number) => void): number;
  ruleCount: number;
}

export interface KeywordFilterOptions {
  /** `locate[i]`: record where rule i's keywords start (see KeywordScan.starts). */
  locate?: readonly boolean[];
  /** `automaton`: bytes too go through the portable automaton (the reference the SIMD scan is tested against). */
  bytes?: 'simd' | 'automaton';
}

/** `keywordsByRule[i]` are rule i's keywords (lower-case ASCII). At most 32 rules per filter. */
export function buildKeywordFilter(
  keywordsByRule: readonly (readonly string[])[],
  options: KeywordFilterOptions = {},
): KeywordFilter {
  if (keywordsByRule.length > 32) throw new Error('a keyword filter covers at most 32 rules');
  // Trie: goto[state * ALPHABET + char] = next state (0 = none yet).
  const gotoTable: number[] = new Array(ALPHABET).fill(-1);
  const outputs: number[] = [0];
  // Per state, the located keywords that end there, each as (rule index << 8 | keyword length).
  const ownEnds: number[][] = [[]];
  const addState = (): number => {
    for (let index = 0; index < ALPHABET; index++) gotoTable.push(-1);
    outputs.push(0);
    ownEnds.push([]);
    return outputs.length - 1;
  };
  keywordsByRule.forEach((keywords, ruleIndex) => {
    for (const keyword of keywords) {
      if (keyword.length === 0 || keyword.length > 255)
        throw new Error(`keyword "${keyword}" must be 1–255 characters`);
      let state = 0;
      for (const character of keyword) {
        const code = character.charCodeAt(0);
        if (code >= ALPHABET) throw new Error(`keyword ${keyword} is not ASCII`);
        // Both engines fold the content to lower case, so an upper-case keyword could never match.
        if (code >= 65 && code <= 90) throw new Error(`keyword ${keyword} is not lower-case`);
        const slot = state * ALPHABET + code;
        let next = gotoTable[slot] ?? -1;
        if (next === -1) {
          next = addState();
          gotoTable[slot] = next;
        }
        state = next;
      }
      outputs[state] = (outputs[state] ?? 0) | (1 << ruleIndex);
      if (options.locate?.[ruleIndex]) ownEnds[state]?.push((ruleIndex << 8) | keyword.length);
    }
  });
  // Breadth-first: complete every transition through failure links (a DFA), merge outputs.
  const stateCount = outputs.length;
  const delta = new Int32Array(stateCount * ALPHABET);
  // Int32, not Uint32: the loops then keep `found` an int32 (a uint32 phi can make V8 fall back to doubles).
  const output = new Int32Array(stateCount);
  const failure = new Int32Array(stateCount);
  // Every located keyword that ends in a state, its own and those of its failure chain (suffixes).
  const ends: number[][] = new Array(stateCount);
  ends[0] = ownEnds[0] ?? [];
  const queue: number[] = [];
  for (let code = 0; code < ALPHABET; code++) {
    const next = gotoTable[code] ?? -1;
    if (next === -1) delta[code] = 0;
    else {
      delta[code] = next;
      failure[next] = 0;
      queue.push(next);
    }
  }
  output[0] = outputs[0] ?? 0;
  for (let head = 0; head < queue.length; head++) {
    const state = queue[head] ?? 0;
    const fallback = failure[state] ?? 0;
    output[state] = (outputs[state] ?? 0) | (output[fallback] ?? 0);
    ends[state] = [...(ownEnds[state] ?? []), ...(ends[fallback] ?? [])];
    for (let code = 0; code < ALPHABET; code++) {
      const next = gotoTable[state * ALPHABET + code] ?? -1;
      const viaFailure = delta[fallback * ALPHABET + code] ?? 0;
      if (next === -1) delta[state * ALPHABET + code] = viaFailure;
      else {
        delta[state * ALPHABET + code] = next;
        failure[next] = viaFailure;
        queue.push(next);
      }
    }
  }
  const everything = keywordsByRule.reduce((mask, _keywords, index) => mask | (1 << index), 0);
  const locating = options.locate?.some(Boolean) ?? false;

  // The matching table works on bytes: 256 columns per state, upper-case ASCII folded onto lower-case,
  // bytes >= 128 back to the root. Each entry is the next state's row offset (a multiple of 256) with
  // bit 0 set when that state completes a keyword, so the inner loop is one load and one test per byte.
  const table = new Int32Array(stateCount * 256);
  for (let state = 0; state < stateCount; state++) {
    for (let byte = 0; byte < 256; byte++) {
      const code = byte >= 65 && byte <= 90 ? byte + 32 : byte;
      const next = code < ALPHABET ? (delta[state * ALPHABET + code] ?? 0) : 0;
      table[state * 256 + byte] = (next << 8) | ((output[next] ?? 0) !== 0 ? 1 : 0);
    }
  }

  // The located keyword ends per state, flattened: state s owns endList[endIndex[s] .. endIndex[s + 1]).
  const endIndex = new Int32Array(stateCount + 1);
  const endList = new Int32Array(ends.reduce((count, list) => count + list.length, 0));
  for (let state = 0, at = 0; state < stateCount; state++) {
    endIndex[state] = at;
    for (const end of ends[state] ?? []) endList[at++] = end;
    endIndex[state + 1] = at;
  }

  /**
   * Rare: a state that completes a keyword. Records where the located
   * keywords ending at `offset` start, if before `startLimit`. Out of the
   * loops so that they stay small.
   */
  const recordStarts = (state: number, offset: number, starts: number[][], startLimit: number): void => {
    const last = endIndex[state + 1] as number;
    for (let at = endIndex[state] as number; at < last; at++) {
      const end = endList[at] as number;
      const start = offset - (end & 0xff) + 1;
      if (start < startLimit) (starts[end >>> 8] as number[]).push(start);
    }
  };

  /**
   * The automaton's walk: one table load per character. Without
   * `starts` it stops as soon as every rule has been seen. The loops keep
   * their state in locals (no closure writes) so that V8 keeps it in registers.
   */
  const runString = (content: string, starts: number[][] | undefined): number => {
    let row = 0;
    let found = 0;
    for (let index = 0; index < content.length; index++) {
      const code = content.charCodeAt(index);
      const entry = table[row + (code < 256 ? code : 128)] as number;
      row = entry & ~0xff;
      if ((entry & 1) === 0) continue;
      found |= output[entry >>> 8] as number;
      if (starts) recordStarts(entry >>> 8, index, starts, index + 1);
      else if (found === everything) break;
    }
    return found;
  };

  // The SIMD scan reports (offset, keyword) hits in offset order; keyword i belongs to rule ruleOfKeyword[i].
  const flatKeywords = keywordsByRule.flat();
  const ruleOfKeyword = Int32Array.from(keywordsByRule.flatMap((keywords, rule) => keywords.map(() => rule)));
  const locatedRule = keywordsByRule.map((_keywords, rule) => options.locate?.[rule] === true);
  const simd = options.bytes === 'automaton' ? undefined : buildSimdKeywordScan(flatKeywords);

  const runBytes = (content: Uint8Array, starts: number[][] | undefined): number => {
    let found = 0;
    const scanned = simd?.scan(content, (hits, count) => {
      for (let hit = 0; hit < count; hit++) {
        const offset = hits[2 * hit] as number;
        const rule = ruleOfKeyword[hits[2 * hit + 1] as number] as number;
        found |= 1 << rule;
        if (!starts || !locatedRule[rule]) continue;
        // Two keywords of one rule can start at the same offset (`pass`, `passw`): keep it once.
        const list = starts[rule] as number[];
        if (list[list.length - 1] !== offset) list.push(offset);
      }
    });
    // Without SIMD, or content too large for its memory: the automaton, over the bytes as latin1 (one byte,
    // one character, same offsets).
    if (!scanned) return runString(latin1(content), starts);
    return found;
  };

  const noStarts = (): number[][] => keywordsByRule.map(() => []);

  const visitStarts = (content: Uint8Array, visit: (offset: number, rule: number) => void): number => {
    let found = 0;
    const lastStart = new Int32Array(keywordsByRule.length).fill(-1);
    const scanned = simd?.scan(content, (hits, count) => {
      for (let hit = 0; hit < count; hit++) {
        const offset = hits[2 * hit] as number;
        const rule = ruleOfKeyword[hits[2 * hit + 1] as number] as number;
        found |= 1 << rule;
        // Hits come in offset order; two keywords of one rule at one offset are one start.
        if (!locatedRule[rule] || lastStart[rule] === offset) continue;
        lastStart[rule] = offset;
        visit(offset, rule);
      }
    });
    if (!scanned) {
      const starts = noStarts();
      const rules = runString(latin1(content), starts);
      starts.forEach((offsets, rule) => {
        for (const offset of sortedUnique(offsets)) visit(offset, rule);
      });
      return rules >>> 0;
    }
    return found >>> 0;
  };

  const match = (content: Uint8Array | string): number =>
    (typeof content === 'string' ? runString(content, undefined) : runBytes(content, undefined)) >>> 0;

  return {
    ruleCount: keywordsByRule.length,
    match,
    visitStarts,
    scan(content) {
      if (!locating) return { rules: match(content), starts: noStarts() };
      const starts = noStarts();
      const rules = typeof content === 'string' ? runString(content, starts) : runBytes(content, starts);
      // Keywords of different lengths can end in one order and start in another; overlaps repeat a start.
      return { rules: rules >>> 0, starts: starts.map(sortedUnique) };
    },
  };
}

function latin1(content: Uint8Array): string {
  return Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('latin1');
}

function sortedUnique(offsets: number[]): number[] {
  let ordered = true;
  for (let index = 1; index < offsets.length; index++) {
    if ((offsets[index] as number) <= (offsets[index - 1] as number)) {
      ordered = false;
      break;
    }
  }
  if (ordered) return offsets;
  return [...new Set(offsets)].sort((left, right) => left - right);
}
