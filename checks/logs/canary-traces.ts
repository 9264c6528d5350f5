/**
 * Where a log carries a canary credential, and how much of it: the matching
 * behind logs.no-credentials. Pure, apart from drawing a canary.
 *
 * A canary stands for a real credential, so it is random from its first
 * character to its last: a logger that keeps the start, the end, a middle
 * slice or both ends of every credential (a password is as short as the piece
 * it keeps) shows that piece of the canary, whichever piece it is. (A fixed
 * `secgate-canary-<kind>-` label in front of the random part, as canaries once
 * had, hid every cut of the first 22 characters: a logger that kept the first
 * 16 characters of every password looked clean.) It is drawn
 * from lower-case letters and digits, which no URL, form, JSON, HTML or shell
 * escaping changes, so an escaped log line holds it as sent; a line that
 * changed its case is folded back before matching, and base64 is matched at
 * every byte alignment (a header value `Bearer …` puts the token 7 bytes in).
 */
import { randomBytes } from 'node:crypto';

export interface Canary {
  kind: string;
  value: string;
}

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** 32 characters of 36 symbols: 165 random bits, longer than a typical password, shorter than most tokens. */
export const CANARY_LENGTH = 32;

/** A fresh canary credential: CANARY_LENGTH characters drawn uniformly from ALPHABET. */
export function randomCanary(): string {
  let value = '';
  while (value.length < CANARY_LENGTH) {
    for (const byte of randomBytes(CANARY_LENGTH)) {
      // 252 = 7 × 36: bytes above it would make the first symbols likelier.
      if (byte < 252 && value.length < CANARY_LENGTH) value += ALPHABET[byte % ALPHABET.length];
    }
  }
  return value;
}

/**
 * Characters of a canary, in one stretch, that count as the canary. A logger
 * that keeps 8 characters of every credential keeps whole short passwords.
 * Chance: a given 8-character stretch of a uniformly random canary matches a
 * given log position with probability at most 36^-8 ≈ 3.5e-13, whatever the
 * log holds (each canary character is one of 36 equally likely symbols, and a
 * log character can equal only one of them). A canary has 25 such stretches,
 * so a 16 MiB log (the most the check reads from a file) matches one by
 * chance with probability below 25 × 2^24 × 3.5e-13 ≈ 1.5e-4 per canary
 * (6e-4 for the 64 MiB a log command may print), and only if it were all
 * letters and digits; the few kilobytes a service writes while the check runs
 * put it near 1e-8. Fewer characters would not do: 6 give about 1 in 800 in
 * 100 KiB of ids, and a suffix is as much a credential as a prefix.
 */
export const MIN_CHARACTERS = 8;

/**
 * Both ends of a canary around a cut (`abcdef...uvwxyz`), as a masking logger
 * keeps them: each end at least MIN_END_CHARACTERS, together at least
 * MIN_ENDS_CHARACTERS, at most MAX_ENDS_GAP apart. Two pieces that may sit
 * anywhere near each other need more characters than one stretch to be as
 * unlikely by chance (36^-10 × 32 positions ≈ 8.8e-15 per log position);
 * the customary 4 + 4 mask of a token's identity stays below it, the 6 + 6 of
 * a careless one does not.
 */
export const MIN_END_CHARACTERS = 4;
export const MIN_ENDS_CHARACTERS = 10;
/** Room for `...`, `…`, `****` or a mask as long as the cut-out part of a 32-character credential. */
export const MAX_ENDS_GAP = 32;

/** What one log line holds of a canary. Positions only: never the characters themselves. */
export interface CanaryTrace {
  /** 1-based line number in the log output read. */
  line: number;
  /** One stretch [from, to) of the canary's characters, or its first and last characters around a cut. */
  kept: { from: number; to: number } | { first: number; last: number };
  /** How the line holds it: as sent, with its letters' case changed, or base64-encoded. */
  encoding: 'as sent' | 'case changed' | 'base64';
}

/** Characters kept, as a trace counts them: two ends of a canary logged twice are still at most all of it. */
function keptCharacters(kept: CanaryTrace['kept'], length: number): number {
  return 'from' in kept ? kept.to - kept.from : Math.min(length, kept.first + kept.last);
}

/** ASCII upper case to lower, nothing else: positions in the folded line are positions in the line. */
function foldCase(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

interface Stretch {
  /** Where it starts in the needle and in the haystack, and how long it is. */
  needleStart: number;
  haystackStart: number;
  length: number;
}

/**
 * The longest stretch of `needle` that `haystack` holds, found from every
 * `gram`-character piece of the needle starting at a multiple of `stride`,
 * each occurrence extended both ways; so every shared stretch of at least
 * gram + stride - 1 characters is found.
 */
function longestSharedStretch(haystack: string, needle: string, gram: number, stride: number): Stretch | undefined {
  let best: Stretch | undefined;
  for (let start = 0; start + gram <= needle.length; start += stride) {
    const piece = needle.slice(start, start + gram);
    for (let at = haystack.indexOf(piece); at !== -1; at = haystack.indexOf(piece, at + 1)) {
      let before = 0;
      while (start - before > 0 && at - before > 0 && needle[start - before - 1] === haystack[at - before - 1]) {
        before += 1;
      }
      let length = before + gram;
      while (
        start - before + length < needle.length &&
        haystack[at - before + length] === needle[start - before + length]
      ) {
        length += 1;
      }
      if (!best || length > best.length) best = { needleStart: start - before, haystackStart: at - before, length };
    }
  }
  return best;
}

/** How many characters of `value` start at `at` in `line`. */
function sharedFrom(line: string, at: number, value: string): number {
  let length = 0;
  while (length < value.length && line[at + length] === value[length]) length += 1;
  return length;
}

/** How many characters of `value` end just before `end` in `line`, starting no earlier than `floor`. */
function sharedUntil(line: string, end: number, value: string, floor: number): number {
  let length = 0;
  while (
    end - length - 1 >= floor &&
    length < value.length &&
    line[end - length - 1] === value[value.length - length - 1]
  ) {
    length += 1;
  }
  return length;
}

/** The most characters of the canary's two ends that `line` holds around one cut, when they count. */
function sharedEnds(line: string, value: string): { first: number; last: number; at: number; end: number } | undefined {
  const head = value.slice(0, MIN_END_CHARACTERS);
  const tail = value.slice(-MIN_END_CHARACTERS);
  let best: { first: number; last: number; at: number; end: number } | undefined;
  for (let at = line.indexOf(head); at !== -1; at = line.indexOf(head, at + 1)) {
    const first = sharedFrom(line, at, value);
    const from = at + first;
    for (let tailAt = line.indexOf(tail, from); tailAt !== -1; tailAt = line.indexOf(tail, tailAt + 1)) {
      // A tail farther on than the gap plus a whole canary cannot start within the gap.
      if (tailAt - from > MAX_ENDS_GAP + value.length) break;
      const end = tailAt + MIN_END_CHARACTERS;
      const last = sharedUntil(line, end, value, from);
      if (end - last - from > MAX_ENDS_GAP) continue;
      if (first + last >= MIN_ENDS_CHARACTERS && (!best || first + last > best.first + best.last)) {
        best = { first, last, at, end };
      }
    }
  }
  return best;
}

/**
 * The canary's base64 text at byte offsets 0, 1 and 2 of what was encoded, in the standard and the URL-safe
 * alphabet, without the characters that also carry its neighbours' bits: what any base64 of a text holding
 * the canary contains, whatever precedes it.
 */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'latin1');
  const forms = [0, 1, 2].flatMap((offset) => {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const text = encoded.slice(Math.ceil((offset * 8) / 6), Math.floor((offset + bytes.length) / 3) * 4);
    return [text, text.replace(/\+/g, '-').replace(/\//g, '_')];
  });
  return [...new Set(forms)];
}

/**
 * Base64 stretches are found from 8-character pieces every 4 characters: so every shared stretch of 11 or
 * more, the fewest base64 characters that can carry MIN_CHARACTERS whole bytes (66 bits for 64).
 */
const BASE64_GRAM = 8;
const BASE64_STRIDE = 4;
const BASE64_RUN = /[A-Za-z0-9+/_-]{11,}/g;

/**
 * The longest stretch of the canary that a base64 run in `line` decodes to. Its forms only tell whether to
 * look; decoding each run at its four alignments then finds exactly which characters it holds, the ones
 * at its edges too.
 */
function base64Stretch(line: string, value: string): Stretch | undefined {
  const forms = base64Forms(value);
  if (!forms.some((form) => longestSharedStretch(line, form, BASE64_GRAM, BASE64_STRIDE))) return undefined;
  let best: Stretch | undefined;
  for (const [run] of line.matchAll(BASE64_RUN)) {
    for (let shift = 0; shift < 4; shift += 1) {
      const decoded = Buffer.from(run.slice(shift), 'base64').toString('latin1');
      const found = longestSharedStretch(decoded, value, MIN_CHARACTERS, 1);
      if (found && (!best || found.length > best.length)) best = found;
    }
  }
  return best;
}

/** What `line` holds of the canary `value`, the most characters first; undefined when it holds too little to count. */
export function traceLine(line: string, value: string): Omit<CanaryTrace, 'line'> | undefined {
  const candidates: Omit<CanaryTrace, 'line'>[] = [];
  const folded = foldCase(line);
  const stretch = longestSharedStretch(folded, value, MIN_CHARACTERS, 1);
  if (stretch && stretch.length >= MIN_CHARACTERS) {
    const asSent =
      line.slice(stretch.haystackStart, stretch.haystackStart + stretch.length) ===
      value.slice(stretch.needleStart, stretch.needleStart + stretch.length);
    candidates.push({
      kept: { from: stretch.needleStart, to: stretch.needleStart + stretch.length },
      encoding: asSent ? 'as sent' : 'case changed',
    });
  }
  const ends = sharedEnds(folded, value);
  if (ends) {
    const asSent =
      line.slice(ends.at, ends.at + ends.first) === value.slice(0, ends.first) &&
      line.slice(ends.end - ends.last, ends.end) === value.slice(-ends.last);
    candidates.push({ kept: { first: ends.first, last: ends.last }, encoding: asSent ? 'as sent' : 'case changed' });
  }
  const decoded = base64Stretch(line, value);
  if (decoded && decoded.length >= MIN_CHARACTERS) {
    candidates.push({
      kept: { from: decoded.needleStart, to: decoded.needleStart + decoded.length },
      encoding: 'base64',
    });
  }
  // A stable sort: on a tie the stretch, pushed first, describes the line.
  return candidates.sort((a, b) => keptCharacters(b.kept, value.length) - keptCharacters(a.kept, value.length))[0];
}

/**
 * Every line of `logText` that holds enough of a canary to count, per canary
 * kind. Lines are picked first by one regular-expression pass for the pieces
 * any trace must contain (an 8-character stretch, a canary's first 4, a piece
 * of its base64), then judged one by one: a 16 MiB log is read twice, not
 * once per piece.
 */
export function findCanaryTraces(logText: string, canaries: readonly Canary[]): Map<string, CanaryTrace[]> {
  const found = new Map<string, CanaryTrace[]>();
  if (canaries.length === 0) return found;
  const candidates = new Set<number>();
  // Lower-casing may change the length of a non-ASCII line, never the number of lines before it.
  linesMatching(
    logText.toLowerCase(),
    canaries.flatMap(({ value }) => rawPieces(value)),
    candidates,
  );
  linesMatching(
    logText,
    canaries.flatMap(({ value }) => base64Pieces(value)),
    candidates,
  );
  if (candidates.size === 0) return found;
  const lines = logText.split('\n');
  for (const index of [...candidates].sort((a, b) => a - b)) {
    for (const { kind, value } of canaries) {
      const trace = traceLine(lines[index] ?? '', value);
      if (trace) found.set(kind, [...(found.get(kind) ?? []), { line: index + 1, ...trace }]);
    }
  }
  return found;
}

/** Pieces of the text any trace of `value` as sent or case-changed contains: its 8-character stretches and its first 4. */
function rawPieces(value: string): string[] {
  const stretches = Array.from({ length: value.length - MIN_CHARACTERS + 1 }, (_, start) =>
    value.slice(start, start + MIN_CHARACTERS),
  );
  return [...stretches, value.slice(0, MIN_END_CHARACTERS)];
}

/** Pieces any base64 trace of `value` contains. */
function base64Pieces(value: string): string[] {
  return base64Forms(value).flatMap((form) =>
    Array.from({ length: Math.floor((form.length - BASE64_GRAM) / BASE64_STRIDE) + 1 }, (_, index) =>
      form.slice(index * BASE64_STRIDE, index * BASE64_STRIDE + BASE64_GRAM),
    ),
  );
}

/** Adds to `into` the 0-based index of every line of `text` holding one of `pieces` (which never hold a newline). */
function linesMatching(text: string, pieces: string[], into: Set<number>): void {
  const pattern = new RegExp([...new Set(pieces)].map((piece) => piece.replace(/[+/-]/g, '\\$&')).join('|'), 'g');
  let line = 0;
  let lineStart = 0;
  for (const match of text.matchAll(pattern)) {
    for (
      let next = text.indexOf('\n', lineStart);
      next !== -1 && next < match.index;
      next = text.indexOf('\n', lineStart)
    ) {
      line += 1;
      lineStart = next + 1;
    }
    into.add(line);
  }
}

/** A trace in words, for evidence: which of the canary's characters and in what form, never the characters. */
export function describeTrace(trace: Omit<CanaryTrace, 'line'>, length: number = CANARY_LENGTH): string {
  const { kept } = trace;
  let shape: string;
  if ('first' in kept) shape = `its first ${kept.first} and last ${kept.last} of ${length} characters`;
  else if (kept.from === 0 && kept.to === length) shape = `all ${length} of its characters`;
  else if (kept.from === 0) shape = `its first ${kept.to} of ${length} characters`;
  else if (kept.to === length) shape = `its last ${length - kept.from} of ${length} characters`;
  else shape = `its characters ${kept.from + 1} to ${kept.to} of ${length}`;
  return trace.encoding === 'as sent'
    ? shape
    : `${shape}, ${trace.encoding === 'base64' ? 'base64-encoded' : 'case changed'}`;
}
