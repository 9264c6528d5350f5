/**
 * The host side of keyword-scan.wat: lays out a keyword set's tables in the
 * module's memory, copies content in, and hands the hits back in batches.
 * One instance (own memory) per keyword set; the compiled module is shared.
 *
 * Where WebAssembly or its SIMD instructions are unavailable (`--jitless`,
 * an exotic platform), `buildSimdKeywordScan` returns undefined and the
 * caller keeps its portable automaton: the verdict never depends on it.
 */
import { keywordScanWasm } from './keyword-scan-wasm.js';

const BUCKETS = 8;
/** A keyword's first bytes that the candidate stage looks at. */
const FINGERPRINT = 3;
const SHORT_ENTRIES = 112;
const SLOT_STARTS = 128;
const SLOTS = 256;
const ENTRIES = 1280;
const ENTRY_BYTES = 32;
/** Hits one call of `scan` may write before the host drains them. */
const HIT_CAPACITY = 16_384;
/** The content is followed by this many readable bytes: the last block loads past its end. */
const TAIL = 32;
const PAGE = 65_536;

interface KeywordScanExports {
  memory: WebAssembly.Memory;
  hitCount: WebAssembly.Global;
  scan(content: number, from: number, end: number, hits: number, capacity: number, perOffset: number): number;
}

export interface SimdKeywordScan {
  /**
   * Every offset where a keyword starts, in offset order, as batches of
   * (offset, keyword index) pairs: `hits[2i]`, `hits[2i + 1]` for i < count.
   * A batch's array is only valid during the call, and `onHits` must not
   * scan again (the instance's memory is in use). Returns false, having
   * called nothing, when the content is too large for WebAssembly's memory.
   */
  scan(content: Uint8Array, onHits: (hits: Uint32Array, count: number) => void): boolean;
}

let compiled: WebAssembly.Module | null | undefined;

/** Hits are read through a Uint32Array, in the platform's byte order; WebAssembly's is little-endian. */
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The module, compiled once; null where this runtime cannot run it. */
function keywordScanModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = littleEndian && typeof WebAssembly === 'object' ? new WebAssembly.Module(keywordScanWasm()) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

const fold = (code: number): number => code | 0x20;
const isLetter = (code: number): boolean => (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);

/**
 * How many byte triples a bucket lets through, roughly: for each fingerprint
 * position, the distinct low nibbles times the distinct high nibbles its
 * keywords allow there (a position past a short keyword allows all 256).
 */
function bucketCost(prefixes: readonly string[]): number {
  if (prefixes.length === 0) return 0;
  let cost = 1;
  for (let position = 0; position < FINGERPRINT; position++) {
    const low = new Set<number>();
    const high = new Set<number>();
    let allowsAll = false;
    for (const prefix of prefixes) {
      if (position >= prefix.length) {
        allowsAll = true;
        break;
      }
      const code = fold(prefix.charCodeAt(position));
      low.add(code & 0x0f);
      high.add(code >> 4);
    }
    cost *= allowsAll ? 256 : low.size * high.size;
  }
  return cost;
}

/**
 * Buckets for the keywords' distinct fingerprints: each goes, in sorted
 * order, where it adds the least to the number of false candidates, so
 * similar prefixes (`ghp`, `gho`, `ghr`) share one bucket. Depends only on
 * the keywords, never on the content.
 */
function assignBuckets(keywords: readonly string[]): Map<string, number> {
  const prefixes = [...new Set(keywords.map((keyword) => keyword.slice(0, FINGERPRINT)))].sort();
  const groups: string[][] = Array.from({ length: BUCKETS }, () => []);
  const bucketOf = new Map<string, number>();
  for (const prefix of prefixes) {
    let best = 0;
    let bestIncrease = Number.POSITIVE_INFINITY;
    groups.forEach((group, bucket) => {
      const increase = bucketCost([...group, prefix]) - bucketCost(group);
      if (increase < bestIncrease) {
        bestIncrease = increase;
        best = bucket;
      }
    });
    groups[best]?.push(prefix);
    bucketOf.set(prefix, best);
  }
  return bucketOf;
}

/**
 * The slot of a keyword (at least three bytes): a multiplicative hash of its
 * first three bytes folded with `| 0x20`, exactly as keyword-scan.wat hashes
 * the content at a candidate offset.
 */
function slotOf(keyword: string): number {
  let word = 0;
  for (let at = 0; at < FINGERPRINT; at++) word |= fold(keyword.charCodeAt(at)) << (8 * at);
  return Math.imul(word, 0x9e3779b1) >>> 24;
}

/** `keywords` are lower-case ASCII, 1–255 characters (the caller has checked). */
export function buildSimdKeywordScan(keywords: readonly string[]): SimdKeywordScan | undefined {
  const module = keywordScanModule();
  // One offset can yield a hit per keyword, and a call must have room for at least one offset's hits.
  if (!module || keywords.length === 0 || keywords.length > HIT_CAPACITY) return undefined;
  let exports: KeywordScanExports;
  try {
    exports = new WebAssembly.Instance(module, {}).exports as unknown as KeywordScanExports;
  } catch {
    return undefined;
  }
  const { memory } = exports;

  const bucketOf = assignBuckets(keywords);
  // Entries in slot order; the keywords too short for a slot come last, in their own range.
  const order = keywords
    .map((keyword, index) => ({
      keyword,
      index,
      bucket: bucketOf.get(keyword.slice(0, FINGERPRINT)) ?? 0,
      slot: keyword.length >= FINGERPRINT ? slotOf(keyword) : SLOTS,
    }))
    .sort((left, right) => left.slot - right.slot || left.index - right.index);

  const keywordBytesAt = ENTRIES + order.length * ENTRY_BYTES;
  const keywordBytesLength = order.reduce((total, entry) => total + 2 * entry.keyword.length, 0);
  const hitsAt = Math.ceil((keywordBytesAt + keywordBytesLength) / 8) * 8;
  const contentAt = hitsAt + HIT_CAPACITY * 8;

  let bytes = new Uint8Array(memory.buffer);
  let view = new DataView(memory.buffer);
  /** Whether memory holds the content (growing it if needed; at most 4 GiB, and the runtime may refuse). */
  const ensureCapacity = (contentLength: number): boolean => {
    const needed = contentAt + contentLength + TAIL;
    if (needed <= memory.buffer.byteLength) return true;
    try {
      memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE));
    } catch {
      return false;
    }
    // Growing detaches the old buffer: views onto it are dead.
    bytes = new Uint8Array(memory.buffer);
    view = new DataView(memory.buffer);
    return true;
  };
  ensureCapacity(0);
  let scanning = false;

  // The nibble tables: bucket b's bit wherever one of its keywords allows that nibble at that position
  // (every nibble past the end of a keyword shorter than the fingerprint).
  const tables = new Uint8Array(FINGERPRINT * 32);
  for (const { keyword, bucket } of order) {
    for (let position = 0; position < FINGERPRINT; position++) {
      const code = position < keyword.length ? fold(keyword.charCodeAt(position)) : -1;
      for (let nibble = 0; nibble < 16; nibble++) {
        const low = position * 32 + nibble;
        const high = low + 16;
        if (code === -1 || (code & 0x0f) === nibble) tables[low] = (tables[low] ?? 0) | (1 << bucket);
        if (code === -1 || code >> 4 === nibble) tables[high] = (tables[high] ?? 0) | (1 << bucket);
      }
    }
  }
  bytes.set(tables, 0);
  // Slot s's entries: [start[s], start[s + 1]); start[SLOTS] is where the short keywords begin.
  for (let slot = 0, entry = 0; slot <= SLOTS; slot++) {
    while (entry < order.length && (order[entry]?.slot ?? 0) < slot) entry++;
    view.setUint32(SLOT_STARTS + slot * 4, ENTRIES + entry * ENTRY_BYTES, true);
  }
  view.setUint32(SHORT_ENTRIES, view.getUint32(SLOT_STARTS + SLOTS * 4, true), true);
  view.setUint32(SHORT_ENTRIES + 4, ENTRIES + order.length * ENTRY_BYTES, true);
  let keywordAt = keywordBytesAt;
  order.forEach(({ keyword, index }, position) => {
    const entry = ENTRIES + position * ENTRY_BYTES;
    let head = 0;
    let headFolds = 0;
    let headPresent = 0;
    for (let at = 0; at < keyword.length; at++) {
      const code = keyword.charCodeAt(at);
      const foldMask = isLetter(code) ? 0x20 : 0;
      bytes[keywordAt + at] = code;
      bytes[keywordAt + keyword.length + at] = foldMask;
      if (at < 4) {
        head |= code << (8 * at);
        headFolds |= foldMask << (8 * at);
        headPresent |= 0xff << (8 * at);
      }
    }
    view.setUint32(entry, index, true);
    view.setUint32(entry + 4, keyword.length, true);
    view.setUint32(entry + 8, keywordAt, true);
    view.setUint32(entry + 12, head >>> 0, true);
    view.setUint32(entry + 16, headFolds >>> 0, true);
    view.setUint32(entry + 20, headPresent >>> 0, true);
    keywordAt += 2 * keyword.length;
  });

  return {
    scan(content, onHits) {
      if (scanning) throw new Error('keyword scan re-entered from its own callback');
      if (!ensureCapacity(content.length)) return false;
      scanning = true;
      try {
        bytes.set(content, contentAt);
        for (let from = 0; ; ) {
          const stopped = exports.scan(contentAt, from, content.length, hitsAt, HIT_CAPACITY, keywords.length);
          const count = exports.hitCount.value as number;
          if (count > 0) onHits(new Uint32Array(memory.buffer, hitsAt, 2 * count), count);
          if (stopped >= content.length) return true;
          from = stopped;
        }
      } finally {
        scanning = false;
      }
    },
  };
}
