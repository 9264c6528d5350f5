/**
 * SARIF 2.1.0 for code-scanning uploads (GitHub `upload-sarif`, GitLab, Azure
 * DevOps). One rule per check module, its help text the remediation. One
 * result per failed, unverifiable or waived check; a waived failure carries an
 * accepted external suppression with the waiver's reason. Repository findings
 * (observations with a `location`) each become a result at their file and
 * line; every other result points at the checklist, where the control lives.
 */
import { createHash } from 'node:crypto';
import type { Observation } from '../engine/types.js';
import type { CheckRecord, EvidencePredicate } from '../evidence/types.js';
import {
  describeLocation,
  explainingObservations,
  formatValue,
  isNoteworthy,
  oneLine,
  STATUS_WORDS,
  workspacePath,
} from './describe.js';
import type { ReportInput } from './input.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
const SOURCE_ROOT = '%SRCROOT%';

/** A relative path as a URI reference: each segment percent-encoded, slashes kept. */
export function pathToUri(file: string): string {
  return file
    .replace(/\\/g, '/')
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
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
  message?: { text: string };
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

function fingerprint(...parts: (string | number | undefined)[]): string {
  return createHash('sha256')
    .update(parts.map((part) => String(part ?? '')).join('\u0000'))
    .digest('hex');
}

function resultsFor(record: CheckRecord, ruleIndex: number, predicate: EvidencePredicate): object[] {
  const level = 'error';
  const prefix = record.status === 'error' ? 'Could not verify' : STATUS_WORDS[record.status];
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
    ruleId: record.check,
    ruleIndex,
    kind: 'fail',
    level,
    ...(suppressions ? { suppressions } : {}),
    properties: { checkId: record.id, status: record.status, source: record.source },
  };
  const located = record.observations.filter((observation) => observation.ok === false && observation.location);
  if (located.length > 0) {
    return located.map((observation) => {
      const where = observation.location;
      const file = where ? workspacePath(predicate, where) : predicate.checklist.path;
      return {
        ...base,
        message: { text: `${prefix}: ${record.id}: ${observationText(observation)}` },
        locations: [location(file, where?.line, where?.column)],
        partialFingerprints: {
          'secgate/finding/v1': fingerprint(record.id, file, where?.line, where?.commit, observation.probe),
        },
        properties: { ...base.properties, ...(where?.commit ? { commit: where.commit } : {}) },
      };
    });
  }
  const evidence = explainingObservations(record)
    .slice(0, 5)
    .map((observation) => observationText(observation));
  return [
    {
      ...base,
      message: { text: [`${prefix}: ${record.id}: ${record.summary}`, ...evidence].join('\n') },
      locations: [location(predicate.checklist.path, 1, undefined)],
      partialFingerprints: { 'secgate/check/v1': fingerprint(record.id, predicate.target.url) },
    },
  ];
}

function rulesFor(checks: CheckRecord[]): { rules: object[]; indexOf: Map<string, number> } {
  const indexOf = new Map<string, number>();
  const rules: object[] = [];
  for (const record of checks) {
    if (indexOf.has(record.check)) continue;
    indexOf.set(record.check, rules.length);
    rules.push({
      id: record.check,
      name: record.check,
      shortDescription: { text: record.title },
      fullDescription: { text: `${record.title} (${record.source})` },
      help: {
        text: `${record.remediation}\n\nControl: ${record.source}`,
        markdown: `**How to fix:** ${record.remediation}\n\n**Control:** ${record.source}`,
      },
      defaultConfiguration: { level: 'error' },
      properties: { tags: ['security', 'secgate'], source: record.source },
    });
  }
  return { rules, indexOf };
}

export function renderSarif({ predicate }: ReportInput): string {
  const { rules, indexOf } = rulesFor(predicate.checks);
  const results = predicate.checks
    .filter(isNoteworthy)
    .flatMap((record) => resultsFor(record, indexOf.get(record.check) ?? -1, predicate));
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
            rules,
          },
        },
        automationDetails: { id: `secgate/${predicate.checklist.path}/` },
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
