/**
 * SARIF 2.1.0 for code-scanning uploads (GitHub `upload-sarif`, GitLab, Azure
 * DevOps). One rule per checklist entry (a control), its help text the
 * remediation and its `security-severity` the entry's severity. One result
 * per failed, unverifiable or waived control; a waived failure carries an
 * accepted external suppression with the waiver's reason. Repository findings
 * (observations with a `location`) each become a result at their file and
 * line; every other result points at the line of the control's own entry in
 * the checklist.
 *
 * Code scanning tracks an alert across runs by (category, ruleId,
 * fingerprint), so fingerprints hold only what identifies the problem: a
 * finding by its rule, file and the secret's own fingerprint (never its line,
 * which moves when a line is inserted above); a control by its id and the
 * checklist's path (never the target URL, which changes with each per-PR
 * staging deployment). Every path is relative to the repository's top level.
 */
import { createHash } from 'node:crypto';
import type { Severity } from '../engine/severity.js';
import type { Json, Observation } from '../engine/types.js';
import type { CheckRecord, EvidencePredicate } from '../evidence/types.js';
import {
  checklistFile,
  controlLocation,
  describeLocation,
  explainingObservations,
  formatValue,
  isNoteworthy,
  oneLine,
  repositoryPath,
  STATUS_WORDS,
  severityWord,
} from './describe.js';
import type { ReportInput } from './input.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
/** The top level of the repository verified: every artifact URI is relative to it. */
const SOURCE_ROOT = '%SRCROOT%';
const INFORMATION_URI = 'https://secgate.dev/';

/** GitHub's `security-severity` scale: critical ≥ 9.0, high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9. */
export const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '2.0',
};

/** A relative path as a URI reference: each segment percent-encoded, slashes kept. */
export function pathToUri(file: string): string {
  return file
    .replace(/\\/g, '/')
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

/**
 * The analysis category (`automationDetails.id`): the one given (`--sarif-category`, the Action's
 * `category` input), else the checklist and the target's host, so two targets gated with one
 * checklist are two analyses. A trailing `/` marks it as a category without a run id, as
 * codeql-action's upload-sarif writes its own.
 */
export function sarifCategory(predicate: EvidencePredicate, given: string | undefined): string {
  const category = given?.trim() || `secgate/${checklistFile(predicate)}/${targetName(predicate.target.url)}`;
  return category.endsWith('/') ? category : `${category}/`;
}

function targetName(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** `http.status.health` → `HttpStatusHealth`: a friendly rule name, distinct from the opaque id (SARIF1001). */
export function ruleName(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => `${word.charAt(0).toUpperCase()}${word.slice(1)}`)
    .join('');
}

interface SarifRegion {
  startLine: number;
  startColumn?: number;
}

interface SarifLocation {
  physicalLocation: {
    artifactLocation: { uri: string; uriBaseId: string };
    region: SarifRegion;
  };
}

function location(file: string, line: number | undefined, column: number | undefined): SarifLocation {
  const region: SarifRegion = { startLine: line && line > 0 ? line : 1 };
  if (column && column > 0) region.startColumn = column;
  return { physicalLocation: { artifactLocation: { uri: pathToUri(file), uriBaseId: SOURCE_ROOT }, region } };
}

function observationText(observation: Observation): string {
  const parts = [observation.probe];
  if (observation.expected !== undefined) parts.push(`expected ${formatValue(observation.expected)}`);
  if (observation.actual !== undefined) parts.push(`got ${formatValue(observation.actual)}`);
  if (observation.note) parts.push(observation.note);
  if (observation.location) parts.push(`at ${describeLocation(observation.location)}`);
  return oneLine(parts.join(' — '), 1000);
}

function hash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}

function field(actual: Json | undefined, name: string): string | undefined {
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return undefined;
  const value = actual[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * What a finding is, independent of where in the file it sits: the detection rule (or the named
 * variable) and the content's own fingerprint — the secret's sha256 prefix, or the blob id of
 * content no scan can judge. A finding that carries neither (a file that should be ignored) is
 * identified by its probe.
 */
export function findingIdentity(observation: Observation): { rule: string; content: string } {
  const { actual } = observation;
  return {
    rule: field(actual, 'rule') ?? field(actual, 'name') ?? '',
    content: field(actual, 'fingerprint') ?? field(actual, 'sha256') ?? field(actual, 'blob') ?? observation.probe,
  };
}

interface Result {
  ruleId: string;
  ruleIndex: number;
  kind: 'fail' | 'open';
  level: 'error' | 'none';
  message: { text: string };
  locations: SarifLocation[];
  partialFingerprints: Record<string, string>;
  suppressions?: object[];
  properties: Record<string, Json>;
}

function resultsFor(record: CheckRecord, ruleIndex: number, predicate: EvidencePredicate): Result[] {
  // "Could not verify" is SARIF's undetermined result: kind open, whose level must be none (§3.27.10).
  const undetermined = record.status === 'error';
  const prefix = undetermined ? 'Could not verify' : STATUS_WORDS[record.status];
  const severity = record.severity ? ` [${severityWord(record)}]` : '';
  const suppressions =
    record.status === 'waived' && record.waiver
      ? [
          {
            kind: 'external',
            status: 'accepted',
            justification: `${record.waiver.reason} (waived until ${record.waiver.expires}, UTC end of day)`,
          },
        ]
      : undefined;
  const base = {
    ruleId: record.id,
    ruleIndex,
    kind: undetermined ? ('open' as const) : ('fail' as const),
    level: undetermined ? ('none' as const) : ('error' as const),
    ...(suppressions ? { suppressions } : {}),
    properties: {
      checkId: record.id,
      check: record.check,
      status: record.status,
      ...(record.severity ? { severity: record.severity } : {}),
      source: record.source,
    },
  };
  const located = record.observations.filter((observation) => observation.ok === false && observation.location);
  if (located.length > 0) {
    return located.map((observation) => {
      const where = observation.location;
      const file = where ? repositoryPath(where) : checklistFile(predicate);
      const { rule, content } = findingIdentity(observation);
      return {
        ...base,
        message: { text: `${prefix}${severity}: ${record.id}: ${observationText(observation)}` },
        locations: [location(file, where?.line, where?.column)],
        partialFingerprints: { 'secgate/finding/v2': hash(record.id, rule, file, content) },
        properties: { ...base.properties, ...(where?.commit ? { commit: where.commit } : {}) },
      };
    });
  }
  const evidence = explainingObservations(record)
    .slice(0, 5)
    .map((observation) => observationText(observation));
  const control = controlLocation(predicate, record);
  return [
    {
      ...base,
      message: { text: [`${prefix}${severity}: ${record.id}: ${record.summary}`, ...evidence].join('\n') },
      locations: [location(control.file, control.line, undefined)],
      partialFingerprints: { 'secgate/control/v2': hash(record.id, control.file) },
    },
  ];
}

/**
 * The same secret reported twice in one file by one rule is two results with one identity; the
 * second and later get their ordinal, in file order, so every (ruleId, fingerprint) is unique and
 * still independent of line numbers.
 */
function withUniqueFingerprints(results: Result[]): Result[] {
  const seen = new Map<string, number>();
  return results.map((result) => {
    const [[key, value] = ['', '']] = Object.entries(result.partialFingerprints);
    const identity = `${result.ruleId}\u0000${key}\u0000${value}`;
    const count = (seen.get(identity) ?? 0) + 1;
    seen.set(identity, count);
    return count === 1 ? result : { ...result, partialFingerprints: { [key]: hash(value, String(count)) } };
  });
}

function rulesFor(checks: CheckRecord[]): { rules: object[]; indexOf: Map<string, number> } {
  const indexOf = new Map<string, number>();
  const rules: object[] = [];
  for (const record of checks) {
    if (indexOf.has(record.id)) continue;
    indexOf.set(record.id, rules.length);
    const severity = record.severity ? `\n\nSeverity: ${severityWord(record)}` : '';
    rules.push({
      id: record.id,
      name: ruleName(record.id),
      shortDescription: { text: record.title },
      fullDescription: { text: `${record.title} (${record.source})` },
      help: {
        text: `${record.remediation}\n\nControl: ${record.source}${severity}`,
        markdown: `**How to fix:** ${record.remediation}\n\n**Control:** ${record.source}${severity.replace('Severity:', '**Severity:**')}`,
      },
      defaultConfiguration: { level: 'error' },
      properties: {
        tags: ['security', 'secgate'],
        check: record.check,
        source: record.source,
        ...(record.severity
          ? { severity: record.severity, 'security-severity': SECURITY_SEVERITY[record.severity] }
          : {}),
      },
    });
  }
  return { rules, indexOf };
}

export function renderSarif({ predicate, sarifCategory: category }: ReportInput): string {
  const { rules, indexOf } = rulesFor(predicate.checks);
  const results = withUniqueFingerprints(
    predicate.checks
      .filter(isNoteworthy)
      .flatMap((record) => resultsFor(record, indexOf.get(record.id) ?? -1, predicate)),
  );
  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'secgate',
            version: predicate.tool.version,
            semanticVersion: predicate.tool.version,
            informationUri: INFORMATION_URI,
            rules,
          },
        },
        automationDetails: { id: sarifCategory(predicate, category) },
        originalUriBaseIds: {
          [SOURCE_ROOT]: { description: { text: 'The top level of the git repository verified' } },
        },
        invocations: [
          {
            executionSuccessful: !predicate.interrupted,
            startTimeUtc: predicate.startedAt,
            endTimeUtc: predicate.finishedAt,
            exitCode: predicate.exitCode,
          },
        ],
        results,
        properties: {
          verdict: predicate.verdict,
          target: predicate.target.url,
          checklistSha256: predicate.checklist.sha256,
          ...(predicate.checklist.baselineSha256
            ? { baselineChecklistSha256: predicate.checklist.baselineSha256 }
            : {}),
          counts: predicate.counts,
        },
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
