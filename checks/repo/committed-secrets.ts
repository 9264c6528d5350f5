import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineCheck, type Observation } from '../../src/engine/types.js';
import { isIgnored, listTrackedFiles } from '../../src/probes/git.js';
import { findNamedAssignments, isEnvFile, isExampleFile } from '../../src/secrets/assignments.js';
import { acceptedBy, listedFindings, loadBaselineFile } from '../../src/secrets/baseline.js';
import { pathMatches } from '../../src/secrets/paths.js';
import { isKnownDefaultSecret, isPlaceholder } from '../../src/secrets/placeholders.js';
import { looksBinary, scanText } from '../../src/secrets/scanner.js';

/** Cap on finding observations, so a repository full of findings still yields readable evidence. */

interface FileFinding {
  observation: Observation;
  fingerprint: string;
  rule: string;
  path: string;
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
  source: 'seed 002, checklist item 9 (secrets from the environment); seed 000, item 1',
  remediation:
    'Move the value to the deployment environment or secret store, rotate it (it is already in git), put only ' +
    'placeholders (`changeme`, `<generate-me>`, an environment reference) in .env.example, and add `.env` to .gitignore.',
  effects: 'none',
  params: z
    .object({
      names: z
        .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/))
        .default(['JWT_SECRET_KEY', 'POSTGRES_PASSWORD', 'AUTH_SECRET', 'DATABASE_URL', 'AUTH_BASIC_PASSWORD']),
      /** Tracked files larger than this are not read (each is listed as not scanned). */
      max_file_bytes: z
        .number()
        .int()
        .positive()
        .default(2 * 1024 * 1024),
      /** Paths that must be ignored by git. */
      must_ignore: z.array(z.string().min(1)).default(['.env']),
      /** Tracked paths not scanned (test fixtures with fake credentials); listed in the evidence. */
      ignore_paths: z.array(z.string().min(1)).default([]),
      /** JSON baseline of accepted findings (fingerprint + reason), relative to the checklist's directory. */
      baseline: z.string().min(1).optional(),
    })
    .strict(),
  async run(ctx, params) {
    const observations: Observation[] = [];
    const findings: FileFinding[] = [];

    const loadedBaseline = await loadBaselineFile(ctx.baseDir, params.baseline);
    if (loadedBaseline.observation) observations.push(loadedBaseline.observation);
    if (loadedBaseline.problem !== undefined) {
      return { status: 'error', summary: loadedBaseline.problem, observations };
    }
    const baseline = loadedBaseline.entries;

    let tracked: string[];
    try {
      tracked = await listTrackedFiles(ctx.repoDir, { signal: ctx.signal });
    } catch (error) {
      return {
        status: 'error',
        summary: `could not list tracked files in ${ctx.repoDir}: ${ctx.secrets.redact(String(error))}`,
        observations,
      };
    }

    // 1. .env must be ignored, and no .env-like file may be tracked.
    let notIgnored = 0;
    for (const mustIgnore of params.must_ignore) {
      let ignored: boolean;
      try {
        ignored = await isIgnored(ctx.repoDir, mustIgnore, { signal: ctx.signal });
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
    let scannedFiles = 0;
    let scannedBytes = 0;
    const tooLarge: string[] = [];
    for (const file of tracked) {
      if (ignoredSet.has(file)) continue;
      if (ctx.signal.aborted) return { status: 'error', summary: 'aborted while scanning tracked files', observations };
      const absolute = path.join(ctx.repoDir, file);
      let content: Buffer;
      try {
        const stats = await lstat(absolute);
        if (!stats.isFile()) continue; // symlinks and submodules: their targets are scanned where they live
        if (stats.size > params.max_file_bytes) {
          tooLarge.push(`${file} (${stats.size} bytes)`);
          continue;
        }
        content = await readFile(absolute);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted in the working tree
        return { status: 'error', summary: `could not read ${file}: ${String(error)}`, observations };
      }
      if (looksBinary(content)) continue;
      scannedFiles++;
      scannedBytes += content.length;
      const text = content.toString('utf8');
      const example = isExampleFile(file);

      for (const assignment of findNamedAssignments(text, params.names, file)) {
        // `changeme` is a fine placeholder in .env.example, but a live default in code or compose files.
        const placeholderValue = isPlaceholder(assignment.value);
        const knownDefault = isKnownDefaultSecret(assignment.value) && !(example && placeholderValue);
        // In code, a default is live (getenv("X", "changeme")) unless it is only another variable's name.
        const variableName = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(assignment.value);
        const placeholder = !knownDefault && placeholderValue && (assignment.form === 'assignment' || variableName);
        const location = { path: file, line: assignment.line, column: assignment.column };
        const fingerprint = ctx.secrets.fingerprint(assignment.value);
        const actual = { name: assignment.name, form: assignment.form, ...fingerprint };
        if (placeholder) {
          observations.push({
            probe: `${file}:${assignment.line}`,
            expected: 'placeholder or environment reference',
            actual: { ...actual, placeholder: true },
            ok: true,
            note: `${assignment.name} has a placeholder value in ${file}`,
            location,
          });
          continue;
        }
        const why = knownDefault
          ? `${assignment.name} is given a known default secret in ${file}:${assignment.line}`
          : example
            ? `${assignment.name} has a real value, not a placeholder, in example file ${file}:${assignment.line}`
            : `${assignment.name} has a value in ${file}:${assignment.line}; only .env.example with placeholders may name it`;
        findings.push({
          rule: 'named-secret-value',
          path: file,
          fingerprint: fingerprint.sha256,
          observation: {
            probe: `${file}:${assignment.line}`,
            expected: 'placeholder or environment reference',
            actual: { ...actual, placeholder: false, known_default: knownDefault },
            ok: false,
            note: why,
            location,
          },
        });
      }

      for (const match of scanText(text)) {
        const fingerprint = ctx.secrets.fingerprint(match.value);
        findings.push({
          rule: match.ruleId,
          path: file,
          fingerprint: fingerprint.sha256,
          observation: {
            probe: `${file}:${match.line}`,
            expected: 'no secret in tracked files',
            actual: { rule: match.ruleId, ...fingerprint },
            ok: false,
            note: `${match.ruleId} in ${file}:${match.line}`,
            location: { path: file, line: match.line, column: match.column },
          },
        });
      }
    }

    observations.push({
      probe: 'scan tracked files',
      actual: { tracked_files: tracked.length, scanned_text_files: scannedFiles, scanned_bytes: scannedBytes },
      note: `scanned ${scannedFiles} text files of ${tracked.length} tracked`,
    });
    if (tooLarge.length > 0) {
      observations.push({
        probe: 'files not scanned',
        actual: tooLarge.slice(0, 50),
        note: `${tooLarge.length} tracked files were larger than max_file_bytes (${params.max_file_bytes}) and not scanned`,
      });
    }

    // Accepted findings stay in the evidence, marked with their reason; open ones come first.
    let open = 0;
    const findingObservations = findings.map((finding) => {
      const accepted = acceptedBy(baseline, finding);
      if (!accepted) {
        open++;
        return finding.observation;
      }
      return { ...finding.observation, ok: true, note: `baselined: ${accepted.reason} (${finding.observation.note})` };
    });
    observations.push(...listedFindings(findingObservations, open));

    const problems = notIgnored + open;
    const accepted = findings.length - open;
    if (problems > 0) {
      const first =
        observations.find((observation) => observation.probe.startsWith('git check-ignore') && !observation.ok)?.note ??
        findingObservations.find((observation) => !observation.ok)?.note ??
        '';
      return {
        status: 'fail',
        summary: `${problems} problem${problems === 1 ? '' : 's'} in tracked files${accepted > 0 ? ` (${accepted} baselined)` : ''}, first: ${first}`,
        observations,
      };
    }
    return {
      status: 'pass',
      summary: `no secrets in ${scannedFiles} tracked text files; ${params.must_ignore.join(', ')} ignored${accepted > 0 ? ` (${accepted} baselined)` : ''}`,
      observations,
    };
  },
});
