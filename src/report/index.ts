/**
 * The reporters: pure functions from the evidence to the text of one output
 * format. The engine writes each `--report format:path` through this registry.
 */
import { renderGithubAnnotations } from './github.js';
import { renderHtml } from './html.js';
import type { Reporter } from './input.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { renderSarif } from './sarif.js';

export type { Reporter, ReportInput, SignatureInfo, SignatureStatus } from './input.js';

export const reporters = {
  junit: renderJunit,
  sarif: renderSarif,
  markdown: renderMarkdown,
  html: renderHtml,
  github: renderGithubAnnotations,
} as const satisfies Record<string, Reporter>;

export type ReportFormat = keyof typeof reporters;

export const REPORT_FORMATS = Object.keys(reporters) as ReportFormat[];

export interface ReportSpec {
  format: ReportFormat;
  /** Where to write; `-` means standard output. */
  path: string;
}

/** A `--report` value that cannot be used; the CLI turns it into exit 2. */
export class ReportSpecError extends Error {
  override name = 'ReportSpecError';
}

/**
 * `junit:out.xml` → `{ format: 'junit', path: 'out.xml' }`. Only the first `:`
 * separates, so paths may contain colons. `github` alone means stdout (the
 * annotations are workflow commands GitHub reads from the log); every other
 * format needs a path, `-` for stdout.
 */
export function parseReportSpec(spec: string): ReportSpec {
  const separator = spec.indexOf(':');
  const name = (separator === -1 ? spec : spec.slice(0, separator)).trim();
  const file = separator === -1 ? '' : spec.slice(separator + 1).trim();
  if (!isReportFormat(name)) {
    throw new ReportSpecError(
      `--report '${spec}': unknown format '${name}'; expected one of ${REPORT_FORMATS.join(', ')} as format:path (e.g. junit:secgate.xml)`,
    );
  }
  if (file === '') {
    if (name === 'github') return { format: name, path: '-' };
    throw new ReportSpecError(
      `--report '${spec}': expected a path after '${name}:' (e.g. ${name}:${exampleFile(name)}, or ${name}:- for stdout)`,
    );
  }
  return { format: name, path: file };
}

function isReportFormat(name: string): name is ReportFormat {
  return Object.hasOwn(reporters, name);
}

function exampleFile(format: ReportFormat): string {
  return { junit: 'secgate.xml', sarif: 'secgate.sarif', markdown: 'secgate.md', html: 'evidence.html', github: '-' }[
    format
  ];
}
