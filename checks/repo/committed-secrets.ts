import path from 'node:path';
import { z } from 'zod';
import { type CheckFiles, defineCheck, type Observation } from '../../src/engine/types.js';
import {
  findNamedAssignments,
  isCredentialFree,
  isEnvFile,
  isExampleFile,
  type NamedAssignment,
} from '../../src/secrets/assignments.js';
import { acceptedBy, listedFindings, loadBaselineFile } from '../../src/secrets/baseline.js';
import { type ContentScan, ContentScanner, scanContent } from '../../src/secrets/content.js';
import { inScope, pathMatches } from '../../src/secrets/paths.js';
import { isKnownDefaultSecret, isPlaceholder } from '../../src/secrets/placeholders.js';
import { scopePathsParam } from './params.js';

interface FileFinding {
  observation: Observation;
  fingerprint: string;
  rule: string;
  path: string;
}

/** A file's content as scanned: its findings, and its text where named assignments can be looked for. */
interface ScannedFile {
  scan: ContentScan;
  /** The text (decoded when it was UTF-16/32); absent for binary content and files streamed past. */
  text?: string;
  bytes: number;
}

/**
 * Seed 002, "JWT secrets and database passwords are loaded from environment,
 * not from committed files": `grep -r "JWT_SECRET_KEY\|POSTGRES_PASSWORD" .`
 * finds only `.env.example` with placeholder values, no tracked file carries a
 * key or token, and `.env` is ignored.
 */
export default defineCheck({
  id: 'repo.committed-secrets',
  title:
    'Tracked files hold no secrets: named secrets only as placeholders in .env.example, no tokens or keys, .env ignored',
  source: 'control K2 (docs/controls.md#K2): No secret in the tracked files',
  docs: 'docs/controls.md#K2',
  remediation:
    'Move the value to the deployment environment or secret store, rotate it (it is already in git), put only ' +
    'placeholders (`changeme`, `<generate-me>`, an environment reference) in .env.example, and add `.env` to .gitignore.',
  effects: 'none',
  slow: true,
  severity: 'critical',
  params: z
    .object({
      names: z
        .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/))
        .default(['JWT_SECRET_KEY', 'POSTGRES_PASSWORD', 'AUTH_SECRET', 'DATABASE_URL', 'AUTH_BASIC_PASSWORD'])
        .describe(
          'secret variable names: no tracked file may assign them a value (placeholders in .env.example excepted)',
        ),
      max_file_bytes: z
        .number()
        .int()
        .positive()
        .default(2 * 1024 * 1024)
        .describe('tracked files larger than this are not held in memory: they are scanned as a stream'),
      must_ignore: z
        .array(z.string().min(1))
        .default(['.env'])
        .describe("paths that must be ignored by git, relative to the repository's top level"),
      ignore_paths: z
        .array(z.string().min(1))
        .default([])
        .describe('tracked paths not scanned (test fixtures with fake credentials); listed in the evidence'),
      paths: scopePathsParam,
      baseline: z
        .string()
        .min(1)
        .optional()
        .describe("JSON baseline of accepted findings (fingerprint + reason), relative to the checklist's directory"),
    })
    .strict(),
  strength: {
    names: 'verified',
    must_ignore: 'verified',
    ignore_paths: 'accepted',
    max_file_bytes: 'higher',
  },
  async run(ctx, params) {
    const observations: Observation[] = [];
    const findings: FileFinding[] = [];

    const loadedBaseline = await loadBaselineFile(ctx.files, ctx.baseDir, params.baseline);
    if (loadedBaseline.observation) observations.push(loadedBaseline.observation);
    if (loadedBaseline.problem !== undefined) {
      return { status: 'error', summary: loadedBaseline.problem, observations };
    }
    const baseline = loadedBaseline.entries;

    // Paths are relative to the repository's top level, wherever in it `repo:` points, as in repo.history.
    let topLevel: string;
    let tracked: string[];
    try {
      topLevel = await ctx.git.repositoryTopLevel(ctx.repoDir, { signal: ctx.signal });
      tracked = await ctx.git.listTrackedFiles(topLevel, { signal: ctx.signal });
    } catch (error) {
      return {
        status: 'error',
        summary: `could not list tracked files in ${ctx.repoDir}: ${ctx.secrets.redact(String(error))}`,
        observations,
      };
    }
    const scope = params.paths;
    if (scope) {
      const before = tracked.length;
      tracked = tracked.filter((file) => inScope(scope, file));
      observations.push({
        probe: 'paths',
        actual: { paths: scope.map((entry) => (entry === '' ? '.' : entry)), tracked_in_scope: tracked.length },
        note: `${tracked.length} of ${before} tracked files lie in ${scope.map((entry) => (entry === '' ? 'the whole repository' : `${entry}/`)).join(', ')}`,
      });
    }

    // 1. .env must be ignored, and no .env-like file may be tracked.
    let notIgnored = 0;
    for (const mustIgnore of params.must_ignore) {
      let ignored: boolean;
      try {
        ignored = await ctx.git.isIgnored(topLevel, mustIgnore, { signal: ctx.signal });
      } catch (error) {
        return { status: 'error', summary: `git check-ignore ${mustIgnore} failed: ${String(error)}`, observations };
      }
      if (!ignored) notIgnored++;
      observations.push({
        probe: `git check-ignore ${mustIgnore}`,
        expected: 'ignored',
        actual: ignored ? 'ignored' : 'not ignored',
        ok: ignored,
        note: ignored
          ? `${mustIgnore} is ignored by .gitignore`
          : `${mustIgnore} is not ignored by .gitignore (rules in .git/info/exclude or a user's core.excludesFile do not count)`,
        location: { path: '.gitignore' },
      });
    }
    for (const file of tracked.filter(isEnvFile)) {
      findings.push({
        rule: 'env-file-tracked',
        path: file,
        // Nothing secret to fingerprint here: the finding is identified by its path.
        fingerprint: ctx.secrets.fingerprint(file).sha256,
        observation: {
          probe: 'git ls-files',
          expected: 'no .env file tracked',
          actual: { path: file },
          ok: false,
          note: `${file} is tracked by git; env files with real values must never be committed`,
          location: { path: file },
        },
      });
    }

    // 2. Every tracked file: named secrets with values, and rule findings.
    const ignoredByParams = tracked.filter((file) => params.ignore_paths.some((pattern) => pathMatches(pattern, file)));
    if (ignoredByParams.length > 0) {
      observations.push({
        probe: 'ignore_paths',
        actual: { patterns: params.ignore_paths, files: ignoredByParams.length, first: ignoredByParams.slice(0, 20) },
        note: `${ignoredByParams.length} tracked files not scanned because ignore_paths covers them`,
      });
    }
    const ignoredSet = new Set(ignoredByParams);
    const unjudged: { path: string; what: string; bytes: number }[] = [];
    const counts = { scanned: 0, bytes: 0, streamed: 0, decoded: 0, binary: 0 };
    for (const file of tracked) {
      if (ignoredSet.has(file)) continue;
      if (ctx.signal.aborted) return { status: 'error', summary: 'aborted while scanning tracked files', observations };
      let scanned: ScannedFile | undefined;
      try {
        scanned = await scanTrackedFile(ctx.files, path.join(topLevel, file), file, params.max_file_bytes, ctx.signal);
      } catch (error) {
        return { status: 'error', summary: `could not read ${file}: ${String(error)}`, observations };
      }
      if (!scanned) continue;
      counts.scanned++;
      counts.bytes += scanned.bytes;
      if (scanned.bytes > params.max_file_bytes) counts.streamed++;
      if (scanned.scan.kind === 'binary') counts.binary++;
      else if (scanned.scan.kind !== 'text') counts.decoded++;

      if (scanned.scan.unjudged !== undefined)
        unjudged.push({ path: file, what: scanned.scan.unjudged, bytes: scanned.bytes });
      if (scanned.text !== undefined) {
        for (const assignment of findNamedAssignments(scanned.text, params.names, file)) {
          const fingerprint = ctx.secrets.fingerprint(assignment.value);
          const observation = judgeAssignment(assignment, file, fingerprint);
          if (observation.ok) observations.push(observation);
          else findings.push({ rule: 'named-secret-value', path: file, fingerprint: fingerprint.sha256, observation });
        }
      }
      for (const match of scanned.scan.matches) {
        const fingerprint = ctx.secrets.fingerprint(match.value);
        const binary = scanned.scan.kind === 'binary';
        const place = binary ? `${file} (byte ${match.offset})` : `${file}:${match.line}`;
        findings.push({
          rule: match.ruleId,
          path: file,
          fingerprint: fingerprint.sha256,
          observation: {
            probe: binary ? file : `${file}:${match.line}`,
            expected: 'no secret in tracked files',
            actual: { rule: match.ruleId, ...fingerprint, ...(binary ? { byte_offset: match.offset } : {}) },
            ok: false,
            note: `${match.ruleId} in ${place}`,
            location: binary ? { path: file } : { path: file, line: match.line, column: match.column },
          },
        });
      }
    }

    observations.push({
      probe: 'scan tracked files',
      actual: {
        tracked_files: tracked.length,
        scanned_files: counts.scanned,
        scanned_bytes: counts.bytes,
        streamed_large_files: counts.streamed,
        decoded_text_files: counts.decoded,
        binary_files_scanned_for_printable_runs: counts.binary,
      },
      note: `scanned ${counts.scanned} of ${tracked.length} tracked files`,
    });

    // Accepted findings stay in the evidence, marked with their reason; open ones come first.
    let open = 0;
    const findingObservations = withoutDuplicates(findings).map((finding) => {
      const accepted = acceptedBy(baseline, finding);
      if (!accepted) {
        open++;
        return finding.observation;
      }
      return { ...finding.observation, ok: true, note: `baselined: ${accepted.reason} (${finding.observation.note})` };
    });
    // Content no scan can judge (an archive) is named by the blob id git would store for it, as repo.history names
    // it, so that one baseline entry accepts a reviewed archive in both checks.
    let unjudgedIds: string[];
    try {
      unjudgedIds = await ctx.git.blobIdsOf(
        topLevel,
        unjudged.map((file) => file.path),
        { signal: ctx.signal },
      );
    } catch (error) {
      return { status: 'error', summary: `could not identify unjudged files: ${String(error)}`, observations };
    }
    let openUnjudged = 0;
    unjudged.forEach((file, index) => {
      const blob = unjudgedIds[index] ?? '';
      const accepted = acceptedBy(baseline, { fingerprint: blob, rule: 'unjudged-content', path: file.path });
      if (!accepted) openUnjudged++;
      const what = `${file.path} is ${file.what} (${file.bytes} bytes): no scan can see into it`;
      findingObservations.push({
        probe: file.path,
        expected: 'content a scan can judge',
        actual: { rule: 'unjudged-content', path: file.path, blob, size: file.bytes },
        ok: accepted !== undefined,
        note: accepted ? `baselined: ${accepted.reason} (${what})` : `not judged: ${what}`,
        location: { path: file.path },
      });
    });
    observations.push(...listedFindings(findingObservations, open + openUnjudged));

    const problems = notIgnored + open;
    const accepted = findingObservations.filter((observation) => observation.ok).length;
    const notJudged = openUnjudged > 0 ? `${openUnjudged} file${openUnjudged === 1 ? '' : 's'} not judged` : '';
    if (problems > 0) {
      const first =
        observations.find((observation) => observation.probe.startsWith('git check-ignore') && !observation.ok)?.note ??
        findingObservations.find((observation) => !observation.ok)?.note ??
        '';
      return {
        status: 'fail',
        summary: `${problems} problem${problems === 1 ? '' : 's'} in tracked files${accepted > 0 ? ` (${accepted} baselined)` : ''}${notJudged ? `, and ${notJudged}` : ''}, first: ${first}`,
        observations,
      };
    }
    if (openUnjudged > 0) {
      const named = findingObservations.filter((observation) => !observation.ok).slice(0, 3);
      return {
        status: 'error',
        summary: `cannot judge every tracked file: ${notJudged} (${named.map((observation) => observation.note).join('; ')})`,
        observations,
      };
    }
    return {
      status: 'pass',
      summary: `no secrets in ${counts.scanned} tracked files; ${params.must_ignore.join(', ')} ignored${accepted > 0 ? ` (${accepted} baselined)` : ''}`,
      observations,
    };
  },
});

/**
 * Reads and scans one tracked file: whole when it is small, as a stream in
 * bounded memory when it is larger than `maxBytes`. Undefined for what is not
 * a regular file (a symlink's or submodule's target is scanned where it
 * lives) or was deleted in the work tree.
 */
async function scanTrackedFile(
  files: CheckFiles,
  absolute: string,
  file: string,
  maxBytes: number,
  signal: AbortSignal,
): Promise<ScannedFile | undefined> {
  let size: number;
  try {
    const stats = await files.lstat(absolute);
    if (stats.kind !== 'file') return undefined;
    size = stats.size;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
    throw error;
  }
  if (size > maxBytes) {
    const scanner = new ContentScanner(file);
    let bytes = 0;
    for await (const chunk of files.readChunks(absolute, { chunkBytes: 1024 * 1024, signal })) {
      if (!(chunk instanceof Uint8Array)) throw new Error(`${file}: the stream did not yield bytes`);
      bytes += chunk.length;
      scanner.push(chunk);
    }
    return { scan: scanner.end(), bytes };
  }
  const content = await files.readFile(absolute, { signal });
  const scan = scanContent(content, file);
  const text = textOf(content, scan);
  return { scan, bytes: content.length, ...(text === undefined ? {} : { text }) };
}

/** The text of a file read whole, decoded as it was scanned; none for binary content. */
function textOf(content: Buffer, scan: ContentScan): string | undefined {
  switch (scan.kind) {
    case 'text':
      return content.toString('utf8');
    case 'utf-16le':
    case 'utf-16be':
      return new TextDecoder(scan.kind).decode(content);
    default:
      return undefined;
  }
}

/**
 * One named assignment judged: a placeholder, a value without credentials or
 * a known default in an example file is fine (an observation with ok: true);
 * any other value is a finding.
 */
function judgeAssignment(
  assignment: NamedAssignment,
  file: string,
  fingerprint: { length: number; sha256: string },
): Observation {
  const example = isExampleFile(file);
  // `changeme` is a fine placeholder in .env.example, but a live default in code or compose files.
  const placeholderValue = isPlaceholder(assignment.value);
  const knownDefault = isKnownDefaultSecret(assignment.value) && !(example && placeholderValue);
  // In code, a default is live (getenv("X", "changeme")) unless it is only another variable's name.
  const variableName = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(assignment.value);
  const placeholder = !knownDefault && placeholderValue && (assignment.form === 'assignment' || variableName);
  const location = { path: file, line: assignment.line, column: assignment.column };
  const actual = { name: assignment.name, form: assignment.form, ...fingerprint };
  const base = { probe: `${file}:${assignment.line}`, expected: 'placeholder or environment reference', location };
  if (placeholder) {
    return {
      ...base,
      actual: { ...actual, placeholder: true },
      ok: true,
      note: `${assignment.name} has a placeholder value in ${file}`,
    };
  }
  if (!knownDefault && isCredentialFree(assignment.name, assignment.value)) {
    return {
      ...base,
      actual: { ...actual, credentials: false },
      ok: true,
      note: `${assignment.name} in ${file}:${assignment.line} holds no credentials (no URL with a password or token)`,
    };
  }
  const why = knownDefault
    ? `${assignment.name} is given a known default secret in ${file}:${assignment.line}`
    : example
      ? `${assignment.name} has a real value, not a placeholder, in example file ${file}:${assignment.line}`
      : `${assignment.name} has a value in ${file}:${assignment.line}; only .env.example with placeholders may name it`;
  return {
    ...base,
    actual: { ...actual, placeholder: false, known_default: knownDefault },
    ok: false,
    note: why,
  };
}

/**
 * One finding per secret and place: a value both a named assignment and a
 * rule report (a named secret given a template default) is one problem, kept as the first
 * report of it (the named one, which says which variable).
 */
function withoutDuplicates(findings: readonly FileFinding[]): FileFinding[] {
  const seen = new Set<string>();
  return findings.filter((finding) => {
    const line = finding.observation.location?.line;
    if (line === undefined) return true;
    const key = `${finding.fingerprint}:${finding.path}:${line}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
