/**
 * The CI examples in docs/ci run against the checklist they name: the
 * environment each example gives the gate is loaded against that checklist
 * with the same loader as `secgate verify` (every ${VAR} resolves, every
 * variable a check needs is set, every file it names is readable), the target
 * is the deployment the example deploys, and every variable the example sets
 * is one the checklist reads — so a renamed variable on either side fails
 * here, not in a user's first pipeline. The GitHub workflow's shell steps run
 * for real (with GitHub's expressions filled in); GitLab's variables are
 * expanded as GitLab does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allChecks } from '../../checks/index.js';
import { renderStarterChecklist } from '../../src/cli/init.js';
import { loadChecklist } from '../../src/engine/checklist/load.js';
import { sharedReferencePkiDir } from '../support/reference-pki.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'secgate-ci-examples-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A real PEM certificate: the checklist's ca_file is read and parsed when it loads. */
function caPem(): string {
  const pki = sharedReferencePkiDir();
  if (!pki) throw new Error('the test run has no shared reference PKI (test/support/global-setup.ts)');
  return readFileSync(path.join(pki, 'ca.crt'), 'utf8');
}

/** A stand-in for a CI secret, shaped as the checklist expects it. */
function secretValue(name: string): string {
  if (/CA_CERT|CA_FILE/.test(name)) return caPem();
  if (/DATABASE_URL/.test(name)) return 'postgres://gate:ci-password@db.staging.example.internal:5432/app';
  return `ci-secret-for-${name.toLowerCase()}-0123456789abcdef`;
}

/** Every environment-variable name a checklist reads: `${NAME}` and names given to checks (`*_env`, `names`, `inherit_env`). */
function namesReadBy(checklistText: string): Set<string> {
  return new Set([...checklistText.matchAll(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g)].map((match) => match[0]));
}

/** The names a header comment documents, one per line: `#   NAME   what it is`. */
function documentedNames(text: string): string[] {
  const header = text.slice(0, text.search(/^[^#\n]/m));
  return [...header.matchAll(/^# {3}([A-Z][A-Z0-9_]+) /gm)].map((match) => match[1] ?? '');
}

const SHIPPED = readFileSync('checklist.yaml', 'utf8');

interface GithubStep {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}
interface GithubJob {
  needs?: string | string[];
  outputs?: Record<string, string>;
  steps: GithubStep[];
}

describe('docs/ci/github-actions.yml', () => {
  const text = readFileSync('docs/ci/github-actions.yml', 'utf8');
  const workflow = parse(text) as { jobs: Record<string, GithubJob> };
  const runnerTemp = mkdtempSync(path.join(work, 'runner-temp-'));
  const jobOutputs = new Map<string, Record<string, string>>();

  /** GitHub's `${{ … }}` for the expressions the example uses; an unknown one fails the test, to be taught here. */
  function evaluate(value: string, steps: ReadonlyMap<string, Record<string, string>>): string {
    return value.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_match, expression: string) => {
      const secret = /^secrets\.([A-Z0-9_]+)$/.exec(expression);
      if (secret?.[1]) return secretValue(secret[1]);
      if (expression === 'runner.temp') return runnerTemp;
      if (expression === "github.event.number || 'main'") return '42';
      const need = /^needs\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expression);
      if (need?.[1] && need[2]) return runJob(need[1])[need[2]] ?? '';
      const step = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expression);
      if (step?.[1] && step[2]) return steps.get(step[1])?.[step[2]] ?? '';
      throw new Error(`this test does not know the expression \${{ ${expression} }}: teach evaluate() what it means`);
    });
  }

  /** Runs a step's shell script as the runner would (bash -e), returning what it wrote to $GITHUB_OUTPUT. */
  function runStep(step: GithubStep, steps: ReadonlyMap<string, Record<string, string>>): Record<string, string> {
    const outputFile = path.join(runnerTemp, `output-${Math.random().toString(36).slice(2)}`);
    writeFileSync(outputFile, '');
    const env = Object.fromEntries(
      Object.entries(step.env ?? {}).map(([name, value]) => [name, evaluate(value, steps)]),
    );
    execFileSync('bash', ['-e', '-c', evaluate(step.run ?? '', steps)], {
      env: { PATH: process.env.PATH, RUNNER_TEMP: runnerTemp, GITHUB_OUTPUT: outputFile, ...env },
    });
    return Object.fromEntries(
      readFileSync(outputFile, 'utf8')
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  }

  /** A job's outputs, running its shell steps (never the actions it uses). */
  function runJob(name: string): Record<string, string> {
    const known = jobOutputs.get(name);
    if (known) return known;
    const job = workflow.jobs[name];
    if (!job) throw new Error(`no job ${name}`);
    const steps = new Map<string, Record<string, string>>();
    for (const step of job.steps) {
      if (step.run) steps.set(step.id ?? `#${steps.size}`, runStep(step, steps));
    }
    const outputs = Object.fromEntries(
      Object.entries(job.outputs ?? {}).map(([key, value]) => [key, evaluate(value, steps)]),
    );
    jobOutputs.set(name, outputs);
    return outputs;
  }

  const gate = workflow.jobs.gate;
  const secgateStep = gate?.steps.find((step) => step.uses?.includes('secgate'));

  it('gives the gate an environment the checklist it names loads with, aimed at the deployed URL', async () => {
    if (!gate || !secgateStep) throw new Error('no gate job using the secgate action');
    // The steps before the action (the trust anchor) run first, as on the runner.
    const steps = new Map<string, Record<string, string>>();
    for (const step of gate.steps.slice(0, gate.steps.indexOf(secgateStep))) {
      if (step.run) steps.set(step.id ?? `#${steps.size}`, runStep(step, steps));
    }
    const env = Object.fromEntries(
      Object.entries(secgateStep.env ?? {}).map(([name, value]) => [name, evaluate(value, steps)]),
    );
    const checklist = secgateStep.with?.checklist ?? 'checklist.yaml';
    const loaded = await loadChecklist(checklist, { env, registry: allChecks });
    const deployed = runJob('deploy-staging');
    expect(deployed.url).toBe('https://pr-42.staging.example.internal');
    expect(loaded.checklist.target.url).toBe(deployed.url);
    expect(loaded.checklist.target.http_url).toBe(deployed['http-url']);
    expect(loaded.checklist.target.ca_file).toBe(path.join(runnerTemp, 'staging-ca.crt'));
  });

  it('sets only variables the checklist reads', () => {
    const read = namesReadBy(readFileSync(secgateStep?.with?.checklist ?? 'checklist.yaml', 'utf8'));
    expect(Object.keys(secgateStep?.env ?? {}).filter((name) => !read.has(name))).toEqual([]);
  });

  it('documents exactly the secrets it uses', () => {
    const used = new Set([...text.matchAll(/secrets\.([A-Z0-9_]+)/g)].map((match) => match[1]));
    expect(new Set(documentedNames(text))).toEqual(used);
  });
});

interface GitlabJob {
  stage?: string;
  needs?: string[];
  environment?: { name: string; url?: string; action?: string };
  variables?: Record<string, string>;
  script?: string[];
}

describe('docs/ci/gitlab-ci.yml', () => {
  const text = readFileSync('docs/ci/gitlab-ci.yml', 'utf8');
  const pipeline = parse(text) as Record<string, unknown> & { stages: string[] };
  const jobs = Object.fromEntries(
    Object.entries(pipeline).filter(([name, value]) => name !== 'stages' && typeof value === 'object'),
  ) as Record<string, GitlabJob>;
  const gate = jobs.secgate;
  /** What GitLab gives a merge-request pipeline of branch feature/login, for a job with `environment:`. */
  const predefined = { CI_COMMIT_REF_SLUG: 'feature-login', CI_ENVIRONMENT_SLUG: 'review-feature-log-8h2kqa' };

  /** `$NAME` and `${NAME}` expanded as GitLab expands variables; an unknown one fails the test. */
  function expand(value: string, variables: Readonly<Record<string, string>>): string {
    return value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_match, name: string) => {
      const known = variables[name];
      if (known === undefined) throw new Error(`$${name} is not defined for this job`);
      return known;
    });
  }

  /** CI/CD variables from the settings (as the header documents them; File ones are paths), then the job's own. */
  function jobEnvironment(job: GitlabJob): Record<string, string> {
    const settings = Object.fromEntries(
      documentedNames(text).map((name) => {
        if (!new RegExp(`^# {3}${name} +type File:`, 'm').test(text)) return [name, secretValue(name)];
        const file = path.join(work, `gitlab-file-${name}`);
        writeFileSync(file, secretValue(name));
        return [name, file];
      }),
    );
    const environment: Record<string, string> = { ...settings, ...predefined };
    if (job.environment) environment.CI_ENVIRONMENT_NAME = expand(job.environment.name, environment);
    for (const [name, value] of Object.entries(job.variables ?? {})) environment[name] = expand(value, environment);
    return environment;
  }

  it('is a complete pipeline: stages declared, needs defined, environment variables from an environment:', () => {
    for (const [name, job] of Object.entries(jobs)) {
      expect(pipeline.stages, name).toContain(job.stage);
      for (const need of job.needs ?? []) expect(Object.keys(jobs), `${name} needs ${need}`).toContain(need);
      const usesEnvironment = /\$\{?CI_ENVIRONMENT_/.test(JSON.stringify(job));
      if (usesEnvironment) expect(job.environment?.name, `${name} reads $CI_ENVIRONMENT_*`).toBeTruthy();
    }
    // The gate verifies the review app; it is not a deployment of it.
    expect(gate?.environment).toEqual({ name: jobs['deploy-review']?.environment?.name, action: 'verify' });
  });

  it('gives the gate an environment the checklist it names loads with, aimed at the deployed review app', async () => {
    if (!gate) throw new Error('no secgate job');
    const checklist = /--checklist (\S+)/.exec(gate.script?.join('\n') ?? '')?.[1];
    expect(checklist).toBe('checklist.yaml');
    const loaded = await loadChecklist(checklist ?? '', { env: jobEnvironment(gate), registry: allChecks });
    const deployJob = jobs['deploy-review'];
    if (!deployJob?.environment?.url) throw new Error('no deploy-review environment url');
    const deployed = expand(deployJob.environment.url, jobEnvironment(deployJob));
    expect(deployed).toBe('https://review-feature-log-8h2kqa.review.example.internal');
    expect(loaded.checklist.target.url).toBe(deployed);
    expect(loaded.checklist.target.http_url).toBe(deployed.replace('https://', 'http://'));
  });

  it('sets only variables the checklist or the script reads, and runs the secgate release of this package', () => {
    const read = namesReadBy(SHIPPED);
    const script = gate?.script?.join('\n') ?? '';
    const set = [...documentedNames(text), ...Object.keys(gate?.variables ?? {})].filter(
      (name) => name !== 'GIT_DEPTH',
    );
    expect(set.filter((name) => !read.has(name) && !script.includes(`$${name}`))).toEqual([]);
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(gate?.variables?.SECGATE_VERSION).toBe(version);
  });
});

describe('docs/ci/Jenkinsfile', () => {
  const text = readFileSync('docs/ci/Jenkinsfile', 'utf8');
  const environmentBlock = /environment \{\n([\s\S]*?)\n {2}\}/.exec(text)?.[1] ?? '';
  const assignments = [...environmentBlock.matchAll(/^ +([A-Z][A-Z0-9_]*) = (.+)$/gm)].map((match) => ({
    name: match[1] ?? '',
    value: match[2] ?? '',
  }));
  /** The credentials the header documents: id and kind (`Secret file` binds a path, `Secret text` the value). */
  const credentials = new Map(
    [...text.matchAll(/^\/\/ {3}([a-z0-9-]+) +(Secret file|Secret text):/gm)].map((match) => [match[1], match[2]]),
  );

  /** A literal as itself; credentials('id') as Jenkins binds it. */
  function bound({ name, value }: { name: string; value: string }): string {
    const literal = /^'([^']*)'$/.exec(value);
    if (literal) return literal[1] ?? '';
    const id = /^credentials\('([^']+)'\)$/.exec(value)?.[1];
    const kind = id ? credentials.get(id) : undefined;
    if (!kind) throw new Error(`${name}: ${value} is neither a literal nor a documented credential`);
    if (kind === 'Secret text') return secretValue(name);
    const file = path.join(work, `jenkins-${id}`);
    writeFileSync(file, secretValue(name));
    return file;
  }

  it('gives the gate an environment the checklist it names loads with, aimed at its target', async () => {
    const env = Object.fromEntries(assignments.map((assignment) => [assignment.name, bound(assignment)]));
    const checklist = /verify --checklist (\S+)/.exec(text)?.[1];
    expect(checklist).toBe('checklist.yaml');
    const loaded = await loadChecklist(checklist ?? '', { env, registry: allChecks });
    expect(loaded.checklist.target.url).toBe('https://staging.example.internal');
    expect(loaded.checklist.target.url).toBe(env.SECGATE_TARGET_URL);
    expect(loaded.checklist.target.http_url).toBe(env.SECGATE_TARGET_HTTP_URL);
    expect(loaded.checklist.target.ca_file).toBe(env.SECGATE_CA_FILE);
  });

  it('binds only variables the checklist or the stage reads, and documents every credential it binds', () => {
    const read = namesReadBy(SHIPPED);
    const stage = text.slice(text.indexOf('stages {'));
    expect(
      assignments.map(({ name }) => name).filter((name) => !read.has(name) && !stage.includes(`$${name}`)),
    ).toEqual([]);
    const bindings = assignments.flatMap(({ value }) => /credentials\('([^']+)'\)/.exec(value)?.[1] ?? []);
    expect(new Set(bindings)).toEqual(new Set(credentials.keys()));
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(
      bound({ name: 'SECGATE_VERSION', value: assignments.find((a) => a.name === 'SECGATE_VERSION')?.value ?? '' }),
    ).toBe(version);
  });
});

describe('README: Reports and CI', () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(
    readme.indexOf('## Reports and CI'),
    readme.indexOf('\n## ', readme.indexOf('## Reports and CI') + 1),
  );
  const documented = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((match) => match[1] ?? '');

  it('lists every variable the shipped checklist interpolates', () => {
    const interpolated = [...SHIPPED.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((match) => match[1] ?? '');
    expect(interpolated.filter((name) => !documented.includes(name))).toEqual([]);
  });

  it('aims the shipped checklist at a staging deployment with exactly those variables', async () => {
    const caFile = path.join(work, 'readme-ca.crt');
    writeFileSync(caFile, caPem());
    const env: Record<string, string> = {
      ...Object.fromEntries(documented.map((name) => [name, secretValue(name)])),
      SECGATE_TARGET_URL: 'https://staging.example.internal',
      SECGATE_TARGET_HTTP_URL: 'http://staging.example.internal',
      SECGATE_CA_FILE: caFile,
    };
    const loaded = await loadChecklist('checklist.yaml', { env, registry: allChecks });
    expect(loaded.checklist.target.url).toBe('https://staging.example.internal');
    expect(loaded.checklist.target.http_url).toBe('http://staging.example.internal');
  });
});

describe("secgate init's starter", () => {
  it('names its variables as the shipped checklist does', () => {
    const starter = renderStarterChecklist({ url: 'https://api.example.internal' }, allChecks);
    // ${VAR} in its header comment explains the syntax; the variables have underscores in their names.
    const variables = [...starter.matchAll(/\$\{([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)/g)].map((match) => match[1] ?? '');
    expect(variables.length).toBeGreaterThan(3);
    const read = namesReadBy(SHIPPED);
    expect(variables.filter((name) => !read.has(name))).toEqual([]);
  });
});
