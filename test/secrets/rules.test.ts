// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${NAME}` is literal placeholder text under test
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildCorpus } from '../../fixtures/secrets-corpus/corpus.js';
import { alphabets, randomString, seededRandom } from '../../fixtures/secrets-corpus/random.js';
import {
  distinctCharacters,
  mostlyRepeatingUnitLength,
  repeatingUnitLength,
  shannonEntropy,
} from '../../src/secrets/entropy.js';
import { buildKeywordFilter } from '../../src/secrets/keyword-filter.js';
import { isKnownDefaultSecret, isPlaceholder } from '../../src/secrets/placeholders.js';
import { readsAsWords, type SecretRule, secretRules } from '../../src/secrets/rules.js';
import { looksBinary, scanBuffer, scanText, triggeredRules } from '../../src/secrets/scanner.js';
import { encodedText } from '../../src/secrets/strength.js';

const corpus = buildCorpus({ truePositives: 120 });

describe('secret rules as data', () => {
  it('every rule is well formed: global regex, lower-case keywords, a secret group that exists', () => {
    const ids = new Set<string>();
    for (const rule of secretRules) {
      expect(ids.has(rule.id), `duplicate rule id ${rule.id}`).toBe(false);
      ids.add(rule.id);
      expect(rule.regex.flags).toContain('g');
      expect(rule.keywords.length).toBeGreaterThan(0);
      for (const keyword of rule.keywords) expect(keyword).toBe(keyword.toLowerCase());
      const groups = new RegExp(`${rule.regex.source}|`).exec('')?.length ?? 0;
      for (const group of [rule.secretGroup].flat()) expect(group).toBeLessThan(groups);
    }
  });

  it('every rule is proven by samples that must and must not match', () => {
    for (const rule of secretRules) {
      expect(corpus.secrets.filter((sample) => sample.ruleId === rule.id).length, rule.id).toBeGreaterThan(0);
      expect(corpus.benign.filter((sample) => sample.ruleId === rule.id).length, rule.id).toBeGreaterThan(0);
    }
  });

  for (const rule of secretRules) {
    describe(rule.id, () => {
      const mustMatch = corpus.secrets.filter((sample) => sample.ruleId === rule.id);
      const mustNotMatch = corpus.benign.filter((sample) => sample.ruleId === rule.id);
      it.each(mustMatch.map((sample, index) => [`${sample.name} #${index}`, sample.text, sample.path]))(
        'finds %s',
        (_name, text, path) => {
          const found = scanText(text, secretRules, path).map((match) => match.ruleId);
          expect(found).toContain(rule.id);
        },
      );
      it.each(mustNotMatch.map((sample) => [sample.name, sample.text, sample.path]))(
        'ignores %s',
        (_name, text, path) => {
          expect(scanText(text, secretRules, path)).toEqual([]);
        },
      );
    });
  }

  it('the keyword prefilter keeps a rule from running on content without its keywords', () => {
    const token = corpus.secrets.find((sample) => sample.ruleId === 'github-token')?.text ?? '';
    const githubRule = secretRules.find((rule) => rule.id === 'github-token');
    expect(githubRule).toBeDefined();
    if (!githubRule) return;
    const withoutKeyword = { ...githubRule, keywords: ['never-present-keyword'] };
    expect(scanText(token, [withoutKeyword])).toEqual([]);
    expect(scanText(token, [githubRule]).length).toBe(1);
  });
});

describe('scanner', () => {
  it('reports 1-based line and column of the secret value', () => {
    const secretLine = corpus.secrets.find((sample) => sample.ruleId === 'npm-token')?.text ?? '';
    const text = `# registry settings\n\n${secretLine}\n`;
    const [match] = scanText(text);
    expect(match?.ruleId).toBe('npm-token');
    expect(match?.line).toBe(3);
    expect(match?.column).toBe(secretLine.indexOf('npm_') + 1);
    expect(secretLine.slice((match?.column ?? 1) - 1)).toBe(match?.value);
  });

  it('reports a multi-line PEM key on the line of its body', () => {
    const pem = corpus.secrets.find((sample) => sample.name === 'PEM private key')?.text ?? '';
    const [match] = scanText(`key: |\n${pem}`);
    expect(match?.ruleId).toBe('private-key');
    expect(match?.line).toBe(3);
  });

  it('reports a key written with string escapes once, on the line of its header', () => {
    for (const name of [
      'GCP service-account key file (JSON-escaped line breaks)',
      'notebook cell pasting a key, one JSON string a line',
      'key concatenated from quoted lines in code',
    ]) {
      for (const sample of corpus.secrets.filter((candidate) => candidate.name === name)) {
        const text = `\n${sample.text}`;
        const header = text.split('\n').findIndex((line) => line.includes('-----BEGIN')) + 1;
        const found = scanText(text, secretRules, sample.path).filter((match) =>
          match.ruleId.startsWith('private-key'),
        );
        expect(
          found.map((match) => [match.ruleId, match.line]),
          name,
        ).toEqual([['private-key', header]]);
        expect(
          scanBuffer(Buffer.from(text)).filter((match) => match.ruleId === 'private-key'),
          name,
        ).toEqual(found);
      }
    }
  });

  it('reports a base64 key once, where its run starts, whichever byte of a triplet the header starts at', () => {
    const samples = corpus.secrets.filter((sample) => sample.ruleId === 'private-key-base64');
    expect(new Set(samples.map((sample) => sample.name)).size).toBe(5);
    for (const sample of samples) {
      const found = scanText(sample.text, secretRules, sample.path);
      expect(
        found.map((match) => match.ruleId),
        sample.name,
      ).toEqual(['private-key-base64']);
      expect(found[0]?.line, sample.name).toBe(sample.text.split('\n').findIndex((line) => /LS0t/.test(line)) + 1);
    }
  });

  it('skips binary content and scans text buffers', () => {
    const secretLine = corpus.secrets.find((sample) => sample.ruleId === 'stripe-key')?.text ?? '';
    const binary = Buffer.concat([Buffer.from([0x89, 0x50, 0x00, 0x01]), Buffer.from(secretLine)]);
    expect(looksBinary(binary)).toBe(true);
    expect(scanBuffer(binary)).toEqual([]);
    expect(scanBuffer(Buffer.from(secretLine)).map((match) => match.ruleId)).toEqual(['stripe-key']);
  });
});

describe('entropy and defaults', () => {
  it('measures entropy, distinct characters and repetition', () => {
    expect(shannonEntropy('aaaaaaaa')).toBe(0);
    expect(shannonEntropy('abcdabcd')).toBeCloseTo(2);
    expect(distinctCharacters('0123456789012345')).toBe(10);
    expect(repeatingUnitLength('0123456789'.repeat(4))).toBe(10);
    expect(repeatingUnitLength('abcdef')).toBe(6);
    expect(mostlyRepeatingUnitLength(`${'0123456789'.repeat(4)}x`)).toBe(10);
    expect(mostlyRepeatingUnitLength('0123456789'.repeat(4))).toBe(10);
    // Random values repeat about one character in their alphabet's size, never nine in ten.
    for (let round = 0; round < 50; round++) {
      const value = randomBytes(48).toString('base64url');
      expect(mostlyRepeatingUnitLength(value), value).toBe(value.length);
      expect(encodedText(value), value).toBeUndefined();
      expect(encodedText(randomBytes(32).toString('hex'))).toBeUndefined();
    }
    expect(encodedText(Buffer.from('a text of thirty-two characters!').toString('base64'))).toEqual({
      form: 'base64',
      text: 'a text of thirty-two characters!',
    });
  });

  it('knows placeholders and default secrets', () => {
    for (const value of ['changeme', '<your-token>', '${AUTH_SECRET}', 'xxxxxxxx', 'my-example-key']) {
      expect(isPlaceholder(value), value).toBe(true);
    }
    expect(isPlaceholder('q8Zt2LmW9xVb4RnK7pYc3HdF6jSg1TeA')).toBe(false);
    for (const value of ['default_secret', 'admin123', 'CHANGEME', 'your-secret-key', 'django-insecure-abc']) {
      expect(isKnownDefaultSecret(value), value).toBe(true);
    }
    expect(isKnownDefaultSecret('q8Zt2LmW9xVb4RnK7pYc3HdF6jSg1TeA')).toBe(false);
  });
});

describe('keyword filter (Aho-Corasick prefilter)', () => {
  const filter = buildKeywordFilter([['ghp_', 'gho_'], ['secret'], ['key', 'monkey']]);

  it('reports every rule with a keyword present, case-insensitively, in strings and buffers', () => {
    expect(filter.match('nothing here')).toBe(0);
    expect(filter.match('token GHP_abc')).toBe(0b001);
    expect(filter.match('the SeCrEt is a Key')).toBe(0b110);
    expect(filter.match(Buffer.from('x gho_ y secret z monkey'))).toBe(0b111);
  });

  it('finds overlapping keywords through failure links and ignores non-ASCII bytes', () => {
    expect(filter.match('monke')).toBe(0);
    expect(filter.match('monkey')).toBe(0b100);
    expect(filter.match('sec\u00e9ret')).toBe(0);
    expect(filter.match(Buffer.from('sec\u00e9ret secret'))).toBe(0b010);
  });

  it('locates where the keywords of the located rules start, ascending, once each', () => {
    // "pass" and "passw" start at 5, "ss" at 7 but ends before "passw" does: sorted and deduplicated.
    const locating = buildKeywordFilter([['ghp_'], ['passw', 'pass', 'ss'], ['key']], { locate: [false, true, true] });
    const { rules, starts } = locating.scan('ghp_ PASSWD keykey');
    expect(rules).toBe(0b111);
    expect(starts).toEqual([[], [5, 7], [12, 15]]);
    expect(locating.scan(Buffer.from('ghp_ PASSWD keykey')).starts).toEqual(starts);
    expect(locating.match('ghp_ PASSWD keykey')).toBe(0b111);
  });

  it('finds every keyword wherever it falls, including across the middle where the two walks meet', () => {
    // Bytes walk the content in two halves at once; a keyword across the middle, at either end or
    // repeated must be located exactly as a plain search finds it, at every length and offset.
    const keywords = [['github_pat_'], ['key', 'passw'], ['token']];
    const locating = buildKeywordFilter(keywords, { locate: [true, true, true] });
    const reference = (text: string): number[][] =>
      keywords.map((ruleKeywords) => {
        const lowered = text.toLowerCase();
        const starts = new Set<number>();
        for (const keyword of ruleKeywords) {
          for (let at = lowered.indexOf(keyword); at !== -1; at = lowered.indexOf(keyword, at + 1)) starts.add(at);
        }
        return [...starts].sort((left, right) => left - right);
      });
    const pieces = ['GitHub_PAT_', 'KEY', 'passw', 'Token', 'x', '\n', 'ke', 'y', 'github_pa', 't_'];
    let checked = 0;
    for (let length = 0; length <= 60; length++) {
      for (let seed = 0; seed < 12; seed++) {
        let text = '';
        for (let index = 0; text.length < length; index++)
          text += pieces[(seed * 7 + index * (seed + 3)) % pieces.length];
        text = text.slice(0, length);
        const expected = reference(text);
        const mask = expected.reduce((bits, starts, rule) => (starts.length > 0 ? bits | (1 << rule) : bits), 0);
        const fromBytes = locating.scan(Buffer.from(text));
        expect(fromBytes.starts, JSON.stringify(text)).toEqual(expected);
        expect(fromBytes.rules, JSON.stringify(text)).toBe(mask);
        expect(locating.scan(text).starts, JSON.stringify(text)).toEqual(expected);
        expect(locating.match(Buffer.from(text)), JSON.stringify(text)).toBe(mask);
        checked++;
      }
    }
    expect(checked).toBe(61 * 12);
  });

  it('agrees with plain includes on the whole corpus', () => {
    for (const sample of [...corpus.secrets, ...corpus.benign]) {
      const lowered = sample.text.toLowerCase();
      const expected = secretRules.filter((rule) => rule.keywords.some((keyword) => lowered.includes(keyword)));
      expect(triggeredRules(sample.text).map((rule) => rule.id)).toEqual(expected.map((rule) => rule.id));
      expect(triggeredRules(Buffer.from(sample.text)).map((rule) => rule.id)).toEqual(expected.map((rule) => rule.id));
    }
  });
});

describe('rules anchored at their keywords (startsAtKeyword)', () => {
  /** The same rule, tried at every offset instead of only where a keyword starts. */
  const unanchored = (rule: SecretRule): SecretRule => ({ ...rule, startsAtKeyword: false });
  // Overlapping and repeated keywords, mixed case, a keyword inside an earlier match.
  const edgeCases = [
    'secretkey = "Xq8Zt2LmW9xVb4RnK7pYc3Hd"',
    'PASSWORD_KEY="Xq8Zt2LmW9xVb4RnK7pYc3Hd" api_token: Q8Zt2LmW9xVb4RnK7pYc3HdF',
    'passwd=Zt2LmW9xVb4RnK7pYc3Hq8 pwd=Zt2LmW9xVb4RnK7pYc3Hq8x',
    'key=key=key=Zt2LmW9xVb4RnK7pYc3Hq8',
    'TOKEN_TOKEN_TOKEN: "Zt2LmW9xVb4RnK7pYc3Hq8"',
  ];

  it('finds exactly what a scan at every offset finds, on the whole corpus and the edge cases', () => {
    const anchored = secretRules.filter((rule) => rule.startsAtKeyword);
    expect(anchored.map((rule) => rule.id)).toContain('generic-secret-assignment');
    const texts = [...corpus.secrets, ...corpus.benign].map((sample) => sample.text).concat(edgeCases);
    for (const rule of anchored) {
      // One rule list each, made once: the scanner builds its keyword filter once per list (and compiles a
      // rule's regexes once per rule object), as it does for the real rule set.
      const asIs = [rule];
      const atEveryOffset = [unanchored(rule)];
      for (const text of texts) {
        const bytes = Buffer.from(text);
        const expected = scanText(text, atEveryOffset);
        expect(scanText(text, asIs), `${rule.id} on ${JSON.stringify(text.slice(0, 60))}`).toEqual(expected);
        expect(scanBuffer(bytes, asIs), rule.id).toEqual(scanBuffer(bytes, atEveryOffset));
      }
    }
    expect(scanText(edgeCases.join('\n')).length).toBeGreaterThanOrEqual(edgeCases.length);
  });

  it('would get a match wrong that does not begin with a keyword, which is why the flag is proven per rule', () => {
    // slack-token is not anchored: "xoxe.xoxb-…" begins before its keyword "xoxb-", so a scan anchored
    // at the keyword reports a shorter value than the one in the file (and a different fingerprint).
    const slack = secretRules.find((rule) => rule.id === 'slack-token');
    expect(slack?.startsAtKeyword).toBeUndefined();
    if (!slack) return;
    const text = `SLACK=xoxe.xoxb-1234567890-${'Ab1'.repeat(8)}`;
    expect(scanText(text, [slack]).map((match) => match.value)).toEqual([`xoxe.xoxb-1234567890-${'Ab1'.repeat(8)}`]);
    expect(scanText(text, [{ ...slack, startsAtKeyword: true }]).map((match) => match.value)).toEqual([
      `xoxb-1234567890-${'Ab1'.repeat(8)}`,
    ]);
  });
});

describe('scanBuffer decoding', () => {
  it('finds in bytes exactly what scanText finds in the same text, on the whole corpus', () => {
    // scanBuffer tries anchored rules as the SIMD prefilter reports each start; scanText collects the
    // starts first. Same findings, same order, same values.
    const texts = [...corpus.secrets, ...corpus.benign].map((sample) => sample.text);
    texts.push(texts.join('\n'));
    let findings = 0;
    for (const text of texts) {
      const fromText = scanText(text);
      expect(scanBuffer(Buffer.from(text, 'utf8')), JSON.stringify(text.slice(0, 60))).toEqual(fromText);
      findings += fromText.length;
    }
    expect(findings).toBeGreaterThan(corpus.secrets.length);
  });

  it('fingerprints the UTF-8 value of a non-ASCII secret exactly as scanText does', () => {
    const line = 'DB_PASSWORD="Zürich-Passwort-9x7Q2m4KpL"';
    const fromText = scanText(line);
    const fromBuffer = scanBuffer(Buffer.from(line, 'utf8'));
    expect(fromText.map((match) => match.value)).toEqual(['Zürich-Passwort-9x7Q2m4KpL']);
    expect(fromBuffer.map((match) => match.value)).toEqual(fromText.map((match) => match.value));
  });
});

describe('readsAsWords: prose after a value, never a random secret', () => {
  it.each([
    'refresh_rotation_v2',
    'reset-emails-link-v2',
    'rotateSigningKeys2',
    'JWKS-endpoint-cached',
    'docs/controls.md#K3',
    'rotation-every-90days',
  ])('%s reads as words', (value) => {
    expect(readsAsWords(value)).toBe(true);
  });

  it('almost never takes random characters for words (a secret followed by prose stays a finding)', () => {
    const random = seededRandom(21);
    const share = (length: number, draws: number): number => {
      let words = 0;
      for (let draw = 0; draw < draws; draw++) {
        if (readsAsWords(randomString(random, alphabets.alphanumeric, length))) words++;
      }
      return words / draws;
    };
    // Measured: about 2.4e-4 at 12 characters, none in 200,000 at 24 (the old rule: 5.9 % and 1.6 %).
    expect(share(12, 20_000)).toBeLessThan(1e-3);
    expect(share(24, 20_000)).toBe(0);
  });
});
