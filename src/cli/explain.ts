/** `secgate explain <check>`: what a check verifies, why, its parameters, and how to fix a failure. */

import type { Command } from 'commander';
import { stringify } from 'yaml';
import { z } from 'zod';
import type { PluginOrigin } from '../engine/checklist/plugins.js';
import { authSchema } from '../engine/checklist/schema.js';
import { closestMatches } from '../engine/checklist/suggest.js';
import { DEFAULT_SEVERITY } from '../engine/severity.js';
import type { CheckDefinition, Strength } from '../engine/types.js';
import { UsageError } from './io.js';
import { type CatalogueDeps, pluginsOf } from './list.js';

const EFFECT_WORDS: Record<CheckDefinition['effects'], string> = {
  none: 'none: it only observes',
  'locks-account':
    'locks the probe account on purpose; while it runs, no other check signs in with the accounts it names (nothing else runs when it names none), and it unlocks the account when the checklist gives auth.cleanup.unlock_account_sql',
  'blocks-ip':
    'gets a loopback probe address blocked on purpose; while it runs, no other check uses its accounts or binds its addresses (nothing else runs when it names none), and it lifts the block when the checklist gives auth.cleanup.unblock_ip_sql',
  'runs-commands':
    "runs the commands named in its parameters in the repository; they touch none of the service's state, so it runs beside the other checks",
};

/** Which way a parameter makes the gate stronger, as the weakening guard judges it (see Strength). */
function strengthWords(strength: Strength): string {
  if (typeof strength !== 'string') return `stronger in the order ${strength.join(' < ')}`;
  const words: Record<typeof strength, string> = {
    higher: 'stronger when higher',
    lower: 'stronger when lower',
    requirement: 'stronger when true',
    exception: 'stronger when false',
    verified: 'stronger with more entries',
    accepted: 'stronger with fewer entries',
  };
  return words[strength];
}

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
  additionalProperties?: JsonSchema | boolean;
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

/**
 * Every key of a checklist section, one line each, from its zod schema:
 * `auth.login.path: string, default "/api/v1/auth/login" — the password step …`.
 * Nested objects are walked; a map of named entries shows as `<name>`.
 */
export function formatSectionReference(schema: z.ZodType, prefix: string): string[] {
  const walk = (node: JsonSchema, path: string, required: boolean): string[] => {
    const isMapping = Boolean(node.properties || node.additionalProperties);
    const presence = required
      ? 'required'
      : node.default === undefined
        ? 'optional'
        : isMapping
          ? 'has defaults'
          : `default ${JSON.stringify(node.default)}`;
    const lines = [
      `${path}: ${isMapping ? 'mapping' : describeType(node)}, ${presence}${node.description ? ` — ${node.description}` : ''}`,
    ];
    const children = (parent: JsonSchema, childPath: string) => {
      const requiredNames = new Set(parent.required ?? []);
      for (const [name, child] of Object.entries(parent.properties ?? {})) {
        lines.push(...walk(child, `${childPath}.${name}`, requiredNames.has(name)));
      }
    };
    children(node, path);
    if (node.additionalProperties && typeof node.additionalProperties === 'object') {
      children(node.additionalProperties, `${path}.<name>`);
    }
    return lines;
  };
  const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const required = new Set(root.required ?? []);
  return Object.entries(root.properties ?? {}).flatMap(([name, child]) =>
    walk(child, `${prefix}.${name}`, required.has(name)),
  );
}

/** `secgate explain auth`: the whole `auth:` section, every key with its type, default and meaning. */
export function formatAuthReference(): string {
  return `${[
    "auth: how the service's auth API and audit tables look (every key is optional; defaults match the reference service)",
    '',
    ...formatSectionReference(authSchema, 'auth'),
  ].join('\n')}\n`;
}

/** A checklist entry to copy: the defaults when the check has any, placeholders for required parameters. */
export function exampleEntry(check: CheckDefinition, plugin?: PluginOrigin): string {
  const defaults = check.params.safeParse({});
  const params: Record<string, unknown> = {};
  if (defaults.success && defaults.data !== null && typeof defaults.data === 'object') {
    Object.assign(params, defaults.data);
  } else {
    for (const param of describeParams(check)) if (param.required) params[param.name] = `<${param.type}>`;
  }
  const entry = {
    check: check.id,
    ...(plugin ? { plugin: plugin.specifier } : {}),
    ...(Object.keys(params).length > 0 ? { with: params } : {}),
  };
  return stringify([entry], { lineWidth: 0 }).trimEnd();
}

export function formatExplanation(check: CheckDefinition, plugin?: PluginOrigin): string {
  const lines = [
    `${check.id}: ${check.title}`,
    '',
    `Control:      ${check.source}`,
    ...(plugin ? [`Plugin:       ${plugin.path} (sha256 ${plugin.sha256})`] : []),
    ...(check.docs ? [`Docs:         ${check.docs}`] : []),
    `Side effects: ${EFFECT_WORDS[check.effects]}`,
    `Severity:     ${check.severity ?? DEFAULT_SEVERITY} (a checklist entry may set its own with severity:)`,
  ];
  if (check.rationale) lines.push('', 'Why it matters:', `  ${check.rationale}`);
  lines.push('', 'How to fix a failure:', `  ${check.remediation}`);
  const params = describeParams(check);
  lines.push('', 'Parameters (under with:):');
  if (params.length === 0) lines.push('  none');
  const strength: Readonly<Partial<Record<string, Strength>>> = check.strength ?? {};
  for (const param of params) {
    const direction = strength[param.name];
    const detail = [
      param.type,
      param.required
        ? 'required'
        : param.default !== undefined
          ? `default ${JSON.stringify(param.default)}`
          : 'optional',
    ];
    lines.push(
      `  ${param.name}: ${detail.join(', ')}${param.description ? ` — ${param.description}` : ''}${direction ? ` (${strengthWords(direction)})` : ''}`,
    );
  }
  if (params.length > 0) {
    lines.push(
      '  (with --baseline-ref, a parameter may change only in the direction marked stronger; any other change blocks)',
    );
  }
  lines.push(
    '',
    'In checklist.yaml:',
    ...exampleEntry(check, plugin)
      .split('\n')
      .map((line) => `  ${line}`),
  );
  return `${lines.join('\n')}\n`;
}

export function registerExplainCommand(program: Command, deps: CatalogueDeps): Command {
  return program
    .command('explain')
    .description('Explain what a check verifies, why, its parameters and how to fix a failure')
    .argument('<check>', 'check id, e.g. tls.protocols (secgate list shows them all), or auth for the auth: section')
    .option(
      '-c, --checklist <file>',
      'also know the plugin checks this checklist names (imports their modules, as verify does)',
    )
    .action(async (id: string, options: { checklist?: string }) => {
      if (id === 'auth') {
        deps.io.stdout.write(formatAuthReference());
        return;
      }
      const plugins = await pluginsOf(deps, options.checklist);
      const plugin = plugins.find((candidate) => candidate.check.id === id);
      const check = plugin?.check ?? deps.checks.find((candidate) => candidate.id === id);
      if (!check) {
        const suggestions = closestMatches(id, [
          ...deps.checks.map((candidate) => candidate.id),
          ...plugins.map((candidate) => candidate.check.id),
        ]);
        const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(' or ')}?` : '';
        // A plugin's check is only known from the checklist that names it.
        const list =
          options.checklist === undefined
            ? "secgate list shows every built-in check; a plugin's is known with -c <checklist>"
            : 'secgate list -c <checklist> shows every check';
        throw new UsageError(`unknown check '${id}'${hint} (${list})`);
      }
      deps.io.stdout.write(formatExplanation(check, plugin?.origin));
    });
}
