import { describe, expect, it } from 'vitest';
import { buildCorpus } from '../../fixtures/secrets-corpus/corpus.js';
import { regexReach } from '../../src/secrets/regex-reach.js';
import { secretRules } from '../../src/secrets/rules.js';
import { scanBuffer, scanText } from '../../src/secrets/scanner.js';

/**
 * Content above 64 KiB is decoded a window at a time around each keyword
 * start (scanner.ts), on the ground that a rule's regex cannot read past what
 * regex-reach.ts bounds. These tests hold the windowed scan to the scan of
 * the whole text (`scanText`, one string), wherever a secret falls.
 */
const corpus = buildCorpus({ truePositives: 40 });

/** Code lines dense in the generic rule's keywords, so windows move often. */
const FILLER_LINES = [
  "const key = cache.get(request.url + ':v2');",
  '  // Tokens are validated by the middleware before this handler runs.',
  "  const password = await vault.read('app/db/password');",
  '  return new Response(JSON.stringify({ ok: true, items: rows.map((row) => row.id) }));',
  '"js-tokens": "^4.0.0", "resolved": "https://registry.npmjs.org/js-tokens/-/js-tokens-4.0.0.tgz",',
];

function filler(length: number, seed: number): string {
  let text = '';
  for (let line = seed; text.length < length; line++) text += `${FILLER_LINES[line % FILLER_LINES.length]}\n`;
  return text.slice(0, length);
}

/** Every finding as the whole-text scan reports it (ASCII content: bytes and characters agree). */
function expectSameAsWholeText(text: string, label: string): void {
  expect(scanBuffer(Buffer.from(text, 'latin1')), label).toEqual(scanText(text));
}

describe('windowed decoding of large content', () => {
  it('knows how far every anchored rule can read, so that none of them needs the whole text', () => {
    for (const rule of secretRules.filter((candidate) => candidate.startsAtKeyword)) {
      const reach = regexReach(rule.regex);
      expect(reach, rule.id).toBeDefined();
      expect(reach?.bound, rule.id).toBeLessThan(1024);
    }
  });

  it('bounds what it can and refuses what it cannot', () => {
    expect(regexReach(/ab\s*c{2,3}(?!d)/g)).toMatchObject({ bound: 2 + 1 + 3 + 1 });
    expect(regexReach(/a[xy]+/g)?.runChars['x'.charCodeAt(0)]).toBe(1);
    expect(regexReach(/a[xy]+/gi)?.runChars['X'.charCodeAt(0)]).toBe(1);
    expect(regexReach(/a[xy]+/g)?.runChars['z'.charCodeAt(0)]).toBe(0);
    expect(regexReach(/(a)\1/g)).toBeUndefined();
    expect(regexReach(/(?<=a)b/g)).toBeUndefined();
    expect(regexReach(/(?:ab)+/g)).toBeUndefined();
  });

  it('finds what the whole-text scan finds, wherever a secret falls against the windows', () => {
    const samples = corpus.secrets.filter((sample) => sample.path === undefined).slice(0, 60);
    expect(samples.length).toBeGreaterThan(20);
    // Around the first window's tail (64 KiB - 8 KiB), its end, and a later window's.
    const offsets = [57_300, 57_340, 65_400, 65_530, 65_540, 120_000, 122_800];
    samples.forEach((sample, index) => {
      const at = offsets[index % offsets.length] ?? 0;
      const text = `${filler(at, index)}\n${sample.text}\n${filler(140_000 - at, index + 1)}`;
      expectSameAsWholeText(text, `${sample.ruleId} at ${at}`);
    });
  });

  it('still finds a secret whose name and value are split by a run longer than a window', () => {
    const value = 'Zt2LmW9xVb4RnK7pYc3Hq8Xq8Zt2';
    const cases = [
      `${filler(60_000, 0)}\nAPI_TOKEN =${' '.repeat(80_000)}"${value}"\n${filler(10_000, 1)}`,
      `${filler(50_000, 2)}\nSECRET_KEY:${'\n'.repeat(70_000)}${value}\n`,
      // A base64url run far longer than a window: the JWT ends where the run does.
      `${filler(40_000, 3)}\ntoken = eyJ${'a'.repeat(30)}.eyJ${'b'.repeat(30)}.${'c'.repeat(90_000)}\n${filler(5_000, 4)}`,
    ];
    for (const text of cases) {
      const found = scanText(text);
      expect(found.length).toBeGreaterThan(0);
      expectSameAsWholeText(text, text.slice(-40));
    }
  });

  it('reports lines and columns of the content', () => {
    const text = `${filler(100_000, 0)}\nAPI_TOKEN = "Zt2LmW9xVb4RnK7pYc3Hq8Xq"\n`;
    const [found] = scanBuffer(Buffer.from(text));
    expect(found?.line).toBe(text.split('\n').length - 1);
    expect(found?.column).toBe('API_TOKEN = "'.length + 1);
  });
});
