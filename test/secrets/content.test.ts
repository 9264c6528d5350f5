// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${NAME}` is literal placeholder text under test
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { findNamedAssignments } from '../../src/secrets/assignments.js';
import { ContentScanner, classifyBinary, scanContent } from '../../src/secrets/content.js';
import { secretRules } from '../../src/secrets/rules.js';
import { scanBuffer } from '../../src/secrets/scanner.js';

/** A Stripe-shaped key derived from a seed, joined from parts so that this file holds none. */
const key = (seed: string): string =>
  `${['sk', 'live'].join('_')}_${createHash('sha256').update(seed).digest('hex').slice(0, 32)}`;
const secretLine = (seed: string): string => `STRIPE = '${key(seed)}'\n`;

/** What the scan found, as `rule@line` (or `rule#offset` for binary content). */
function summary(scan: ReturnType<typeof scanContent>): string[] {
  return scan.matches.map((match) =>
    scan.kind === 'binary' ? `${match.ruleId}#${match.offset}` : `${match.ruleId}@${match.line}:${match.column}`,
  );
}

describe('scanContent', () => {
  it('scans plain text exactly as scanBuffer does', () => {
    const text = Buffer.from(`# settings\n${secretLine('a1')}`);
    const scan = scanContent(text);
    expect(scan.kind).toBe('text');
    expect(scan.matches).toEqual(scanBuffer(text));
  });

  it('decodes UTF-16 and UTF-32, with and without a byte order mark, and reports lines of the text', () => {
    const text = `[api]\r\n${secretLine('b2')}`;
    const le = Buffer.from(text, 'utf16le');
    const cases: [string, Buffer, string][] = [
      ['utf-16le', Buffer.concat([Buffer.from([0xff, 0xfe]), le]), 'UTF-16LE with BOM'],
      ['utf-16le', le, 'UTF-16LE without BOM'],
      ['utf-16be', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(le).swap16()]), 'UTF-16BE with BOM'],
      ['utf-16be', Buffer.from(le).swap16(), 'UTF-16BE without BOM'],
    ];
    const utf32 = Buffer.alloc(4 * (text.length + 1));
    utf32.writeUInt32LE(0xfeff, 0);
    [...text].forEach((character, index) => {
      utf32.writeUInt32LE(character.codePointAt(0) ?? 0, 4 * (index + 1));
    });
    cases.push(['utf-32le', utf32, 'UTF-32LE with BOM']);
    for (const [kind, bytes, name] of cases) {
      const scan = scanContent(bytes);
      expect(scan.kind, name).toBe(kind);
      expect(
        summary(scan).filter((entry) => entry.startsWith('stripe-key')),
        name,
      ).toEqual(['stripe-key@2:11']);
      expect(scan.matches[0]?.value, name).toBe(key('b2'));
    }
  });

  it('finds keys in the printable runs of binary content, at their byte offsets', () => {
    const bytes = Buffer.concat([Buffer.from([0, 1, 2, 3, 0xff, 0]), Buffer.from(key('c3')), Buffer.from([0, 7])]);
    const scan = scanContent(bytes);
    expect(scan.kind).toBe('binary');
    expect(summary(scan)).toEqual(['stripe-key#6']);
    expect(scan.matches[0]?.value).toBe(key('c3'));
  });

  it('names archives as not judged instead of passing them', () => {
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]), Buffer.from(key('d4'))]);
    expect(scanContent(zip)).toEqual({
      kind: 'binary',
      matches: [],
      unjudged: 'a zip archive (zip, jar, docx, xlsx, whl …)',
    });
    expect(classifyBinary(Buffer.from([0x1f, 0x8b, 0x08, 0x00])).unjudged).toBe('gzip-compressed data');
    // Text that merely starts like bzip2's magic is text.
    expect(classifyBinary(Buffer.from('BZh\0 not really')).unjudged).toBe('bzip2-compressed data');
    expect(scanContent(Buffer.from('BZh is how bzip2 files start\n')).kind).toBe('text');
  });
});

describe('ContentScanner (streaming in bounded windows)', () => {
  /**
   * 3 MiB of text with keys near the start, on the last line, and at each point where one of the
   * first two windows stops reporting or ends: the line starts 8 bytes before the point, so the
   * variable's name lies before it and the value after it.
   */
  function largeText(): { text: string; expected: string[] } {
    const filler = 'filler line without anything secret in it, padding only\n';
    const lines: string[] = [];
    const expected: string[] = [];
    let bytes = 0;
    const add = (line: string) => {
      lines.push(line);
      bytes += line.length;
    };
    add(secretLine('e5'));
    expected.push('stripe-key@1:11');
    // Windows of 1 MiB, each scanned again from 64 KiB before its end, with 512 bytes of context before that.
    const window = 1024 * 1024;
    const overlap = 64 * 1024;
    const second = window - overlap - 512;
    for (const mark of [window - overlap, window, second + window - overlap, second + window]) {
      while (bytes + filler.length < mark - 10) add(filler);
      add(`${'x'.repeat(mark - 8 - bytes - 1)}\n`);
      add(`API_SECRET = '${key(`m${mark}`)}'\n`);
      expected.push(`stripe-key@${lines.length}:15`, `generic-secret-assignment@${lines.length}:15`);
    }
    while (bytes < 3 * 1024 * 1024) add(filler);
    add(secretLine('z9'));
    expected.push(`stripe-key@${lines.length}:11`);
    return { text: lines.join(''), expected };
  }

  it('finds each secret once, with the line and column of the whole text, whatever the pieces', () => {
    const { text, expected } = largeText();
    const bytes = Buffer.from(text);
    const whole = summary(scanContent(bytes));
    expect(whole).toEqual(expected);
    for (const pieceSize of [1000, 65_536, 1024 * 1024, 3 * 1024 * 1024 + 7]) {
      const scanner = new ContentScanner();
      for (let at = 0; at < bytes.length; at += pieceSize) scanner.push(bytes.subarray(at, at + pieceSize));
      expect(summary(scanner.end()), `pieces of ${pieceSize}`).toEqual(expected);
    }
  });

  it('finds each named assignment once, where a window ends or stops reporting too, as the whole text has it', () => {
    const names = ['JWT_SECRET'];
    const filler = 'filler line without anything secret in it, padding only\n';
    const lines: string[] = [];
    let bytes = 0;
    const add = (line: string) => {
      lines.push(line);
      bytes += Buffer.byteLength(line);
    };
    add(`JWT_SECRET: ${'é'}${'v0'}\n`);
    const window = 1024 * 1024;
    const overlap = 64 * 1024;
    const second = window - overlap - 512;
    // The name starts 8, 1, 0 and 12 bytes before each point (the value after it), then a code default and a
    // name after a long run of spaces, whose value lies 600 bytes past it.
    for (const mark of [window - overlap, window, second + window - overlap, second + window]) {
      for (const [before, line] of [
        [8, (value: string) => `JWT_SECRET=${value}\n`],
        [1, (value: string) => `JWT_SECRET=${value}\n`],
        [0, (value: string) => `JWT_SECRET=${value}\n`],
        [12, (value: string) => `getenv("JWT_SECRET", "${value}")\n`],
        [4, (value: string) => `JWT_SECRET${' '.repeat(600)}= ${value}\n`],
      ] as const) {
        const target = mark - before - 1 + (before === 4 ? -700 : 0);
        while (bytes + filler.length < target - 10) add(filler);
        if (target - bytes - 1 > 0) add(`${'x'.repeat(target - bytes - 1)}\n`);
        add(line(`v${mark}-${before}`));
      }
    }
    while (bytes < 3 * 1024 * 1024) add(filler);
    add('JWT_SECRET: last\n');
    const text = lines.join('');
    const expected = findNamedAssignments(text, names, 'dump.txt').map(({ value, line }) => `${line}=${value}`);
    expect(expected).toHaveLength(2 + 4 * 5);
    const content = Buffer.from(text);
    for (const pieceSize of [1000, 65_536, 1024 * 1024, 3 * 1024 * 1024 + 7]) {
      const scanner = new ContentScanner('dump.txt', secretRules, names);
      for (let at = 0; at < content.length; at += pieceSize) scanner.push(content.subarray(at, at + pieceSize));
      const found = (scanner.end().assignments ?? []).map(({ value, line }) => `${line}=${value}`);
      expect(found, `pieces of ${pieceSize}`).toEqual(expected);
    }
  });

  it('finds named assignments in the printable runs of binary content, at their byte offsets', () => {
    const bytes = Buffer.concat([Buffer.from([0, 1, 2, 0, 0xff]), Buffer.from('JWT_SECRET=x9\0JWT_SECRET: y8\n')]);
    const scan = scanContent(bytes, 'app.bin', secretRules, ['JWT_SECRET']);
    expect(scan.kind).toBe('binary');
    expect(scan.assignments?.map(({ value, offset }) => `${offset}=${value}`)).toEqual(['16=x9', '31=y8']);
    // Without names, nothing is looked for: the scan is as it was.
    expect(scanContent(bytes, 'app.bin').assignments).toBeUndefined();
  });

  it('decodes UTF-16 pieces cut inside a character', () => {
    const text = `héllo — ${secretLine('f6')}`;
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const scanner = new ContentScanner();
    for (let at = 0; at < bytes.length; at += 3) scanner.push(bytes.subarray(at, at + 3));
    const scan = scanner.end();
    expect(scan.kind).toBe('utf-16le');
    expect(scan.matches.map((match) => match.value)).toEqual([key('f6')]);
  });

  it('copies the pieces it keeps: a reused read buffer cannot change what is scanned', () => {
    const scanner = new ContentScanner();
    const buffer = Buffer.from(secretLine('g7'));
    scanner.push(buffer);
    buffer.fill(0x20);
    expect(scanner.end().matches.map((match) => match.value)).toEqual([key('g7')]);
  });
});
