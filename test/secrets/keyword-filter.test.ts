/**
 * The two engines of the keyword prefilter — the SIMD scan of
 * keyword-scan.wat for bytes and the Aho-Corasick automaton — must give the
 * same answers as a plain case-insensitive search, on every input. Random
 * content is built from pieces that stress the SIMD scan's edges: keywords in
 * mixed case, near-misses that differ only where `| 0x20` folding could
 * confuse them (`_` vs DEL, `@` vs `` ` ``), bytes >= 0x80, keywords across
 * 16-byte blocks and at the very end.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../fixtures/secrets-corpus/random.js';
import { buildKeywordFilter } from '../../src/secrets/keyword-filter.js';
import { buildSimdKeywordScan } from '../../src/secrets/keyword-scan-simd.js';
import { secretRules } from '../../src/secrets/rules.js';

/** Where each rule's keywords start, by a plain search over the lower-cased ASCII bytes. */
function reference(content: Uint8Array, keywordsByRule: readonly (readonly string[])[]): number[][] {
  // Lower-case ASCII letters only: bytes >= 0x80 stay themselves (latin1 keeps one byte per character).
  const lowered = Buffer.from(content)
    .toString('latin1')
    .replace(/[A-Z]/g, (letter) => letter.toLowerCase());
  return keywordsByRule.map((keywords) => {
    const starts = new Set<number>();
    for (const keyword of keywords) {
      for (let at = lowered.indexOf(keyword); at !== -1; at = lowered.indexOf(keyword, at + 1)) starts.add(at);
    }
    return [...starts].sort((left, right) => left - right);
  });
}

const maskOf = (starts: number[][]): number =>
  starts.reduce((bits, offsets, rule) => (offsets.length > 0 ? bits | (1 << rule) : bits), 0) >>> 0;

function visited(filter: ReturnType<typeof buildKeywordFilter>, content: Uint8Array, rules: number) {
  const starts: number[][] = Array.from({ length: rules }, () => []);
  const mask = filter.visitStarts(content, (offset, rule) => starts[rule]?.push(offset));
  return { mask, starts };
}

function randomContent(random: () => number, pieces: readonly string[], length: number): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  while (size < length) {
    const roll = random();
    const piece =
      roll < 0.6
        ? Buffer.from(pieces[Math.floor(random() * pieces.length)] ?? '', 'latin1')
        : Buffer.from([Math.floor(random() * 256)]);
    parts.push(piece);
    size += piece.length;
  }
  return Buffer.concat(parts).subarray(0, length);
}

describe('keyword filter: SIMD scan and automaton agree with a plain search', () => {
  const cases: { name: string; keywords: string[][]; pieces: string[] }[] = [
    {
      name: 'the real rule set',
      keywords: secretRules.map((rule) => [...rule.keywords]),
      pieces: [
        'AKIA',
        'akia',
        'ghp_',
        'GHP\x7f',
        'gh@_',
        'github_pat_',
        'GitHub_Pat_',
        'Private Key',
        'private\x00key',
        'postgres://',
        ':/',
        '/',
        'PASSWORD',
        'passw',
        'pwd',
        'Token',
        'tok',
        'ke',
        'y',
        'KEY',
        'Secret',
        'xoxb-',
        'XOXB-',
        'sk_live_',
        'eyJ',
        'hooks.slack.com',
        'credential',
        ' ',
        '\n',
        'é',
        '\xc1\xe9',
      ],
    },
    {
      // Keywords shorter than the three-byte fingerprint, and overlapping ones.
      name: 'short and overlapping keywords',
      keywords: [['ss', 'pass', 'passw'], ['a'], ['key', 'monkey'], ['_x']],
      pieces: ['PASS', 'passwd', 'S', 'ss', 'A', 'monKEY', 'ke', '_', '_X', '\x7fx', 'x'],
    },
  ];

  for (const { name, keywords, pieces } of cases) {
    it(`${name}: every start, every mask, at every length and alignment`, () => {
      const locate = keywords.map(() => true);
      const simd = buildKeywordFilter(keywords, { locate });
      const automaton = buildKeywordFilter(keywords, { locate, bytes: 'automaton' });
      const random = seededRandom(7);
      let checked = 0;
      for (let round = 0; round < 400; round++) {
        // Short contents test the block edges; a few long ones cross many blocks.
        const length = round < 300 ? round % 70 : 200 + Math.floor(random() * 3000);
        const content = randomContent(random, pieces, length);
        const expected = reference(content, keywords);
        const label = JSON.stringify(content.toString('latin1'));
        expect(simd.scan(content).starts, label).toEqual(expected);
        expect(simd.match(content), label).toBe(maskOf(expected));
        expect(visited(simd, content, keywords.length), label).toEqual({ mask: maskOf(expected), starts: expected });
        expect(automaton.scan(content).starts, label).toEqual(expected);
        expect(visited(automaton, content, keywords.length).starts, label).toEqual(expected);
        expect(simd.scan(content.toString('latin1')).starts, label).toEqual(expected);
        checked++;
      }
      expect(checked).toBe(400);
    });
  }

  it('runs the SIMD scan here (the agreement above is not the automaton against itself)', () => {
    expect(buildSimdKeywordScan(['key'])).toBeDefined();
    expect(WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))).toBe(true);
  });

  it('hands out more hits than one call can hold, resuming where it stopped', () => {
    // 16,384 hits fit in one call; 40,000 keywords need three, and none is lost or repeated at the seams.
    const content = Buffer.from('key'.repeat(40_000));
    const filter = buildKeywordFilter([['key'], ['ke']], { locate: [true, true] });
    const { starts } = filter.scan(content);
    const every = Array.from({ length: 40_000 }, (_unused, index) => index * 3);
    expect(starts[0]).toEqual(every);
    expect(starts[1]).toEqual(every);
  });

  it('grows its memory for a large content and still scans small ones after it', () => {
    const filter = buildKeywordFilter([['secret']], { locate: [true] });
    const large = Buffer.alloc(5 * 1024 * 1024, 'a');
    large.write('SECRET', large.length - 6, 'latin1');
    large.write('secret', 3, 'latin1');
    expect(filter.scan(large).starts).toEqual([[3, large.length - 6]]);
    expect(filter.scan(Buffer.from('no match')).rules).toBe(0);
    expect(filter.scan(Buffer.from('a Secret')).starts).toEqual([[2]]);
    expect(filter.scan(new Uint8Array(0)).rules).toBe(0);
  });

  it('refuses keywords it could never match, and a scan started from inside its own callback', () => {
    expect(() => buildKeywordFilter([['Secret']])).toThrow(/not lower-case/);
    expect(() => buildKeywordFilter([['sécret']])).toThrow(/not ASCII/);
    const scan = buildSimdKeywordScan(['key']);
    expect(() => scan?.scan(Buffer.from('key'), () => scan.scan(Buffer.from('key'), () => {}))).toThrow(/re-entered/);
    // The instance is still usable afterwards.
    let hits = 0;
    expect(scan?.scan(Buffer.from('key key'), (_hits, count) => (hits += count))).toBe(true);
    expect(hits).toBe(2);
  });

  it('scans a view into a larger buffer by its own bytes only', () => {
    const filter = buildKeywordFilter([['token']], { locate: [true] });
    const backing = Buffer.from('token xx token yy token');
    expect(filter.scan(backing.subarray(6, 17)).starts).toEqual([[3]]);
  });
});
