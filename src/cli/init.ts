/**
 * `secgate init --url https://host:8443`: a commented starter checklist. Checks
 * that need nothing beyond the target and the repository are switched on;
 * checks that need the auth section, the database, required parameters, or
 * that lock accounts or block IPs are written commented out, each saying what
 * it needs, so the file loads as written and grows as the team fills it in.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { errorMessage } from '../engine/errors.js';
import type { CheckDefinition, ChecklistRequirement } from '../engine/types.js';
import { REFERENCE_CLEANUP } from '../service/cleanup-sql.js';
import { UsageError } from './io.js';
import type { CatalogueDeps } from './list.js';

export interface StarterOptions {
  url: string;
  httpUrl?: string;
  caFile?: string;
  /** For the header comment only. */
  today?: Date;
}

/** Surfaces whose checks need only the target and the repository. */
const SELF_CONTAINED_SURFACES = new Set(['tls', 'http', 'repo']);

function validateUrl(value: string, scheme: 'https:' | 'http:', flag: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new UsageError(
      `${flag} '${value}' is not a URL; expected e.g. ${scheme}//node-1.example.internal${scheme === 'https:' ? ':8443' : ''}`,
    );
  }
  if (parsed.protocol !== scheme)
    throw new UsageError(`${flag} must be an ${scheme.slice(0, -1)}:// URL, got '${value}'`);
  return parsed;
}

/** Why a check starts commented out, or undefined when it can run as written. */
function reasonToWait(check: CheckDefinition, provided: ReadonlySet<ChecklistRequirement>): string | undefined {
  const surface = check.id.split('.')[0] ?? '';
  if (check.effects === 'locks-account')
    return 'locks the probe account on purpose: needs auth.probe_account and auth.cleanup';
  if (check.effects === 'blocks-ip') return 'gets a probe IP blocked on purpose: needs auth and auth.cleanup';
  if (check.effects === 'runs-commands') return 'runs commands in the repository: list them under with:';
  const defaults = check.params.safeParse({});
  if (!defaults.success) return 'needs parameters under with: (secgate explain shows them)';
  // An optional variable (env?:NAME) never holds a check back: the check judges it unset by itself.
  const missing = (check.requires?.(defaults.data) ?? []).filter(
    (requirement) => !requirement.startsWith('env?:') && !provided.has(requirement),
  );
  if (missing.length > 0) return `needs ${missing.join(' and ')} set above`;
  if (!SELF_CONTAINED_SURFACES.has(surface)) return 'needs the auth: and database: sections above';
  return undefined;
}

function entryLines(check: CheckDefinition, provided: ReadonlySet<ChecklistRequirement>): string[] {
  const reason = reasonToWait(check, provided);
  const header = [`  # ${check.title}`, `  # control: ${check.source}`];
  if (!reason) return [...header, `  - check: ${check.id}`, ''];
  return [...header, `  # (${reason})`, `  # - check: ${check.id}`, ''];
}

/** `${NAME}` as the checklist writes an environment reference (block style: braces would open a YAML flow map). */
const env = (name: string) => `\${${name}}`;

const quote = (value: string) => stringify(value, { lineWidth: 0 }).trimEnd();

export function renderStarterChecklist(options: StarterOptions, checks: readonly CheckDefinition[]): string {
  const target = validateUrl(options.url, 'https:', '--url');
  const httpUrl = options.httpUrl ? validateUrl(options.httpUrl, 'http:', '--http-url').href : undefined;
  const day = (options.today ?? new Date()).toISOString().slice(0, 10);
  const sorted = [...checks].sort((a, b) => a.id.localeCompare(b.id));
  const lines = [
    `# secgate checklist for ${target.host}, started ${day} with secgate init.`,
    '# Each entry under checks: is one control; secgate verify proves it against the live deployment and the',
    '# repository and signs the evidence. secgate list shows every check; secgate explain <check> shows its',
    `# parameters and how to fix a failure. Unknown keys are errors, and ${env('VAR')} reads the environment`,
    '# (an unset variable is an error that names it), so secrets never live in this file.',
    'version: 1',
    '',
    'target:',
    `  url: ${quote(target.href.replace(/\/$/, ''))}   # the TLS endpoint clients use`,
    httpUrl
      ? `  http_url: ${quote(httpUrl.replace(/\/$/, ''))}   # plain HTTP must redirect to HTTPS or refuse`
      : `  # http_url: http://${target.hostname}   # plain HTTP must redirect to HTTPS or refuse`,
    options.caFile
      ? `  ca_file: ${quote(options.caFile)}   # trust anchor of the private CA`
      : '  # ca_file: .secgate/pki/ca.crt   # trust anchor, when the certificate comes from a private CA',
    '  timeout_ms: 5000',
    '',
    'repo: .   # the git repository whose files and history are checked',
    '',
    '# The service database, for checks that verify the rows the auth system writes:',
    '# database:',
    `#   url: ${env('DATABASE_URL')}`,
    '',
    '# How to log in, for the auth checks. As written it matches the reference service (secgate service',
    '# start) and the variables of the shipped checklist.yaml; secgate explain auth lists every key.',
    '# auth:',
    '#   login: { path: /api/v1/auth/login }',
    '#   probe_account:            # an account with TOTP enrolled',
    '#     username: secgate-probe',
    `#     password: ${env('SECGATE_PROBE_PASSWORD')}`,
    `#     totp_secret: ${env('SECGATE_PROBE_TOTP_SECRET')}`,
    '#   no_mfa_account:           # an account without a second factor, to prove MFA is enforced',
    '#     username: secgate-nomfa',
    `#     password: ${env('SECGATE_NOMFA_PASSWORD')}`,
    '#   tables: { failure_events: auth_failure_events, ip_blocks: ip_blocks }',
    '#   cleanup:                  # $1 is the username or the address; your tables may differ',
    `#     unlock_account_sql: ${REFERENCE_CLEANUP.unlock_account_sql}`,
    `#     unblock_ip_sql: ${REFERENCE_CLEANUP.unblock_ip_sql}`,
    `#     forget_address_failures_sql: ${REFERENCE_CLEANUP.forget_address_failures_sql}`,
    `#     forget_account_failures_sql: ${REFERENCE_CLEANUP.forget_account_failures_sql}`,
    '',
    'checks:',
  ];
  if (sorted.length === 0) {
    lines.push(
      '  # No checks are registered in this build of secgate; add entries such as:',
      '  # - check: tls.protocols',
      '  []',
    );
  } else {
    // Only what this starter sets: the auth and database sections are written commented out.
    const provided = new Set<ChecklistRequirement>(httpUrl ? ['target.http_url'] : []);
    const active = sorted.filter((check) => reasonToWait(check, provided) === undefined);
    for (const check of sorted) lines.push(...entryLines(check, provided));
    // A checklist needs at least one check: with none runnable as written, the file says what to do first.
    if (active.length === 0)
      lines.push('  # Uncomment at least one check above: the checklist does not load without one.', '  []');
  }
  lines.push(
    '# A waiver accepts a known failure until a date, with a reason; it is recorded in the evidence and',
    '# an expired waiver fails the gate:',
    '# waivers:',
    '#   - check: http.headers',
    '#     reason: CSP rollout, change CHG-1234',
    `#     expires: ${day}`,
    '',
  );
  return lines.join('\n');
}

export function registerInitCommand(program: Command, deps: CatalogueDeps): Command {
  return program
    .command('init')
    .description('Write a commented starter checklist for a target')
    .requiredOption('--url <https-url>', 'the deployment TLS endpoint, e.g. https://node-1.example.internal:8443')
    .option('--http-url <http-url>', 'its plain-HTTP endpoint, which must redirect or refuse')
    .option('--ca-file <pem>', 'trust anchor when the certificate comes from a private CA')
    .option('-o, --out <file>', 'where to write the checklist', 'checklist.yaml')
    .option('--force', 'overwrite an existing file')
    .action(async (options: { url: string; httpUrl?: string; caFile?: string; out: string; force?: boolean }) => {
      const text = renderStarterChecklist(
        {
          url: options.url,
          ...(options.httpUrl ? { httpUrl: options.httpUrl } : {}),
          ...(options.caFile ? { caFile: options.caFile } : {}),
        },
        deps.checks,
      );
      const file = path.resolve(deps.io.cwd, options.out);
      try {
        await writeFile(file, text, { flag: options.force ? 'w' : 'wx' });
      } catch (error) {
        const code = error instanceof Error && 'code' in error ? String(error.code) : '';
        if (code === 'EEXIST') throw new UsageError(`${options.out} already exists; pass --force to overwrite it`);
        throw new UsageError(`cannot write ${options.out}: ${errorMessage(error)}`);
      }
      deps.io.stdout.write(
        `Wrote ${options.out}. Next: review it, then run  secgate verify --checklist ${options.out}  (secgate list shows every check).\n`,
      );
    });
}
