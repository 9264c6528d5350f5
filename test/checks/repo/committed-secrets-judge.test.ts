import { randomBytes } from 'node:crypto';
import {
  type AssignedValue,
  committedSecretsParams,
  judgeTrackedFiles,
  type TrackedFileSeen,
  type TrackedSeen,
} from '../../../checks/repo/committed-secrets.js';
import type { BaselineEntry } from '../../../src/secrets/baseline.js';
import { judgeTable } from '../../harness/judge-table.js';

/** Fingerprints and object ids made at run time: this file holds nothing a secret scan could mistake. */
const hex = (length: number): string =>
  randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);
const fingerprint = () => ({ length: 40, sha256: hex(12) });
const stripe = { rule: 'stripe-key', line: 2, column: 9, offset: 30, fingerprint: fingerprint() };
const archiveBlob = hex(40);

const aFile = (changes: Partial<TrackedFileSeen> & { path: string }): TrackedFileSeen => ({
  bytes: 120,
  streamed: false,
  kind: 'text',
  matches: [],
  assignments: [],
  ...changes,
});
/** A value's facts, as the probe found them; the value itself never reaches the judge. */
const value = (facts: Partial<AssignedValue> = {}): AssignedValue => ({
  placeholder: false,
  knownDefault: false,
  variableName: false,
  credentialFree: false,
  ...facts,
});
const assignment = (facts: Partial<AssignedValue>, form: 'assignment' | 'code-default' = 'assignment') => ({
  name: 'JWT_SECRET_KEY',
  line: 3,
  column: 16,
  form,
  fingerprint: fingerprint(),
  value: value(facts),
});
const archive = aFile({
  path: 'vendor/bundle.zip',
  bytes: 410,
  kind: 'binary',
  unjudged: 'a zip archive',
  blob: archiveBlob,
});

/** A clean repository with an ignored .env: every case below changes one thing. */
function clean(changes: Partial<TrackedSeen> = {}): TrackedSeen {
  const files = changes.files ?? [aFile({ path: 'README.md' }), aFile({ path: 'src/app.py' })];
  return {
    repoDir: '/srv/app',
    trackedTotal: files.length,
    tracked: files.map((file) => file.path),
    ignoreChecks: [{ path: '.env', ignored: true }],
    skipped: [],
    files,
    absent: [],
    ...changes,
  };
}

const params = committedSecretsParams.parse({});
const judge = (baseline: readonly BaselineEntry[]) => (seen: TrackedSeen) => judgeTrackedFiles(seen, params, baseline);

judgeTable('repo.committed-secrets judge', judge([]), [
  {
    name: 'clean files, .env ignored',
    seen: clean(),
    status: 'pass',
    expect: /^no secrets in 2 tracked files; \.env ignored$/,
  },
  {
    name: 'a placeholder in .env.example',
    seen: clean({ files: [aFile({ path: '.env.example', assignments: [assignment({ placeholder: true })] })] }),
    status: 'pass',
    expect: /^no secrets in 1 tracked files/,
    observations: /JWT_SECRET_KEY has a placeholder value in \.env\.example/,
  },
  {
    name: '.env not ignored',
    seen: clean({ ignoreChecks: [{ path: '.env', ignored: false }] }),
    status: 'fail',
    expect: /^1 problem in tracked files, first: \.env is not ignored by \.gitignore/,
  },
  {
    name: 'a .env file tracked',
    seen: clean({ files: [aFile({ path: 'deploy/.env' })] }),
    status: 'fail',
    expect: /first: deploy\/\.env is tracked by git/,
  },
  {
    name: 'a token found by a rule',
    seen: clean({ files: [aFile({ path: 'config/settings.py', matches: [stripe] })] }),
    status: 'fail',
    expect: /^1 problem in tracked files, first: stripe-key in config\/settings\.py:2$/,
  },
  {
    name: 'a token in binary content is placed by byte offset',
    seen: clean({ files: [aFile({ path: 'dump.bin', kind: 'binary', matches: [stripe] })] }),
    status: 'fail',
    expect: /first: stripe-key in dump\.bin \(byte 30\)$/,
  },
  {
    name: 'a real value in a compose file',
    seen: clean({ files: [aFile({ path: 'docker-compose.yml', assignments: [assignment({})] })] }),
    status: 'fail',
    expect: /JWT_SECRET_KEY has a value in docker-compose\.yml:3; only \.env\.example with placeholders may name it/,
  },
  {
    name: 'a real value in the example file',
    seen: clean({ files: [aFile({ path: '.env.example', assignments: [assignment({})] })] }),
    status: 'fail',
    expect: /JWT_SECRET_KEY has a real value, not a placeholder, in example file \.env\.example:3/,
  },
  {
    name: 'a known default given in code is live, placeholder-looking or not',
    seen: clean({
      files: [
        aFile({
          path: 'app/config.py',
          assignments: [assignment({ knownDefault: true, placeholder: true }, 'code-default')],
        }),
      ],
    }),
    status: 'fail',
    expect: /JWT_SECRET_KEY is given a known default secret in app\/config\.py:3/,
  },
  {
    name: 'a placeholder as a code default is live unless it names another variable',
    seen: clean({
      files: [aFile({ path: 'app/config.py', assignments: [assignment({ placeholder: true }, 'code-default')] })],
    }),
    status: 'fail',
    expect: /JWT_SECRET_KEY has a value in app\/config\.py:3/,
  },
  {
    name: 'a finding fails even when a file was not judged',
    seen: clean({ files: [archive, aFile({ path: 'config/settings.py', matches: [stripe] })] }),
    status: 'fail',
    expect: /^1 problem in tracked files, and 1 file not judged, first: stripe-key/,
  },
  {
    name: 'an archive no scan sees into is an error, never a pass',
    seen: clean({ files: [archive] }),
    status: 'error',
    expect:
      /cannot judge every tracked file: 1 file not judged \(not judged: vendor\/bundle\.zip is a zip archive \(410 bytes\)/,
  },
  {
    name: 'a tracked file a partial clone holds in no work tree and no object store is an error, never a pass',
    seen: clean({ absent: [{ path: 'deploy/prod.yml', blob: archiveBlob }] }),
    status: 'error',
    expect: new RegExp(
      `^cannot judge every tracked file: 1 tracked file not read, absent from this partial clone's object store: deploy/prod\\.yml \\(${archiveBlob}\\); fetch them`,
    ),
    observations: /1 tracked file in no work tree and absent from this partial clone's object store/,
  },
  {
    name: 'a finding fails even when a file was not read, and says so',
    seen: clean({
      files: [archive, aFile({ path: 'config/settings.py', matches: [stripe] })],
      absent: [{ path: 'deploy/prod.yml', blob: archiveBlob }],
    }),
    status: 'fail',
    expect: /^1 problem in tracked files, and 1 tracked file not read, and 1 file not judged, first: stripe-key/,
  },
  {
    name: 'an archive without a blob id stays open',
    seen: clean({ files: [{ ...archive, blob: undefined }] }),
    status: 'error',
    expect: /1 file not judged/,
  },
  {
    name: 'tracked files could not be listed',
    seen: clean({ failure: { step: 'list', reason: 'Error: not a git repository' }, files: [], ignoreChecks: [] }),
    status: 'error',
    expect: /could not list tracked files in \/srv\/app: Error: not a git repository/,
  },
  {
    name: 'git check-ignore failed',
    seen: clean({
      ignoreChecks: [],
      failure: { step: 'check-ignore', path: '.env', reason: 'Error: died' },
      files: [],
    }),
    status: 'error',
    expect: /git check-ignore \.env failed: Error: died/,
  },
  {
    name: 'a must_ignore path never asked about is not known to be ignored',
    seen: clean({ ignoreChecks: [] }),
    status: 'error',
    expect: /git check-ignore was not asked about \.env/,
  },
  {
    name: 'a file could not be read, even after clean ones',
    seen: clean({ failure: { step: 'read', path: 'src/big.bin', reason: 'Error: EACCES' } }),
    status: 'error',
    expect: /could not read src\/big\.bin: Error: EACCES/,
  },
  {
    name: 'the scan was stopped',
    seen: clean({ failure: { step: 'aborted', reason: 'aborted while scanning tracked files' } }),
    status: 'error',
    expect: /^aborted while scanning tracked files$/,
  },
  {
    name: 'unjudged files could not be identified',
    seen: clean({ files: [archive], failure: { step: 'blob-ids', reason: 'Error: hash-object' } }),
    status: 'error',
    expect: /could not identify unjudged files: Error: hash-object/,
  },
]);

judgeTable(
  'repo.committed-secrets judge with a baseline',
  judge([
    { fingerprint: stripe.fingerprint.sha256, rule: 'stripe-key', reason: 'test key of the sandbox account' },
    { fingerprint: archiveBlob, rule: 'unjudged-content', reason: 'vendored bundle, reviewed' },
  ]),
  [
    {
      name: 'an accepted token and a reviewed archive pass, both in the evidence',
      seen: clean({ files: [archive, aFile({ path: 'config/settings.py', matches: [stripe] })] }),
      status: 'pass',
      expect: /\.env ignored \(2 baselined\)$/,
      observations: /baselined: test key of the sandbox account \(stripe-key in config\/settings\.py:2\)/,
    },
    {
      name: 'an accepted token does not excuse an ignored .env that is not',
      seen: clean({
        ignoreChecks: [{ path: '.env', ignored: false }],
        files: [aFile({ path: 'config/settings.py', matches: [stripe] })],
      }),
      status: 'fail',
      expect: /^1 problem in tracked files \(1 baselined\), first: \.env is not ignored/,
    },
    {
      name: 'another archive is still not judged',
      seen: clean({ files: [archive, { ...archive, path: 'other.zip', blob: hex(40) }] }),
      status: 'error',
      expect: /1 file not judged \(not judged: other\.zip/,
    },
  ],
);
