/**
 * One self-contained HTML page from a DSSE evidence envelope and its
 * verification result, for an auditor who has never heard of secgate: what was
 * tested, the verdict, whether the signature holds, every control with the
 * evidence behind it, and the waivers. No script, no external resource (a
 * Content-Security-Policy forbids both), every string escaped.
 */
import { createHash } from 'node:crypto';
import type { Json, Observation } from '../engine/types.js';
import { decodeStatement } from '../evidence/dsse.js';
import type { CheckRecord, EvidencePredicate, ResourceDescriptor, WaiverRecord } from '../evidence/types.js';
import {
  countsSentence,
  describeLocation,
  formatDuration,
  STATUS_WORDS,
  severityWord,
  verdictSentence,
} from './describe.js';
import { escapeHtml } from './escape.js';
import type { ReportInput, SignatureInfo } from './input.js';

const h = escapeHtml;

const STYLE = `
:root { --pass:#1a7f37; --fail:#cf222e; --error:#9a6700; --waived:#8250df; --skip:#57606a; --line:#d0d7de; --ink:#1f2328; --muted:#57606a; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 0; background: #f6f8fa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 4px 0 12px; overflow-wrap: anywhere; }
h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 0 0 4px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; color: var(--muted); font-size: 12px; margin: 0; }
.banner { border-radius: 6px; padding: 12px 16px; margin: 12px 0; color: #fff; font-size: 17px; }
.banner strong { font-size: 20px; margin-right: 8px; }
.banner-pass { background: var(--pass); } .banner-fail { background: var(--fail); } .banner-error { background: var(--error); } .banner-partial { background: var(--error); }
.sig { border: 2px solid var(--line); border-radius: 6px; padding: 10px 14px; }
.sig-valid { border-color: var(--pass); } .sig-invalid { border-color: var(--fail); background: #ffebe9; }
.sig-unsigned, .sig-unverified { border-color: var(--error); background: #fff8c5; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f6f8fa; }
code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.badge { display: inline-block; min-width: 7.5em; text-align: center; border-radius: 4px; padding: 0 6px; color: #fff; font-size: 13px; font-weight: 600; margin-right: 8px; }
.status-pass { background: var(--pass); } .status-fail { background: var(--fail); } .status-error { background: var(--error); }
.status-waived { background: var(--waived); } .status-skip { background: var(--skip); }
article.control { border: 1px solid var(--line); border-left: 6px solid var(--line); border-radius: 6px; padding: 12px 16px; margin: 12px 0; break-inside: avoid; }
article.control-pass { border-left-color: var(--pass); } article.control-fail { border-left-color: var(--fail); }
article.control-error { border-left-color: var(--error); } article.control-waived { border-left-color: var(--waived); }
article.control-skip { border-left-color: var(--skip); }
.meta { color: var(--muted); font-size: 13px; margin: 0 0 6px; }
.fix { background: #ddf4ff; border-radius: 4px; padding: 6px 10px; }
.waiver { background: #fbefff; border-radius: 4px; padding: 6px 10px; }
table.observations { table-layout: fixed; }
table.observations col.n { width: 3em; } table.observations col.result { width: 10em; }
td.check-id { white-space: nowrap; }
td.ok { color: var(--pass); font-weight: 600; } td.broken { color: var(--fail); font-weight: 600; } td.context { color: var(--muted); }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
@media print { body { background: #fff; } main { padding: 0; } .banner, .badge { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
`;

function effectiveSignature(input: ReportInput): SignatureInfo {
  if (input.signature) return input.signature;
  const first = input.envelope?.signatures[0];
  if (input.envelope && !first) return { status: 'unsigned' };
  return first ? { status: 'unverified', keyid: first.keyid } : { status: 'unverified' };
}

function signatureSection(signature: SignatureInfo): string {
  const key = signature.keyid ? ` <code>${h(signature.keyid)}</code>` : '';
  const body = {
    valid: `<strong>Signature valid.</strong> The evidence was signed by key${key}, and the signature verifies against the public key supplied: everything on this page is exactly what the gate recorded, unaltered.`,
    invalid: `<strong>Signature INVALID — do not rely on this document.</strong> ${h(signature.reason ?? 'The signature does not verify.')} The content below may have been altered after the gate recorded it.${key ? ` Key checked:${key}.` : ''}`,
    unsigned:
      '<strong>Not signed.</strong> This evidence carries no signature, so anyone could have written or altered it. Treat it as a draft, not as proof.',
    unverified: `<strong>Signature not checked.</strong> The evidence claims a signature${key ? ` by key${key}` : ''}, but no public key was supplied when this page was made, so the claim is unverified. Check it with <code>secgate evidence verify evidence.json --key public.pem</code>, or with <code>openssl</code> as the project README shows.`,
  }[signature.status];
  return `<section id="signature"><h2>Can this record be trusted?</h2><div class="sig sig-${h(signature.status)}" data-status="${h(signature.status)}">${body}</div></section>`;
}

function subjectFacts(subjects: ResourceDescriptor[]): string {
  return subjects
    .map((subject) => {
      const digests = Object.entries(subject.digest)
        .map(([algorithm, value]) => `${h(algorithm)}: <code>${h(value)}</code>`)
        .join(', ');
      const annotations = subject.annotations?.uncommittedChanges ? ' (the working tree had uncommitted changes)' : '';
      return `<dt>Subject</dt><dd>${h(subject.name)} — ${digests}${annotations}</dd>`;
    })
    .join('');
}

function runSection(predicate: EvidencePredicate, subjects: ResourceDescriptor[]): string {
  const elapsed = Date.parse(predicate.finishedAt) - Date.parse(predicate.startedAt);
  const facts = [
    ['Deployment tested', `<code>${h(predicate.target.url)}</code>`],
    ...(predicate.target.http_url ? [['Plain-HTTP endpoint', `<code>${h(predicate.target.http_url)}</code>`]] : []),
    ['Source repository', `<code>${h(predicate.target.repo)}</code>`],
    ['Checklist', `${h(predicate.checklist.path)} — sha256 <code>${h(predicate.checklist.sha256)}</code>`],
    ...(predicate.checklist.baselineSha256
      ? [['Checklist on the base branch', `sha256 <code>${h(predicate.checklist.baselineSha256)}</code>`]]
      : []),
    ['Started', h(predicate.startedAt)],
    ['Finished', `${h(predicate.finishedAt)}${Number.isFinite(elapsed) ? ` (${h(formatDuration(elapsed))})` : ''}`],
    ['Tool', `secgate ${h(predicate.tool.version)}`],
  ]
    .map(([term, detail]) => `<dt>${term}</dt><dd>${detail}</dd>`)
    .join('');
  return `<section id="run"><h2>What was tested</h2><dl class="facts">${facts}${subjectFacts(subjects)}</dl></section>`;
}

function valueCell(value: Json | undefined): string {
  if (value === undefined) return '<td class="context">—</td>';
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 1).replace(/\n\s*/g, ' ');
  return `<td><pre>${h(text)}</pre></td>`;
}

function observationRow(observation: Observation, index: number): string {
  const verdict =
    observation.ok === true
      ? '<td class="ok">✓ meets the control</td>'
      : observation.ok === false
        ? '<td class="broken">✗ breaks the control</td>'
        : '<td class="context">context</td>';
  const notes = [
    observation.note ? h(observation.note) : '',
    observation.location ? `at <code>${h(describeLocation(observation.location))}</code>` : '',
  ]
    .filter(Boolean)
    .join('<br>');
  return `<tr><td>${index + 1}</td><td><pre>${h(observation.probe)}</pre></td>${valueCell(observation.expected)}${valueCell(observation.actual)}${verdict}<td>${notes}</td></tr>`;
}

function waiverBox(waiver: WaiverRecord): string {
  const expires = h(waiver.expires);
  const state = {
    applied: `<strong>This failure is accepted by a waiver</strong> until ${expires} (end of day, UTC).`,
    expired: `<strong>A waiver for this control EXPIRED</strong> on ${expires} (end of day, UTC), so the control fails whatever was observed.`,
    unused: `<strong>A waiver exists for this control</strong> until ${expires} (end of day, UTC), but nothing needed waiving.`,
  }[waiver.state];
  return `<p class="waiver">${state} Reason given: ${h(waiver.reason)}</p>`;
}

function controlArticle(record: CheckRecord, index: number): string {
  const observations =
    record.observations.length === 0
      ? '<p class="meta">No observations were recorded.</p>'
      : `<table class="observations"><colgroup><col class="n"><col><col><col><col class="result"><col></colgroup><thead><tr><th>#</th><th>What was probed</th><th>Expected</th><th>Observed</th><th>Result</th><th>Notes</th></tr></thead><tbody>${record.observations.map(observationRow).join('')}</tbody></table>`;
  const fix =
    record.status === 'fail' || record.status === 'waived'
      ? `<p class="fix"><strong>How to fix:</strong> ${h(record.remediation)}</p>`
      : record.status === 'error'
        ? '<p class="fix"><strong>Not verified:</strong> the gate could not observe this control, so it is neither proven nor disproven. The cause is recorded above.</p>'
        : '';
  return `<article class="control control-${h(record.status)}" id="control-${index + 1}" data-check="${h(record.id)}" data-status="${h(record.status)}">
<h3><span class="badge status-${h(record.status)}">${h(STATUS_WORDS[record.status])}</span>${h(record.title)}</h3>
<p class="meta">Check <code>${h(record.id)}</code>${record.id !== record.check ? ` (module <code>${h(record.check)}</code>)` : ''} · Severity: <span class="severity">${h(severityWord(record))}</span> · Control: ${h(record.source)}${record.plugin ? ` · Plugin <code>${h(record.plugin.path)}</code> (sha256 <code>${h(record.plugin.sha256)}</code>)` : ''} · took ${h(formatDuration(record.durationMs))}</p>
<p><strong>Finding:</strong> ${h(record.summary)}</p>
${record.waiver ? waiverBox(record.waiver) : ''}
${observations}
${fix}
</article>`;
}

function overviewTable(checks: CheckRecord[]): string {
  const rows = checks
    .map(
      (record, index) =>
        `<tr><td><span class="badge status-${h(record.status)}">${h(STATUS_WORDS[record.status])}</span></td><td class="check-id"><a href="#control-${index + 1}"><code>${h(record.id)}</code></a></td><td>${h(severityWord(record))}</td><td>${h(record.title)}</td><td>${h(record.summary)}</td></tr>`,
    )
    .join('');
  return `<section id="overview"><h2>Controls at a glance</h2><table><thead><tr><th>Result</th><th>Check</th><th>Severity</th><th>Control</th><th>Finding</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function waiversSection(waivers: WaiverRecord[]): string {
  if (waivers.length === 0) {
    return '<section id="waivers"><h2>Waivers</h2><p>No control was waived: every failure counts against the gate.</p></section>';
  }
  const rows = waivers
    .map(
      (waiver) =>
        `<tr><td><code>${h(waiver.check)}</code></td><td>${h(waiver.reason)}</td><td>${h(waiver.expires)}</td><td>${h(waiver.state)}</td></tr>`,
    )
    .join('');
  return `<section id="waivers"><h2>Waivers</h2><p>A waiver is a recorded, time-limited exception: a failure it covers is shown but does not fail the gate. An expired waiver no longer covers anything.</p><table><thead><tr><th>Check</th><th>Reason</th><th>Expires (UTC)</th><th>State</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

export function renderHtml(input: ReportInput): string {
  const { predicate, envelope } = input;
  const signature = effectiveSignature(input);
  const statement = envelope ? decodeStatement(envelope) : undefined;
  const subjects = statement?.subject ?? [];
  const payloadDigest = envelope
    ? createHash('sha256').update(Buffer.from(envelope.payload, 'base64')).digest('hex')
    : undefined;
  const verdictWord = { pass: 'PASSED', fail: 'FAILED', error: 'FAILED', partial: 'PARTIAL' }[predicate.verdict];
  const interrupted = predicate.interrupted
    ? '<p class="sig sig-invalid"><strong>The run was interrupted</strong> before every check finished.</p>'
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="secgate ${h(predicate.tool.version)}">
<title>Security gate ${verdictWord}: ${h(predicate.target.url)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<p class="kicker">Pre-deployment security evidence</p>
<h1>Security gate for ${h(predicate.target.url)}</h1>
<div class="banner banner-${h(predicate.verdict)}" id="verdict" data-verdict="${h(predicate.verdict)}"><strong>${verdictWord}</strong> ${h(verdictSentence(predicate))}</div>
<p>${h(countsSentence(predicate))}. Exit code ${h(String(predicate.exitCode))}.</p>
${interrupted}
</header>
<section id="about"><h2>What this document is</h2>
<p>Before this service was exposed, an automated security gate tested each control of its deployment checklist against the <em>live</em> deployment (TLS, HTTP responses, the login system and the rows it writes to its database) and against its source repository. For every control it recorded what it sent, what came back and what was expected. Those observations are listed below, so the verdict can be re-judged from them alone.</p>
<p>Each control is <em>Passed</em> (proven by the observations), <em>Failed</em> (observed to be broken), <em>Could not verify</em> (the gate could not observe it, which also fails the gate), <em>Waived</em> (a failure accepted by a recorded, time-limited exception) or <em>Skipped</em> (not run). Secrets never appear: where a password or token was involved, only its length and the start of its SHA-256 digest are shown.</p>
</section>
${signatureSection(signature)}
${runSection(predicate, subjects)}
${overviewTable(predicate.checks)}
<section id="controls"><h2>Each control and its evidence</h2>
${predicate.checks.map(controlArticle).join('\n')}
</section>
${waiversSection(predicate.waivers)}
<footer>
<p>Rendered from an in-toto Statement (predicate type https://secgate.dev/evidence/v1)${envelope ? ` in a DSSE envelope of type ${h(envelope.payloadType)}; payload sha256 <code>${h(payloadDigest ?? '')}</code>` : ''}. The signed envelope, not this page, is the record: keep both.</p>
</footer>
</main>
</body>
</html>
`;
}
