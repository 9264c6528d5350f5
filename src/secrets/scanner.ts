/**
 * The secret scanner: runs the rules over one buffer. Pure and synchronous so
 * that the history scan can call it on each blob as it streams past. A rule's
 * regex runs only when one of its keywords occurs in the content (the cheap
 * prefilter), and a rule whose matches begin with a keyword is tried only
 * where one starts; line numbers are computed only for content that has a
 * finding.
 */
import { shannonEntropy } from './entropy.js';
import { buildKeywordFilter, type KeywordFilter } from './keyword-filter.js';
import { isSentenceProsePath } from './paths.js';
import { isPlaceholder } from './placeholders.js';
import { type RegexReach, regexReach } from './regex-reach.js';
import { publicSampleSecrets, readsAsWords, type SecretRule, secretRules } from './rules.js';

export interface SecretMatch {
  ruleId: string;
  /** 1-based line and column of the secret value. */
  line: number;
  column: number;
  /** Offset of the secret value in what was scanned: bytes for a buffer, characters for a string. */
  offset: number;
  /**
   * The secret itself. It never leaves the process: callers turn it into a
   * fingerprint (ctx.secrets.fingerprint) before building observations.
   */
  value: string;
}

/** Git's own heuristic: a NUL byte in the first 8000 bytes makes a file binary. */
const BINARY_PROBE_BYTES = 8000;

export function looksBinary(content: Uint8Array): boolean {
  // indexOf is a native memchr; a JS loop over 8000 bytes per blob would cost more than the scan.
  return content.subarray(0, BINARY_PROBE_BYTES).indexOf(0) !== -1;
}

/** Maps offsets to 1-based lines, built once per content and only when needed. */
class LineIndex {
  private starts: number[] | undefined;
  constructor(private readonly text: string) {}

  position(offset: number): { line: number; column: number } {
    if (!this.starts) {
      const starts = [0];
      let at = this.text.indexOf('\n');
      while (at !== -1) {
        starts.push(at + 1);
        at = this.text.indexOf('\n', at + 1);
      }
      this.starts = starts;
    }
    return positionIn(this.starts, offset);
  }
}

/** Line and column of `offset`, given where each line starts (ascending, the first at 0). */
export function positionIn(starts: readonly number[], offset: number): { line: number; column: number } {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if ((starts[middle] ?? 0) <= offset) low = middle;
    else high = middle - 1;
  }
  return { line: low + 1, column: offset - (starts[low] ?? 0) + 1 };
}

const publicSamples = new Set(publicSampleSecrets);

/**
 * Whether a regex match is a real finding under the rule's entropy floor and
 * allowlists; `path` (relative to the repository's top level) for the rules
 * that allow some paths.
 */
export function acceptsSecret(rule: SecretRule, value: string, path?: string, sentence?: string): boolean {
  if (rule.minEntropy !== undefined && shannonEntropy(value) < rule.minEntropy) return false;
  if (sentence !== undefined && isSentenceProsePath(path) && readsAsWords(value)) return false;
  if (rule.allowlist?.some((pattern) => pattern.test(value))) return false;
  if (rule.placeholdersAllowed !== false && isPlaceholder(value)) return false;
  if (publicSamples.has(value)) return false;
  if (path !== undefined && rule.allowlistPaths?.some((pattern) => pattern.test(path))) return false;
  // Last: the one test that may decode the value.
  if (rule.confirm && !rule.confirm(value)) return false;
  return true;
}

/** What follows the secret when a sentence goes on after it (the rule's sentenceGroup), else undefined. */
function sentenceOf(rule: SecretRule, match: RegExpExecArray, group: number): string | undefined {
  const sentence = rule.sentenceGroup === undefined ? undefined : match[rule.sentenceGroup];
  if (sentence === undefined) return undefined;
  // Only after a colon, as a subject line or a heading writes (a name, a colon, joined words, then the
  // sentence): after `=`, `:=` or `=>` a value is assigned, whatever follows it on the line.
  const before = match[0].slice(0, groupOffset(match, group) - match.index);
  return /(?<![:=]):[ \t]*["'`]?$/.test(before) ? sentence : undefined;
}

/** The capture group holding the secret in this match: the rule's, or the first of its groups that took part. */
function secretGroupOf(rule: SecretRule, match: RegExpExecArray): number {
  if (typeof rule.secretGroup === 'number') return rule.secretGroup;
  return rule.secretGroup.find((group) => match[group] !== undefined) ?? (rule.secretGroup[0] as number);
}

/** Offset of capture group `group` inside the match, for exact line/column reporting. */
function groupOffset(match: RegExpExecArray, group: number): number {
  if (group === 0) return match.index;
  const whole = match[0];
  const value = match[group] ?? '';
  // The secret is the last group in every rule, so searching from the end finds the right copy.
  const inside = whole.lastIndexOf(value);
  return match.index + Math.max(inside, 0);
}

const filters = new WeakMap<readonly SecretRule[], KeywordFilter[]>();

/** One automaton per 32 rules, built once per rule list; it locates the keywords of rules that start with one. */
function filtersFor(rules: readonly SecretRule[]): KeywordFilter[] {
  let built = filters.get(rules);
  if (!built) {
    built = [];
    for (let start = 0; start < rules.length; start += 32) {
      const chunk = rules.slice(start, start + 32);
      built.push(
        buildKeywordFilter(
          chunk.map((rule) => rule.keywords),
          { locate: chunk.map((rule) => rule.startsAtKeyword === true) },
        ),
      );
    }
    filters.set(rules, built);
  }
  return built;
}

/** A rule whose keywords occur in the content, with where they start when the rule is anchored at them. */
interface TriggeredRule {
  rule: SecretRule;
  /** The rule's index in the rule list. */
  index: number;
  keywordStarts: readonly number[] | undefined;
}

function triggered(content: Uint8Array | string, rules: readonly SecretRule[]): TriggeredRule[] {
  const result: TriggeredRule[] = [];
  filtersFor(rules).forEach((filter, chunk) => {
    const { rules: mask, starts } = filter.scan(content);
    if (mask === 0) return;
    for (let index = 0; index < filter.ruleCount; index++) {
      const rule = rules[chunk * 32 + index];
      if (rule && mask & (1 << index))
        result.push({
          rule,
          index: chunk * 32 + index,
          keywordStarts: rule.startsAtKeyword ? starts[index] : undefined,
        });
    }
  });
  return result;
}

/** Whether any rule's keyword occurs in the content: without one, no rule can match. */
export function anyKeyword(content: Uint8Array, rules: readonly SecretRule[] = secretRules): boolean {
  return filtersFor(rules).some((filter) => filter.match(content) !== 0);
}

/** The rules whose keywords occur in the content, in rule order. */
export function triggeredRules(content: Uint8Array | string, rules: readonly SecretRule[] = secretRules): SecretRule[] {
  return triggered(content, rules).map((entry) => entry.rule);
}

/**
 * The rule's regex as the scan needs it, compiled once: global to walk the
 * whole text, sticky to try one offset. Both are stateful (`lastIndex`), which
 * is safe because a scan sets it before every use and never yields midway.
 */
const compiled = new WeakMap<SecretRule, { global: RegExp; sticky: RegExp }>();
function regexesFor(rule: SecretRule): { global: RegExp; sticky: RegExp } {
  let regexes = compiled.get(rule);
  if (!regexes) {
    const flags = rule.regex.flags.replace('g', '');
    regexes = {
      global: new RegExp(rule.regex.source, `${flags}g`),
      sticky: new RegExp(rule.regex.source, `${flags}y`),
    };
    compiled.set(rule, regexes);
  }
  return regexes;
}

const stickyByChunk = new WeakMap<readonly SecretRule[], (RegExp | undefined)[][]>();

/** The sticky regexes of one filter chunk's rules, by index within the chunk (undefined: not anchored). */
function stickyRegexes(rules: readonly SecretRule[], chunk: number, count: number): (RegExp | undefined)[] {
  let chunks = stickyByChunk.get(rules);
  if (!chunks) {
    chunks = [];
    stickyByChunk.set(rules, chunks);
  }
  let stickies = chunks[chunk];
  if (!stickies) {
    stickies = Array.from({ length: count }, (_unused, index) => {
      const rule = rules[chunk * 32 + index];
      return rule?.startsAtKeyword ? regexesFor(rule).sticky : undefined;
    });
    chunks[chunk] = stickies;
  }
  return stickies;
}

/**
 * Every match of the rule, in order. Without keyword offsets the global regex
 * tries every offset; with them only those are tried, skipping any inside the
 * previous match — exactly the matches the global walk finds when every match
 * begins with a keyword (`startsAtKeyword`).
 */
function* ruleMatches(text: string, rule: SecretRule, keywordStarts: readonly number[] | undefined) {
  const { global, sticky } = regexesFor(rule);
  if (keywordStarts === undefined) {
    global.lastIndex = 0;
    for (let match = global.exec(text); match !== null; match = global.exec(text)) {
      if (match[0].length === 0) global.lastIndex++;
      yield match;
    }
    return;
  }
  let after = 0;
  for (const start of keywordStarts) {
    if (start < after) continue;
    sticky.lastIndex = start;
    const match = sticky.exec(text);
    if (match === null) continue;
    after = match[0].length === 0 ? start + 1 : sticky.lastIndex;
    yield match;
  }
}

/** Findings in reading order; at one position, in rule order (both scans agree on the order). */
function inReadingOrder(matches: (SecretMatch & { rule: number })[]): SecretMatch[] {
  return matches
    .sort((left, right) => left.line - right.line || left.column - right.column || left.rule - right.rule)
    .map(({ rule: _rule, ...match }) => match);
}

function runRules(text: string, rules: readonly TriggeredRule[], path: string | undefined): SecretMatch[] {
  const matches: (SecretMatch & { rule: number })[] = [];
  const lines = new LineIndex(text);
  for (const { rule, index, keywordStarts } of rules) {
    for (const match of ruleMatches(text, rule, keywordStarts)) {
      const group = secretGroupOf(rule, match);
      const value = match[group];
      if (value === undefined || !acceptsSecret(rule, value, path, sentenceOf(rule, match, group))) continue;
      const offset = groupOffset(match, group);
      matches.push({ ruleId: rule.id, ...lines.position(offset), offset, value, rule: index });
    }
  }
  return inReadingOrder(matches);
}

/** Scans a string; `path` (relative to the repository's top level) for the rules that allow some paths. */
export function scanText(text: string, rules: readonly SecretRule[] = secretRules, path?: string): SecretMatch[] {
  const candidates = triggered(text, rules);
  return candidates.length === 0 ? [] : runRules(text, candidates, path);
}

/** A latin1 string's characters are the original bytes; re-read them as the UTF-8 the value really was. */
function utf8FromBytes(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the test is "any byte >= 0x80"
  return /[^\x00-\x7f]/.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value;
}

/**
 * Scans a file or blob of text. Binary content (a NUL in the first 8000
 * bytes) gives nothing here: `scanContent` (content.ts) decodes UTF-16 and
 * reads binary content for its printable runs; content without any rule's
 * keyword is never decoded. The bytes
 * are decoded as latin1 (one byte, one character: a copy, not a UTF-8 decode)
 * because every rule matches ASCII; values are turned back into their UTF-8
 * text before fingerprinting, and columns count bytes.
 *
 * One pass: a rule anchored at its keywords is tried the moment the
 * prefilter reports a start (skipping starts inside its previous match), so
 * no list of starts is built; the other triggered rules then run over the
 * whole text. The findings are exactly scanText's on the same characters
 * (test/secrets/rules.test.ts).
 */
export function scanBuffer(
  content: Uint8Array,
  rules: readonly SecretRule[] = secretRules,
  path?: string,
): SecretMatch[] {
  return looksBinary(content) ? [] : scanBytes(content, rules, path);
}

/**
 * Text of content too large for one string is decoded a window at a time.
 * A string above V8's regular-object limit (128 KiB) is allocated in its
 * large-object space, fresh pages every time: decoding a 200 KB lockfile so
 * cost 20–40× what a 64 KiB string does, and it was the largest cost of a
 * real history scan (bench/results/history-scan.md).
 */
const TEXT_WINDOW = 64 * 1024;
/**
 * Each window answers for keyword starts up to this far before its end; that
 * last stretch must hold more characters than the rule's regex could read
 * past a start (regex-reach.ts), else the whole text is decoded after all.
 */
const WINDOW_TAIL = 8 * 1024;
/** A window begins this far before the start it is made for, for starts of other rules that come a little later. */
const WINDOW_BACK = 1024;
/** Characters kept clear of a window's end: `\b` and `$` look at the next one. */
const WINDOW_GUARD = 16;

const reaches = new WeakMap<readonly SecretRule[], (RegexReach | undefined)[]>();

/** Per rule of the list, how far its regex reads (undefined: not known, so no windows for it). */
function reachesFor(rules: readonly SecretRule[]): (RegexReach | undefined)[] {
  let built = reaches.get(rules);
  if (!built) {
    built = rules.map((rule) => (rule.startsAtKeyword ? regexReach(rule.regex) : undefined));
    reaches.set(rules, built);
  }
  return built;
}

/**
 * The latin1 text of some content, as regexes need it: whole when small, or
 * when a rule must run over all of it; otherwise a window around each keyword
 * start, which a rule's regex sees exactly as it would see the whole text.
 */
class ContentText {
  private whole: string | undefined;
  private window = '';
  private start = 0;
  private end = 0;
  /** Keyword starts in [ownedFrom, ownedTo] are answered by the current window. */
  private ownedFrom = 1;
  private ownedTo = 0;
  /** Per rule: 1 the window's tail holds enough to bound its regex, -1 it does not, 0 not checked yet. */
  private verified: Int8Array;

  constructor(
    private readonly content: Uint8Array,
    private readonly reach: readonly (RegexReach | undefined)[],
  ) {
    this.verified = new Int8Array(reach.length);
  }

  all(): string {
    this.whole ??= latin1(this.content, 0, this.content.length);
    return this.whole;
  }

  /** Text holding `offset` and the character before it, and where that text starts in the content. */
  around(offset: number, rule: number): { text: string; base: number } {
    if (this.whole !== undefined || this.content.length <= TEXT_WINDOW) return { text: this.all(), base: 0 };
    const reach = this.reach[rule];
    if (!reach) return { text: this.all(), base: 0 };
    if (offset < this.ownedFrom || offset > this.ownedTo) this.moveTo(offset);
    if (this.end < this.content.length) {
      if (this.verified[rule] === 0) this.verified[rule] = this.tailBounds(reach) ? 1 : -1;
      if (this.verified[rule] === -1) return { text: this.all(), base: 0 };
    }
    return { text: this.window, base: this.start };
  }

  private moveTo(offset: number): void {
    const length = this.content.length;
    this.start = Math.max(0, offset - 1 - WINDOW_BACK);
    this.end = Math.min(length, this.start + TEXT_WINDOW);
    this.window = latin1(this.content, this.start, this.end);
    this.ownedFrom = this.start === 0 ? 0 : this.start + 1;
    this.ownedTo = this.end === length ? length : this.end - WINDOW_TAIL;
    this.verified.fill(0);
  }

  /** Whether the window's tail holds more characters than the regex can read outside its runs. */
  private tailBounds(reach: RegexReach): boolean {
    let outside = 0;
    for (let at = this.end - WINDOW_TAIL; at < this.end - WINDOW_GUARD; at++) {
      if (reach.runChars[this.content[at] as number] === 0 && ++outside > reach.bound) return true;
    }
    return false;
  }
}

function latin1(content: Uint8Array, start: number, end: number): string {
  return Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('latin1', start, end);
}

/** Maps byte offsets to 1-based lines, counted in the bytes (latin1: one byte, one character), built when needed. */
class ByteLineIndex {
  private starts: number[] | undefined;
  constructor(private readonly content: Uint8Array) {}

  position(offset: number): { line: number; column: number } {
    if (!this.starts) {
      const bytes = Buffer.from(this.content.buffer, this.content.byteOffset, this.content.byteLength);
      const starts = [0];
      for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) starts.push(at + 1);
      this.starts = starts;
    }
    return positionIn(this.starts, offset);
  }
}

/**
 * scanBuffer without the binary test: for content already known to be text,
 * or made scannable (decoded UTF-16, the printable runs of a binary file).
 */
export function scanBytes(
  content: Uint8Array,
  rules: readonly SecretRule[] = secretRules,
  path?: string,
): SecretMatch[] {
  const text = new ContentText(content, reachesFor(rules));
  const found: { rule: number; match: RegExpExecArray; base: number }[] = [];
  const unanchored: number[] = [];
  filtersFor(rules).forEach((filter, chunk) => {
    const first = chunk * 32;
    // Per rule of this chunk: the offset its previous match ended at; starts before it lie inside that match.
    const after = new Int32Array(filter.ruleCount);
    const stickies = stickyRegexes(rules, chunk, filter.ruleCount);
    const mask = filter.visitStarts(content, (offset, index) => {
      if (offset < (after[index] as number)) return;
      const sticky = stickies[index];
      if (!sticky) return;
      const { text: window, base } = text.around(offset, first + index);
      sticky.lastIndex = offset - base;
      const match = sticky.exec(window);
      if (match === null) return;
      after[index] = match[0].length === 0 ? offset + 1 : base + sticky.lastIndex;
      found.push({ rule: first + index, match, base });
    });
    for (let index = 0; index < filter.ruleCount; index++) {
      if (mask & (1 << index) && !rules[first + index]?.startsAtKeyword) unanchored.push(first + index);
    }
  });
  if (found.length === 0 && unanchored.length === 0) return [];
  for (const index of unanchored) {
    const rule = rules[index];
    if (!rule) continue;
    for (const match of ruleMatches(text.all(), rule, undefined)) found.push({ rule: index, match, base: 0 });
  }
  const lines = new ByteLineIndex(content);
  const matches: (SecretMatch & { rule: number })[] = [];
  for (const { rule: index, match, base } of found) {
    const rule = rules[index];
    const group = rule ? secretGroupOf(rule, match) : 0;
    const value = rule ? match[group] : undefined;
    if (!rule || value === undefined || !acceptsSecret(rule, value, path, sentenceOf(rule, match, group))) continue;
    const offset = base + groupOffset(match, group);
    matches.push({
      ruleId: rule.id,
      ...lines.position(offset),
      offset,
      value: utf8FromBytes(value),
      rule: index,
    });
  }
  return inReadingOrder(matches);
}
