// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${NAME}` is literal placeholder text under test
import { describe, expect, it } from 'vitest';
import { buildCorpus } from '../../fixtures/secrets-corpus/corpus.js';
import { distinctCharacters, repeatingUnitLength, shannonEntropy } from '../../src/secrets/entropy.js';
import { buildKeywordFilter } from '../../src/secrets/keyword-filter.js';
import { isKnownDefaultSecret, isPlaceholder } from '../../src/secrets/placeholders.js';
import { secretRules } from '../../src/secrets/rules.js';
import { looksBinary, scanBuffer, scanText, triggeredRules } from '../../src/secrets/scanner.js';

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
      expect(rule.secretGroup).toBeLessThan(groups);
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
      it.each(mustMatch.map((sample, index) => [`${sample.name} #${index}`, sample.text]))(
        'finds %s',
        (_name, text) => {
          const found = scanText(text).map((match) => match.ruleId);
          expect(found).toContain(rule.id);
        },
      );
      it.each(mustNotMatch.map((sample) => [sample.name, sample.text]))('ignores %s', (_name, text) => {
        expect(scanText(text)).toEqual([]);
      });
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
    const pem = corpus.secrets.find((sample) => sample.ruleId === 'private-key')?.text ?? '';
    const [match] = scanText(`key: |\n${pem}`);
    expect(match?.ruleId).toBe('private-key');
    expect(match?.line).toBe(3);
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

  it('agrees with plain includes on the whole corpus', () => {
    for (const sample of [...corpus.secrets, ...corpus.benign]) {
      const lowered = sample.text.toLowerCase();
      const expected = secretRules.filter((rule) => rule.keywords.some((keyword) => lowered.includes(keyword)));
      expect(triggeredRules(sample.text).map((rule) => rule.id)).toEqual(expected.map((rule) => rule.id));
      expect(triggeredRules(Buffer.from(sample.text)).map((rule) => rule.id)).toEqual(expected.map((rule) => rule.id));
    }
  });
});

describe('scanBuffer decoding', () => {
  it('fingerprints the UTF-8 value of a non-ASCII secret exactly as scanText does', () => {
    const line = 'DB_PASSWORD="Zürich-Passwort-9x7Q2m4KpL"';
    const fromText = scanText(line);
    const fromBuffer = scanBuffer(Buffer.from(line, 'utf8'));
    expect(fromText.map((match) => match.value)).toEqual(['Zürich-Passwort-9x7Q2m4KpL']);
    expect(fromBuffer.map((match) => match.value)).toEqual(fromText.map((match) => match.value));
  });
});
