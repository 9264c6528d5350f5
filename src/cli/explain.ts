/** `secgate explain <check>`: what a check verifies, why, its parameters, and how to fix a failure. */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { z } from 'zod';
import { closestMatches } from '../engine/checklist/suggest.js';
import type { CheckDefinition } from '../engine/types.js';
import { UsageError } from './io.js';
import type { CatalogueDeps } from './list.js';

const EFFECT_WORDS: Record<CheckDefinition['effects'], string> = {
  none: 'none: it only observes',
  'locks-account':
    'locks the probe account on purpose; it runs after all other checks, alone, and unlocks the account when the checklist gives auth.cleanup.unlock_account_sql',
  'blocks-ip':
    'gets a loopback probe address blocked on purpose; it runs after all other checks, alone, and lifts the block when the checklist gives auth.cleanup.unblock_ip_sql',
  'runs-commands':
    'runs the commands named in its parameters in the repository; it runs after the checks without effects',
};

export interface ParamDescription {
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
};

function describeType(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return variants.map(describeType).join(' | ');
  if (schema.type === 'array') return `list of ${schema.items ? describeType(schema.items) : 'values'}`;
  if (Array.isArray(schema.type)) return schema.type.join(' | ');
  return schema.type ?? 'value';
}

/** The `with:` parameters, read from the check's zod schema through its JSON Schema. */
export function describeParams(check: CheckDefinition): ParamDescription[] {
  let schema: JsonSchema;
  try {
    schema = z.toJSONSchema(check.params, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  } catch {
    return [];
  }
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
    name,
    type: describeType(property),
    required: required.has(name),
    ...(property.default !== undefined ? { default: property.default } : {}),
    ...(property.description ? { description: property.description } : {}),
  }));
}

/** A checklist entry to copy: the defaults when the check has any, placeholders for required parameters. */
export function exampleEntry(check: CheckDefinition): string {
  const defaults = check.params.safeParse({});
  const params: Record<string, unknown> = {};
  if (defaults.success && defaults.data !== null && typeof defaults.data === 'object') {
    Object.assign(params, defaults.data);
  } else {
    for (const param of describeParams(check)) if (param.required) params[param.name] = `<${param.type}>`;
  }
  const entry = Object.keys(params).length > 0 ? { check: check.id, with: params } : { check: check.id };
  return stringify([entry], { lineWidth: 0 }).trimEnd();
}

export function formatExplanation(check: CheckDefinition): string {
  const lines = [
    `${check.id}: ${check.title}`,
    '',
    `Control:      ${check.source}`,
    `Side effects: ${EFFECT_WORDS[check.effects]}`,
  ];
  if (check.rationale) lines.push('', 'Why it matters:', `  ${check.rationale}`);
  lines.push('', 'How to fix a failure:', `  ${check.remediation}`);
  const params = describeParams(check);
  lines.push('', 'Parameters (under with:):');
  if (params.length === 0) lines.push('  none');
  for (const param of params) {
    const detail = [
      param.type,
      param.required
        ? 'required'
        : param.default !== undefined
          ? `default ${JSON.stringify(param.default)}`
          : 'optional',
    ];
    lines.push(`  ${param.name}: ${detail.join(', ')}${param.description ? ` — ${param.description}` : ''}`);
  }
  lines.push(
    '',
    'In checklist.yaml:',
    ...exampleEntry(check)
      .split('\n')
      .map((line) => `  ${line}`),
  );
  return `${lines.join('\n')}\n`;
}

export function registerExplainCommand(program: Command, deps: CatalogueDeps): Command {
  return program
    .command('explain')
    .description('Explain what a check verifies, why, its parameters and how to fix a failure')
    .argument('<check>', 'check id, e.g. tls.protocols (secgate list shows them all)')
    .action((id: string) => {
      const check = deps.checks.find((candidate) => candidate.id === id);
      if (!check) {
        const suggestions = closestMatches(
          id,
          deps.checks.map((candidate) => candidate.id),
        );
        const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(' or ')}?` : '';
        throw new UsageError(`unknown check '${id}'${hint} (secgate list shows every check)`);
      }
      deps.io.stdout.write(formatExplanation(check));
    });
}
