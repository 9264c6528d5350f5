/**
 * Content that is not plain text, made scannable: UTF-16 and UTF-32 text is
 * decoded, binary content is reduced to its printable runs (where a key or a
 * token would lie in a database file, a build product or a file with a stray
 * NUL byte), and content too large to hold is scanned as a stream, one
 * bounded window at a time. Archives (zip, gzip, …) hide their content from
 * any byte scan: they are named as not judged, never passed as clean.
 *
 * Plain text, the common case, never comes here beyond one test: it goes
 * straight to `scanBytes`, so nothing in this file costs a text blob
 * anything (bench/results/history-scan.md).
 */
import { findNamedAssignmentsInBytes, type NamedAssignmentInBytes } from './assignments.js';
import { type SecretRule, secretRules } from './rules.js';
import { anyKeyword, looksBinary, type SecretMatch, scanBytes } from './scanner.js';

export type ContentKind = 'text' | 'utf-16le' | 'utf-16be' | 'utf-32le' | 'utf-32be' | 'binary';

export interface ContentScan {
  kind: ContentKind;
  /**
   * Findings. For text and decoded text, line and column are those of the
   * text; for binary content, `offset` is the byte offset in the file (its
   * lines mean nothing).
   */
  matches: SecretMatch[];
  /**
   * The values given to the secret names the scan was asked to look for, positioned as `matches` are; set
   * only when names were given and the content was not plain text held whole (that text is searched as one
   * string by the caller, findNamedAssignments).
   */
  assignments?: NamedAssignmentInBytes[];
  /** Set when no scan can judge the content: what it is (`a zip archive`). */
  unjudged?: string;
}

/** How many bytes of the start decide what the content is (git's own binary probe reads as many). */
const HEAD_BYTES = 8000;

/** Archive and compression formats by their magic bytes: their content is not in their bytes. */
const ARCHIVES: readonly { name: string; magic: readonly number[] }[] = [
  { name: 'a zip archive (zip, jar, docx, xlsx, whl …)', magic: [0x50, 0x4b, 0x03, 0x04] },
  { name: 'an empty or spanned zip archive', magic: [0x50, 0x4b, 0x05, 0x06] },
  { name: 'a spanned zip archive', magic: [0x50, 0x4b, 0x07, 0x08] },
  { name: 'gzip-compressed data', magic: [0x1f, 0x8b] },
  { name: 'bzip2-compressed data', magic: [0x42, 0x5a, 0x68] },
  { name: 'xz-compressed data', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'zstd-compressed data', magic: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: 'a 7z archive', magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { name: 'a rar archive', magic: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07] },
];

function startsWith(content: Uint8Array, magic: readonly number[]): boolean {
  return content.length >= magic.length && magic.every((byte, index) => content[index] === byte);
}

/** What binary content is, from its first bytes: decodable text, an archive, or other binary. */
export function classifyBinary(head: Uint8Array): { kind: ContentKind; unjudged?: string } {
  // Byte order marks first; UTF-32's begins with UTF-16's, so it is tested first.
  if (startsWith(head, [0xff, 0xfe, 0x00, 0x00])) return { kind: 'utf-32le' };
  if (startsWith(head, [0x00, 0x00, 0xfe, 0xff])) return { kind: 'utf-32be' };
  if (startsWith(head, [0xff, 0xfe])) return { kind: 'utf-16le' };
  if (startsWith(head, [0xfe, 0xff])) return { kind: 'utf-16be' };
  const archive = ARCHIVES.find((format) => startsWith(head, format.magic));
  if (archive) return { kind: 'binary', unjudged: archive.name };
  return { kind: utf16WithoutBom(head) ?? 'binary' };
}

/**
 * UTF-16 without a byte order mark, as Windows tools write it: text in the
 * Latin range is every other byte NUL, on the odd offsets (little-endian) or
 * the even ones (big-endian). A third of the pairs so marked and almost none
 * the other way round is text, not a binary format that happens to hold NULs.
 */
function utf16WithoutBom(head: Uint8Array): ContentKind | undefined {
  const pairs = Math.floor(Math.min(head.length, HEAD_BYTES) / 2);
  if (pairs < 2) return undefined;
  let evenNul = 0;
  let oddNul = 0;
  for (let pair = 0; pair < pairs; pair++) {
    if (head[2 * pair] === 0) evenNul++;
    if (head[2 * pair + 1] === 0) oddNul++;
  }
  if (oddNul >= pairs / 3 && evenNul <= pairs / 100) return 'utf-16le';
  if (evenNul >= pairs / 3 && oddNul <= pairs / 100) return 'utf-16be';
  return undefined;
}

/** Bytes that text is made of: tab, LF, CR and printable ASCII; a byte at or above 0x80 may be UTF-8. */
const TEXT_BYTE = new Uint8Array(256).map((_unused, byte) =>
  byte === 0x09 || byte === 0x0a || byte === 0x0d || (byte >= 0x20 && byte !== 0x7f) ? 1 : 0,
);

/** What each byte becomes in the printable runs: itself, or a line break. */
const RUN_BYTE = new Uint8Array(256).map((_unused, byte) => (TEXT_BYTE[byte] === 1 ? byte : 0x0a));

/** Reused by every binary piece: `WindowedScan.push` copies what it is given before the next piece comes. */
let runsScratch = new Uint8Array(64 * 1024);

/**
 * The printable runs of binary content, at their own offsets: every other
 * byte becomes a line break, so a run ends where a value in a file would, and
 * a finding's offset is its offset in the file. The result is only valid
 * until the next call (a history holds tens of MB of images and binaries:
 * one new array per piece was most of their cost).
 */
function printableRuns(chunk: Uint8Array): Uint8Array {
  if (runsScratch.length < chunk.length) runsScratch = new Uint8Array(chunk.length);
  const runs = runsScratch;
  for (let index = 0; index < chunk.length; index++) runs[index] = RUN_BYTE[chunk[index] as number] as number;
  return runs.subarray(0, chunk.length);
}

/** Decodes UTF-32 in pieces of any length, carrying an unfinished code unit to the next piece. */
class Utf32Decoder {
  private carry = new Uint8Array(0);
  constructor(private readonly littleEndian: boolean) {}

  decode(chunk: Uint8Array): string {
    const bytes = this.carry.length === 0 ? chunk : concatBytes(this.carry, chunk);
    const whole = bytes.length - (bytes.length % 4);
    this.carry = bytes.slice(whole);
    const view = new DataView(bytes.buffer, bytes.byteOffset, whole);
    let text = '';
    for (let at = 0; at < whole; at += 4) {
      const point = view.getUint32(at, this.littleEndian);
      // A byte order mark is not content; an invalid code point reads as U+FFFD, as TextDecoder does.
      if (point === 0xfeff && at === 0 && text === '') continue;
      text += point <= 0x10ffff && (point < 0xd800 || point > 0xdfff) ? String.fromCodePoint(point) : '\ufffd';
    }
    return text;
  }
}

function concatBytes(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first);
  joined.set(second, first.length);
  return joined;
}

/** Turns raw pieces of one kind of content into bytes `scanBytes` reads as text. */
function scannableBytes(kind: ContentKind): (chunk: Uint8Array) => Uint8Array {
  switch (kind) {
    case 'text':
      return (chunk) => chunk;
    case 'binary':
      return printableRuns;
    case 'utf-16le':
    case 'utf-16be': {
      // Streaming: a code unit or a surrogate pair cut between pieces is finished by the next one.
      const decoder = new TextDecoder(kind, { fatal: false });
      return (chunk) => Buffer.from(decoder.decode(chunk, { stream: true }), 'utf8');
    }
    case 'utf-32le':
    case 'utf-32be': {
      const decoder = new Utf32Decoder(kind === 'utf-32le');
      return (chunk) => Buffer.from(decoder.decode(chunk), 'utf8');
    }
  }
}

/** Windows of this size are scanned at a time: memory stays bounded whatever the content's size. */
const WINDOW_BYTES = 1024 * 1024;
/**
 * Each window is scanned again from this far before its end, so a secret cut
 * by a window's end is found whole in the next: a secret longer than this
 * (no real key comes near it) could be missed where it spans two windows.
 */
const OVERLAP_BYTES = 64 * 1024;
/** What a match may read before its secret (the variable's name, a PEM header): kept from the previous window. */
const CONTEXT_BYTES = 512;

/**
 * Runs the rules over a byte stream one window at a time. Each secret is
 * reported by exactly one window: the one where it starts after the previous
 * window's end of reporting and more than OVERLAP_BYTES before its own end
 * (the last window reports everything after the previous one). Lines and
 * columns are counted across windows.
 */
class WindowedScan {
  readonly matches: SecretMatch[] = [];
  readonly assignments: NamedAssignmentInBytes[] = [];
  private buffer = new Uint8Array(0);
  private filled = 0;
  /** Offset in the stream of buffer[0]. */
  private base = 0;
  /** Secrets starting before this offset were reported by an earlier window. */
  private reportFrom = 0;
  /** Line breaks in the stream before `base`, and the offset where the line holding `base` starts. */
  private linesBefore = 0;
  private lineStart = 0;

  constructor(
    private readonly rules: readonly SecretRule[],
    private readonly path: string | undefined,
    private readonly names: readonly string[],
  ) {}

  push(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; ) {
      if (this.filled === this.buffer.length) this.grow(bytes.length - at);
      const take = Math.min(this.buffer.length - this.filled, bytes.length - at);
      this.buffer.set(bytes.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === WINDOW_BYTES) this.scanWindow(false);
    }
  }

  end(): void {
    this.scanWindow(true);
  }

  /** Small content gets a small buffer; it grows to one window and no further. */
  private grow(wanted: number): void {
    const size = Math.min(WINDOW_BYTES, Math.max(2 * this.buffer.length, this.filled + wanted, 4096));
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.filled));
    this.buffer = grown;
  }

  private scanWindow(last: boolean): void {
    const window = this.buffer.subarray(0, this.filled);
    const reportBefore = last ? Number.POSITIVE_INFINITY : this.base + this.filled - OVERLAP_BYTES;
    for (const match of scanBytes(window, this.rules, this.path)) {
      const offset = this.base + match.offset;
      if (offset < this.reportFrom || offset >= reportBefore) continue;
      this.matches.push({ ...match, ...this.inStream(match), offset });
    }
    // A named assignment is reported by the window its match starts in: that window holds the OVERLAP_BYTES after
    // it, where the value lies, however far the name is from it, and the byte before it, which says the name is
    // not the end of a longer one.
    for (const found of findNamedAssignmentsInBytes(window, this.names, this.path ?? '')) {
      const start = this.base + found.start;
      if (start < this.reportFrom || start >= reportBefore) continue;
      this.assignments.push({ ...found, ...this.inStream(found), start, offset: this.base + found.offset });
    }
    if (last) return;
    const keepFrom = reportBefore - CONTEXT_BYTES - this.base;
    this.countLines(window.subarray(0, keepFrom));
    this.buffer.copyWithin(0, keepFrom, this.filled);
    this.filled -= keepFrom;
    this.base += keepFrom;
    this.reportFrom = reportBefore;
  }

  /** Line and column in the whole stream of a position in the current window. */
  private inStream(position: { line: number; column: number }): { line: number; column: number } {
    const line = this.linesBefore + position.line;
    const column = position.line === 1 ? this.base - this.lineStart + position.column : position.column;
    return { line, column };
  }

  private countLines(dropped: Uint8Array): void {
    const bytes = Buffer.from(dropped.buffer, dropped.byteOffset, dropped.byteLength);
    for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) {
      this.linesBefore++;
      this.lineStart = this.base + at + 1;
    }
  }
}

/**
 * Scans content that arrives in pieces (a file too large to hold, a blob
 * streamed from git), or that is not plain text, in bounded memory: what the
 * content is is decided from its first 8000 bytes, then each piece is made
 * scannable and scanned window by window.
 */
export class ContentScanner {
  private head: Uint8Array[] = [];
  private headBytes = 0;
  private decided: { kind: ContentKind; unjudged?: string; toBytes: (chunk: Uint8Array) => Uint8Array } | undefined;
  private readonly windows: WindowedScan;

  /** `names`: secret names whose assigned values are looked for in every window too (ContentScan.assignments). */
  constructor(
    path?: string,
    rules: readonly SecretRule[] = secretRules,
    private readonly names: readonly string[] = [],
  ) {
    this.windows = new WindowedScan(rules, path, names);
  }

  push(chunk: Uint8Array): void {
    if (!this.decided) {
      if (this.headBytes + chunk.length < HEAD_BYTES) {
        // Pieces are only valid during the call (git's read buffer is reused): keep a copy until the start is known.
        this.head.push(new Uint8Array(chunk));
        this.headBytes += chunk.length;
        return;
      }
      this.decide(Buffer.concat([...this.head, chunk.subarray(0, HEAD_BYTES - this.headBytes)]));
    }
    this.feed(chunk);
  }

  end(): ContentScan {
    if (!this.decided) this.decide(Buffer.concat(this.head));
    const decided = this.decided;
    if (!decided) throw new Error('content scan ended undecided');
    if (decided.unjudged !== undefined) return { kind: decided.kind, matches: [], unjudged: decided.unjudged };
    this.windows.end();
    return {
      kind: decided.kind,
      matches: this.windows.matches,
      ...(this.names.length > 0 ? { assignments: this.windows.assignments } : {}),
    };
  }

  /** Decides what the content is from its start, then scans the pieces kept until then. */
  private decide(start: Uint8Array): void {
    const { kind, unjudged } = looksBinary(start) ? classifyBinary(start) : { kind: 'text' as const };
    this.decided = { kind, toBytes: scannableBytes(kind), ...(unjudged === undefined ? {} : { unjudged }) };
    const kept = this.head;
    this.head = [];
    for (const piece of kept) this.feed(piece);
  }

  private feed(chunk: Uint8Array): void {
    const decided = this.decided;
    if (!decided || decided.unjudged !== undefined) return;
    // In pieces of at most a window: what `toBytes` returns is scratch of that size, not of the whole blob.
    for (let at = 0; at < chunk.length; at += WINDOW_BYTES)
      this.windows.push(decided.toBytes(chunk.subarray(at, at + WINDOW_BYTES)));
  }
}

/**
 * Scans a whole file or blob. Plain text goes straight to the rules, exactly
 * as `scanBuffer` does (its named assignments are the caller's to look for in
 * its text); anything else is decoded, reduced to its printable runs, or named
 * as not judged, and searched for `names`' values here.
 */
export function scanContent(
  content: Uint8Array,
  path?: string,
  rules: readonly SecretRule[] = secretRules,
  names: readonly string[] = [],
): ContentScan {
  if (!looksBinary(content)) return { kind: 'text', matches: scanBytes(content, rules, path) };
  const { kind, unjudged } = classifyBinary(content.subarray(0, HEAD_BYTES));
  if (kind === 'binary' && unjudged === undefined) {
    const assigned = names.length > 0 ? { assignments: [] } : {};
    // The printable runs keep every text byte where it is, and keywords and names are text: one absent from
    // the raw bytes is absent from the runs, and then nothing can match (most images and compiled files).
    const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    if (!anyKeyword(content, rules) && !names.some((name) => bytes.includes(name)))
      return { kind, matches: [], ...assigned };
    // One window holds it all: what ContentScanner would find, without copying the blob into a window.
    if (content.length <= WINDOW_BYTES) {
      const runs = printableRuns(content);
      const matches = scanBytes(runs, rules, path);
      if (names.length === 0) return { kind, matches };
      return { kind, matches, assignments: findNamedAssignmentsInBytes(runs, names, path ?? '') };
    }
  }
  const scanner = new ContentScanner(path, rules, names);
  scanner.push(content);
  return scanner.end();
}
