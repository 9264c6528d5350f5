/**
 * A YAML file with its source positions: parsed once, syntax errors and alias
 * bombs turned into located problems, and a `locate` that finds any key path
 * in the text. The checklist and an inventory file are both read through it,
 * so a problem in either names its own file:line:column.
 */
import { type Document, isMap, isScalar, LineCounter, type Node, parseDocument, visit } from 'yaml';
import { ChecklistError, type ChecklistProblem } from './errors.js';

export type KeyPath = (string | number)[];
export type Position = { file: string; line: number; column: number };
export type Locate = (keyPath: KeyPath, pointAtKey?: boolean) => Position;

/** YAML aliases (`*defaults`) a file may expand: a few reused mappings, never a billion laughs. */
export const MAX_ALIAS_COUNT = 100;

export interface YamlSource {
  file: string;
  document: Document;
  /** The position of a byte offset. */
  at(offset: number | undefined): Position;
  locate: Locate;
}

/** Parses `text`; throws a ChecklistError naming the first syntax error's position. */
export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { file, line, column: col };
  };
  const lines = text.split('\n');
  const syntaxProblems = [...document.errors].map((error) => {
    const position = at(error.pos[0]);
    const sourceLine = lines[position.line - 1] ?? '';
    // `{ url: ${VAR} }` is not valid YAML: the braces of ${...} end the flow mapping.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the hint quotes checklist syntax, not a JS template
    const hint = /\{[^}]*\$\{/.test(sourceLine) ? ' (inside { }, quote values that use ${VAR}: "${VAR}")' : '';
    return { ...position, keyPath: '', message: describeYamlError(error.code, error.message) + hint };
  });
  // Later YAML errors are usually echoes of the first.
  if (syntaxProblems.length > 0) throw new ChecklistError(syntaxProblems.slice(0, 1));
  return { file, document, at, locate: (keyPath, pointAtKey = false) => at(offsetOf(document, keyPath, pointAtKey)) };
}

/**
 * A document or node as plain data. Aliases are expanded with a bound: an
 * alias bomb is a problem at its first alias, not an exhausted process.
 */
export function yamlData(source: YamlSource, node: Document | Node = source.document): unknown {
  try {
    return node === source.document
      ? source.document.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
      : (node as Node).toJS(source.document, { maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    let firstAlias: number | undefined;
    visit(node, {
      Alias(_key, alias) {
        firstAlias ??= alias.range?.[0];
        return visit.BREAK;
      },
    });
    throw new ChecklistError([
      {
        ...source.at(firstAlias),
        keyPath: '',
        message: `YAML aliases expand to too much data (more than ${MAX_ALIAS_COUNT} expansions): reuse a few mappings at most`,
      },
    ]);
  }
}

/** Offset of the node at keyPath, or of its nearest existing ancestor. */
function offsetOf(document: Document, keyPath: KeyPath, pointAtKey: boolean): number {
  for (let length = keyPath.length; length >= 0; length--) {
    const prefix = keyPath.slice(0, length);
    if (pointAtKey && length === keyPath.length && length > 0) {
      const parent = prefix.length > 1 ? document.getIn(prefix.slice(0, -1), true) : document.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === prefix[prefix.length - 1]);
        const keyNode = pair?.key;
        if (isScalar(keyNode) && keyNode.range) return keyNode.range[0];
      }
    }
    const node = prefix.length === 0 ? document.contents : document.getIn(prefix, true);
    if (node && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
      return node.range[0] as number;
    }
  }
  return 0;
}

export function formatKeyPath(keyPath: KeyPath): string {
  return keyPath.reduce<string>((text, part) => {
    if (typeof part === 'number') return `${text}[${part}]`;
    return text ? `${text}.${part}` : part;
  }, '');
}

function describeYamlError(code: string, message: string): string {
  if (code === 'DUPLICATE_KEY') return 'duplicate key: each key may appear only once in a mapping';
  const firstLine = message.split('\n')[0] ?? message;
  return `invalid YAML: ${firstLine.replace(/ at line \d+, column \d+:?$/, '')}`;
}

/** A problem at a key path of a source. */
export function problemAt(source: YamlSource, keyPath: KeyPath, message: string, pointAtKey = false): ChecklistProblem {
  return { ...source.locate(keyPath, pointAtKey), keyPath: formatKeyPath(keyPath), message };
}
