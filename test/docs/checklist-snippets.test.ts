/**
 * Every checklist the documentation shows loads as written: each ```yaml block
 * that starts with `version: 1`, in the README and docs/, goes through the
 * same loader as `secgate verify`, with every ${VARIABLE} it names set. A
 * documented key that the schema does not know (or no longer knows) fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allChecks } from '../../checks/index.js';
import { ChecklistError, formatProblem } from '../../src/engine/checklist/errors.js';
import { parseChecklist } from '../../src/engine/checklist/load.js';
import { loadChecklistPlugins } from '../../src/engine/checklist/plugins.js';
import { parseYamlSource } from '../../src/engine/checklist/yaml-source.js';
import { sharedReferencePkiDir } from '../support/reference-pki.js';

const DOCUMENTS = [
  'README.md',
  ...readdirSync('docs', { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.md'))
    .map((file) => path.join('docs', file)),
];

function checklistSnippets(file: string): { line: number; text: string }[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const snippets: { line: number; text: string }[] = [];
  for (let index = 0; index < lines.length; index++) {
    if (lines[index]?.trim() !== '```yaml') continue;
    const end = lines.indexOf('```', index + 1);
    const body = lines.slice(index + 1, end).join('\n');
    if (/^version: 1$/m.test(body.split('\n').find((line) => line.trim() !== '' && !line.startsWith('#')) ?? '')) {
      snippets.push({ line: index + 2, text: body });
    }
    index = end;
  }
  return snippets;
}

/** A value for every ${NAME} the snippet reads, and for every variable a `*_env:` parameter names. */
function environmentFor(text: string): Record<string, string> {
  const names = [
    ...[...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1] ?? ''),
    ...[...text.matchAll(/_env:\s*([A-Z_][A-Z0-9_]*)/g)].map((match) => match[1] ?? ''),
  ];
  return Object.fromEntries(
    names.map((name) => [
      name,
      /DATABASE_URL/.test(name)
        ? 'postgres://gate@127.0.0.1:5432/app'
        : /URL/.test(name)
          ? 'https://gate.example.internal:8443'
          : `doc-value-for-${name.toLowerCase()}-0123456789`,
    ]),
  );
}

const cases = DOCUMENTS.flatMap((file) => checklistSnippets(file).map((snippet) => ({ file, ...snippet })));

describe('checklists shown in the documentation', () => {
  it('are found (the test is not vacuous)', () => {
    expect(cases.map((entry) => entry.file)).toEqual(
      expect.arrayContaining(['README.md', path.join('docs', 'auth-mapping.md')]),
    );
  });

  it.each(cases)('$file:$line loads as written', async ({ file, line, text }) => {
    // A snippet whose first line names its file (`# examples/…/checklist.yaml`) is that file, word for
    // word; its plugins load from that file's folder.
    const named = /^# (\S+\.ya?ml)$/.exec(text.split('\n')[0] ?? '')?.[1];
    if (named) expect(`${text}\n`).toBe(readFileSync(named, 'utf8'));
    const baseDir = path.resolve(named ? path.dirname(named) : '.');
    const plugins = await loadChecklistPlugins(parseYamlSource(text, file), baseDir, (message) => message);
    try {
      parseChecklist(text, `${file}:${line}`, { env: environmentFor(text), registry: allChecks, plugins, baseDir });
    } catch (error) {
      if (error instanceof ChecklistError) expect.fail(error.problems.map(formatProblem).join('\n'));
      throw error;
    }
  });
});

describe('the shipped checklist.yaml', () => {
  it('gives the reference service its own cleanup statements, the ones secgate init writes too', async () => {
    const { REFERENCE_CLEANUP } = await import('../../src/service/cleanup-sql.js');
    const text = readFileSync('checklist.yaml', 'utf8');
    const pki = sharedReferencePkiDir();
    // Its URLs keep their defaults; the trust anchor it names must exist when it loads.
    const env = {
      ...environmentFor(text.replace(/\$\{[A-Z_]+:-[^}]*\}/g, '')),
      ...(pki ? { SECGATE_CA_FILE: path.join(pki, 'ca.crt') } : {}),
    };
    const loaded = parseChecklist(text, path.resolve('checklist.yaml'), { env, registry: allChecks });
    expect(loaded.checklist.auth?.cleanup).toEqual(REFERENCE_CLEANUP);
  });
});
