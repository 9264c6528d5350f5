/**
 * JUnit XML as Jenkins (junit and xunit plugins) and GitLab
 * (artifacts:reports:junit) read it: one <testsuite> for the run, one
 * <testcase> per check. A failed control is a <failure>, a control that could
 * not be observed an <error>, a skipped check <skipped/>; a waived failure
 * passes, with the waiver in <system-out> so it stays visible in the test
 * report. Valid against the xunit plugin's junit-10.xsd (which a test checks):
 * no attribute that schema lacks, such as `file` on <testcase> or `skipped`
 * on <testsuites> — the checklist is named in <system-out> instead.
 */
import type { CheckRecord, EvidencePredicate } from '../evidence/types.js';
import {
  describeLocation,
  explainingObservations,
  formatValue,
  STATUS_WORDS,
  severityWord,
  surfaceOf,
} from './describe.js';
import { escapeXml, escapeXmlAttribute } from './escape.js';
import type { ReportInput } from './input.js';

const seconds = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

/** The body of a failure or error: every explaining observation, then what to do. */
function failureText(record: CheckRecord): string {
  const lines = [`${STATUS_WORDS[record.status]}: ${record.summary}`, ''];
  for (const observation of explainingObservations(record)) {
    const parts = [`- ${observation.probe}`];
    if (observation.expected !== undefined) parts.push(`  expected: ${formatValue(observation.expected)}`);
    if (observation.actual !== undefined) parts.push(`  actual:   ${formatValue(observation.actual)}`);
    if (observation.note) parts.push(`  note:     ${observation.note}`);
    if (observation.location) parts.push(`  at:       ${describeLocation(observation.location)}`);
    lines.push(...parts);
  }
  lines.push(
    '',
    `Fix: ${record.remediation}`,
    `Control: ${record.source}`,
    `Severity: ${severityWord(record).toLowerCase()}`,
  );
  return lines.join('\n');
}

function testcase(record: CheckRecord, checklistPath: string): string {
  const attributes = [
    `classname="${escapeXmlAttribute(`secgate.${surfaceOf(record.check)}`)}"`,
    `name="${escapeXmlAttribute(record.id)}"`,
    `time="${seconds(record.durationMs)}"`,
  ].join(' ');
  const children: string[] = [];
  const message = escapeXmlAttribute(record.summary);
  switch (record.status) {
    case 'fail':
      children.push(`<failure message="${message}" type="control-failed">${escapeXml(failureText(record))}</failure>`);
      break;
    case 'error':
      children.push(`<error message="${message}" type="could-not-verify">${escapeXml(failureText(record))}</error>`);
      break;
    case 'skip':
      children.push(`<skipped message="${message}"/>`);
      break;
    case 'waived':
    case 'pass':
      break;
  }
  const out = [
    `${record.title}`,
    `Control: ${record.source}`,
    `Severity: ${severityWord(record).toLowerCase()}`,
    `Checklist: ${checklistPath}`,
    `Result: ${STATUS_WORDS[record.status]}: ${record.summary}`,
  ];
  if (record.status === 'waived' && record.waiver) {
    out.push(`Waived until ${record.waiver.expires} (UTC end of day): ${record.waiver.reason}`);
    out.push(failureText(record));
  }
  children.push(`<system-out>${escapeXml(out.join('\n'))}</system-out>`);
  return `    <testcase ${attributes}>\n      ${children.join('\n      ')}\n    </testcase>`;
}

/** The attributes <testsuites> and <testsuite> share; `skipped` exists on <testsuite> only. */
function suiteAttributes(predicate: EvidencePredicate, element: 'testsuites' | 'testsuite'): string {
  const { counts } = predicate;
  const total = predicate.checks.length;
  const elapsed = Date.parse(predicate.finishedAt) - Date.parse(predicate.startedAt);
  return [
    `name="${escapeXmlAttribute(`secgate ${predicate.target.url}`)}"`,
    `tests="${total}"`,
    `failures="${counts.fail}"`,
    `errors="${counts.error}"`,
    ...(element === 'testsuite' ? [`skipped="${counts.skip}"`] : []),
    `time="${seconds(Number.isFinite(elapsed) ? elapsed : 0)}"`,
  ].join(' ');
}

export function renderJunit({ predicate }: ReportInput): string {
  const properties = [
    ['secgate.version', predicate.tool.version],
    ['secgate.verdict', predicate.verdict],
    ['secgate.exitCode', String(predicate.exitCode)],
    ['target.url', predicate.target.url],
    ['checklist.path', predicate.checklist.path],
    ['checklist.sha256', predicate.checklist.sha256],
    ...(predicate.checklist.baselineSha256 ? [['checklist.baselineSha256', predicate.checklist.baselineSha256]] : []),
    ...predicate.waivers.map((waiver) => [
      `waiver.${waiver.check}`,
      `${waiver.state}, expires ${waiver.expires}: ${waiver.reason}`,
    ]),
  ]
    .map(
      ([name = '', value = '']) =>
        `      <property name="${escapeXmlAttribute(name)}" value="${escapeXmlAttribute(value)}"/>`,
    )
    .join('\n');
  const timestamp = predicate.startedAt.replace(/\.\d+Z$|Z$/, '');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites ${suiteAttributes(predicate, 'testsuites')}>`,
    `  <testsuite ${suiteAttributes(predicate, 'testsuite')} timestamp="${escapeXmlAttribute(timestamp)}">`,
    '    <properties>',
    properties,
    '    </properties>',
    ...predicate.checks.map((record) => testcase(record, predicate.checklist.path)),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
