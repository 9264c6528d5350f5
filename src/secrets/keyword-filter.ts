/**
 * The keyword prefilter as one pass over the bytes: an Aho-Corasick automaton
 * over every rule's keywords (ASCII, case-folded on the fly) that answers
 * "which rules have at least one keyword in this content". Forty separate
 * `includes` calls would read the content forty times; this reads it once,
 * and works on the raw buffer, so content that triggers no rule is never
 * even decoded.
 */

const ALPHABET = 128;

export interface KeywordFilter {
  /** Bitmask of the rule indexes whose keywords occur in the content. */
  match(content: Uint8Array | string): number;
  ruleCount: number;
}

/** `keywordsByRule[i]` are rule i's keywords (lower-case ASCII). At most 32 rules per filter. */
export function buildKeywordFilter(keywordsByRule: readonly (readonly string[])[]): KeywordFilter {
  if (keywordsByRule.length > 32) throw new Error('a keyword filter covers at most 32 rules');
  // Trie: goto[state * ALPHABET + char] = next state (0 = none yet).
  const gotoTable: number[] = new Array(ALPHABET).fill(-1);
  const outputs: number[] = [0];
  const addState = (): number => {
    for (let index = 0; index < ALPHABET; index++) gotoTable.push(-1);
    outputs.push(0);
    return outputs.length - 1;
  };
  keywordsByRule.forEach((keywords, ruleIndex) => {
    for (const keyword of keywords) {
      let state = 0;
      for (const character of keyword) {
        const code = character.charCodeAt(0);
        if (code >= ALPHABET) throw new Error(`keyword ${keyword} is not ASCII`);
        const slot = state * ALPHABET + code;
        let next = gotoTable[slot] ?? -1;
        if (next === -1) {
          next = addState();
          gotoTable[slot] = next;
        }
        state = next;
      }
      outputs[state] = (outputs[state] ?? 0) | (1 << ruleIndex);
    }
  });
  // Breadth-first: complete every transition through failure links (a DFA), merge outputs.
  const stateCount = outputs.length;
  const delta = new Int32Array(stateCount * ALPHABET);
  const output = new Uint32Array(stateCount);
  const failure = new Int32Array(stateCount);
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
    output[state] = ((outputs[state] ?? 0) | (output[failure[state] ?? 0] ?? 0)) >>> 0;
    for (let code = 0; code < ALPHABET; code++) {
      const next = gotoTable[state * ALPHABET + code] ?? -1;
      const viaFailure = delta[(failure[state] ?? 0) * ALPHABET + code] ?? 0;
      if (next === -1) delta[state * ALPHABET + code] = viaFailure;
      else {
        delta[state * ALPHABET + code] = next;
        failure[next] = viaFailure;
        queue.push(next);
      }
    }
  }
  const everything = keywordsByRule.reduce((mask, _keywords, index) => (mask | (1 << index)) >>> 0, 0);

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

  const collect = (entry: number, found: number): number => (found | (output[entry >>> 8] ?? 0)) >>> 0;

  return {
    ruleCount: keywordsByRule.length,
    match(content) {
      let row = 0;
      let found = 0;
      const length = content.length;
      if (typeof content === 'string') {
        for (let index = 0; index < length; index++) {
          const code = content.charCodeAt(index);
          const entry = table[row + (code < 256 ? code : 128)] as number;
          row = entry & ~0xff;
          if (entry & 1) {
            found = collect(entry, found);
            if (found === everything) break;
          }
        }
        return found;
      }
      for (let index = 0; index < length; index++) {
        const entry = table[row + (content[index] as number)] as number;
        row = entry & ~0xff;
        if (entry & 1) {
          found = collect(entry, found);
          if (found === everything) break;
        }
      }
      return found;
    },
  };
}
