import { randomBytes } from 'node:crypto';
import { historyParams, judgeHistory } from '../../../checks/repo/history.js';
import {
  COMMIT_MESSAGE,
  type HistorySeen,
  type HistoryTotals,
  NO_COMMIT,
  TAG_MESSAGE,
} from '../../../src/probes/history-scan.js';
import type { BaselineEntry } from '../../../src/secrets/baseline.js';
import type { SecretFinding } from '../../../src/secrets/findings.js';
import { judgeTable } from '../../harness/judge-table.js';

/** Object ids and fingerprints made at run time: this file holds nothing a secret scan could mistake. */
const hex = (length: number): string =>
  randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);
const commit = hex(40);
const blob = hex(40);
const envBlob = hex(40);
const archiveBlob = hex(40);
const absentBlob = hex(40);
const fingerprint = hex(12);
const tagObject = hex(40);

const totals: HistoryTotals = {
  commits: 3,
  tagMessages: 0,
  uniqueBlobs: 5,
  requested: 5,
  scannedBlobs: 5,
  scannedBytes: 4096,
  missingFromStore: 0,
  decodedTextBlobs: 0,
  binaryBlobs: 0,
  streamedBlobs: 0,
  lfsPointers: 0,
  lfsObjectsScanned: 0,
  seconds: 0.01,
};

/** A whole, clean history: every case below changes one thing. */
function clean(changes: Partial<HistorySeen> = {}): HistorySeen {
  return {
    repoDir: '/srv/app',
    cutoffs: [],
    refs: ['refs/heads/main', 'refs/tags/v1'],
    partialClone: false,
    totals,
    paths: [{ path: 'src/app.py', blob, commit }],
    findings: [],
    headPaths: new Map(),
    unjudged: [],
    absent: [],
    ...changes,
  };
}

const stripeFinding: SecretFinding = {
  fingerprint,
  length: 32,
  occurrences: [
    { rule: 'stripe-key', path: 'config/payments.py', line: 1, commit, blob },
    { rule: 'stripe-key', path: 'config/billing.py', line: 4, commit, blob },
  ],
};
const archive = { blob: archiveBlob, commit, path: 'vendor/bundle.zip', what: 'a zip archive', size: 410 };
const absent = { blob: absentBlob, commit, path: 'config/settings.py', ref: 'main~2' };

const params = historyParams.parse({});
const judge = (baseline: readonly BaselineEntry[]) => (seen: HistorySeen) => judgeHistory(seen, params, baseline);
const accepting = (entry: Omit<BaselineEntry, 'reason'>): BaselineEntry[] => [
  { ...entry, reason: 'reviewed in the judge table' },
];

judgeTable('repo.history judge', judge([]), [
  {
    name: 'a whole history without findings',
    seen: clean(),
    status: 'pass',
    expect: /no open findings in 5 blobs and 3 commit messages of 3 commits across 2 refs$/,
  },
  {
    name: 'the stash entries only its reflog holds are counted apart from the refs',
    seen: clean({ stashEntries: 2, totals: { ...totals, tagMessages: 1 } }),
    status: 'pass',
    expect:
      /no open findings in 5 blobs and 3 commit messages and 1 tag message of 3 commits across 2 refs and 2 stash entries$/,
    observations: /"stash_entries":2/,
  },
  {
    name: "a secret name's value: the finding names the variable, and a baseline entry for its rule is read as usual",
    seen: clean({
      findings: [
        {
          fingerprint,
          length: 9,
          occurrences: [
            {
              rule: 'named-secret-value',
              name: 'POSTGRES_PASSWORD',
              path: 'docker-compose.yml',
              line: 5,
              commit,
              blob,
            },
          ],
        },
      ],
    }),
    status: 'fail',
    expect: new RegExp(
      `^1 secret finding in git history, first: named-secret-value POSTGRES_PASSWORD in docker-compose\\.yml:5 introduced by commit ${commit}; not in HEAD$`,
    ),
    observations: /"introduced":\{"rule":"named-secret-value","name":"POSTGRES_PASSWORD"/,
  },
  {
    name: "a secret in a commit's message: named by its commit, no file, no HEAD",
    seen: clean({
      findings: [
        {
          ...stripeFinding,
          occurrences: [{ rule: 'stripe-key', path: COMMIT_MESSAGE, line: 3, commit, message: 'commit' }],
        },
      ],
    }),
    status: 'fail',
    expect: new RegExp(`^1 secret finding in git history, first: stripe-key in commit message:3 of commit ${commit}$`),
  },
  {
    name: "a secret in an annotated tag's message: named by its ref and tag object",
    seen: clean({
      findings: [
        {
          ...stripeFinding,
          occurrences: [
            {
              rule: 'stripe-key',
              path: TAG_MESSAGE,
              line: 1,
              commit: NO_COMMIT,
              message: 'tag',
              tag: { object: tagObject, ref: 'refs/tags/v1' },
            },
          ],
        },
      ],
    }),
    status: 'fail',
    expect: new RegExp(
      `^1 secret finding in git history, first: stripe-key in tag message:1 of refs/tags/v1 \\(tag object ${tagObject}\\)$`,
    ),
    observations: new RegExp(`"tag_object":"${tagObject}","tag_ref":"refs/tags/v1"`),
  },
  {
    name: 'a secret: where it was introduced, where else, whether HEAD holds it',
    seen: clean({ findings: [stripeFinding], headPaths: new Map([[blob, ['config/billing.py']]]) }),
    status: 'fail',
    expect: new RegExp(
      `^1 secret finding in git history, first: stripe-key in config/payments\\.py:1 introduced by commit ${commit}; ` +
        'also in 1 other place; still in HEAD \\(config/billing\\.py\\)$',
    ),
  },
  {
    name: 'a secret reachable only from a tag on a blob',
    seen: clean({
      findings: [
        {
          ...stripeFinding,
          occurrences: [{ rule: 'stripe-key', path: '(blob tagged by refs/tags/k)', line: 1, commit: NO_COMMIT, blob }],
        },
      ],
    }),
    status: 'fail',
    expect: /stripe-key in \(blob tagged by refs\/tags\/k\):1, reachable from a ref without any commit; not in HEAD/,
  },
  {
    name: 'a .env file ever committed, even with no secret in it',
    seen: clean({ paths: [{ path: 'deploy/.env', blob: envBlob, commit }] }),
    status: 'fail',
    expect: new RegExp(`first: \\.env file deploy/\\.env committed in ${commit}`),
  },
  {
    name: 'a finding fails even when a blob was not read',
    seen: clean({ findings: [stripeFinding], absent: [absent] }),
    status: 'fail',
    expect: /^1 secret finding in git history, and 1 absent blob not read, first: stripe-key/,
  },
  {
    name: 'a finding fails even when a blob was not judged',
    seen: clean({ findings: [stripeFinding], unjudged: [archive] }),
    status: 'fail',
    expect: /^1 secret finding in git history, and 1 blob not judged, first: stripe-key/,
  },
  {
    name: 'a blob not read (absent from the object store) is an error, never a pass',
    seen: clean({ absent: [absent], partialClone: true }),
    status: 'error',
    expect: new RegExp(
      `cannot judge the whole history of /srv/app: 1 absent blob not read\\. Absent from the object store: ${absentBlob} \\(config/settings\\.py, reached by main~2\\)`,
    ),
    observations:
      /"absent":1,"blobs":\[\{"blob":"[0-9a-f]{40}","path":"config\/settings\.py","commit":"[0-9a-f]{40}","ref":"main~2"\}\]/,
  },
  {
    name: 'an absent blob no ref could be named for is named by its commit',
    seen: clean({ absent: [{ blob: absentBlob, commit, path: 'a.txt' }], refNamingError: 'Error: git name-rev died' }),
    status: 'error',
    expect: new RegExp(`\\(a\\.txt, reached by ${commit}\\)`),
    observations: /could not name the refs: Error: git name-rev died/,
  },
  {
    name: 'an archive no scan sees into is an error',
    seen: clean({ unjudged: [archive] }),
    status: 'error',
    expect: /1 blob not judged\. Not judged: vendor\/bundle\.zip \(a zip archive\)\./,
    observations:
      /not judged: a zip archive, 410 bytes, at vendor\/bundle\.zip @ [0-9a-f]{12}: no scan can see into it/,
  },
  {
    name: 'fewer blobs answered than were asked for: the history was not fully read',
    seen: clean({ totals: { ...totals, scannedBlobs: 4 } }),
    status: 'error',
    expect: /git cat-file answered 4 of 5 blobs the walk found: the history was not fully read/,
  },
  {
    name: 'a blob cat-file reported missing is counted, not lost',
    seen: clean({
      totals: { ...totals, scannedBlobs: 4, missingFromStore: 1 },
      absent: [{ blob: absentBlob, commit, path: 'gone.txt' }],
    }),
    status: 'error',
    expect: /1 absent blob not read/,
  },
  {
    name: 'a shallow clone',
    seen: clean({
      cutoffs: ['a shallow clone: the commits before its boundary were never fetched'],
      refs: undefined,
      totals: undefined,
    }),
    status: 'error',
    expect: /cannot judge the history of \/srv\/app: it is a shallow clone: .*fetch-depth: 0/,
  },
  {
    name: 'completeness could not be asked (not a repository)',
    seen: {
      ...clean({ cutoffs: undefined, refs: undefined, totals: undefined }),
      failure: { step: 'cutoffs', reason: 'Error: not a git repository' },
    },
    status: 'error',
    expect: /could not walk the git history of \/srv\/app \(checking it is complete\): Error: not a git repository/,
  },
  {
    name: 'refs could not be listed',
    seen: {
      ...clean({ refs: undefined, totals: undefined }),
      failure: { step: 'refs', reason: 'Error: for-each-ref' },
    },
    status: 'error',
    expect: /\(listing its refs\): Error: for-each-ref/,
  },
  {
    name: "a partial clone's objects could not be listed",
    seen: { ...clean({ totals: undefined }), failure: { step: 'partial-clone', reason: 'Error: cat-file' } },
    status: 'error',
    expect: /could not list the objects of a partial clone: Error: cat-file/,
  },
  {
    name: 'the walk failed',
    seen: { ...clean({ totals: undefined }), failure: { step: 'walk', reason: 'Error: git log died' } },
    status: 'error',
    expect: /could not walk the git history of \/srv\/app: Error: git log died/,
  },
  {
    name: 'reading blobs failed, even with findings seen so far',
    seen: {
      ...clean({ totals: undefined, findings: [stripeFinding] }),
      failure: { step: 'read', reason: 'Error: cat-file died' },
    },
    status: 'error',
    expect: /could not read blobs: Error: cat-file died/,
  },
  {
    name: "HEAD's files could not be listed",
    seen: { ...clean({ findings: [stripeFinding] }), failure: { step: 'head', reason: 'Error: ls-tree' } },
    status: 'error',
    expect: /could not list HEAD's files: Error: ls-tree/,
  },
]);

judgeTable('repo.history judge with a baseline', judge(accepting({ fingerprint, rule: 'stripe-key' })), [
  {
    name: 'a finding the baseline accepts, at every place, passes and stays in the evidence',
    seen: clean({ findings: [stripeFinding] }),
    status: 'pass',
    expect: /no open findings in 5 blobs and 3 commit messages of 3 commits across 2 refs \(1 baselined\)/,
    observations: /baselined: reviewed in the judge table \(stripe-key in config\/payments\.py:1/,
  },
  {
    name: 'an accepted finding does not excuse an absent blob',
    seen: clean({ findings: [stripeFinding], absent: [absent] }),
    status: 'error',
    expect: /1 absent blob not read \(1 baselined\)/,
  },
  {
    name: 'another secret is still open',
    seen: clean({ findings: [stripeFinding, { ...stripeFinding, fingerprint: hex(12) }] }),
    status: 'fail',
    expect: /^1 secret finding in git history \(1 baselined\)/,
  },
]);

judgeTable(
  'repo.history judge with a baseline narrowed to one path',
  judge(accepting({ fingerprint, rule: 'stripe-key', path: 'config/payments.py' })),
  [
    {
      name: 'the secret turned up somewhere the entry does not cover: open again',
      seen: clean({ findings: [stripeFinding] }),
      status: 'fail',
      expect: /^1 secret finding in git history, first: stripe-key in config\/payments\.py:1/,
      observations: /"baselined_occurrences":1/,
    },
    {
      name: 'an archive accepted by blob id under another entry is still open',
      seen: clean({ unjudged: [archive] }),
      status: 'error',
      expect: /1 blob not judged/,
    },
    {
      name: 'the one covered place',
      seen: clean({ findings: [{ ...stripeFinding, occurrences: stripeFinding.occurrences.slice(0, 1) }] }),
      status: 'pass',
      expect: /\(1 baselined\)/,
    },
  ],
);

judgeTable(
  'repo.history judge with an accepted archive and .env',
  judge([
    ...accepting({ fingerprint: archiveBlob, rule: 'unjudged-content' }),
    ...accepting({ fingerprint: envBlob.slice(0, 12), rule: 'env-file-committed' }),
  ]),
  [
    {
      name: 'a reviewed archive and a reviewed .env pass',
      seen: clean({ unjudged: [archive], paths: [{ path: '.env', blob: envBlob, commit }] }),
      status: 'pass',
      expect: /\(2 baselined\)$/,
    },
    {
      name: 'another archive is not judged',
      seen: clean({ unjudged: [archive, { ...archive, blob: hex(40), path: 'other.zip' }] }),
      status: 'error',
      expect: /cannot judge the whole history of \/srv\/app: 1 blob not judged \(1 baselined\)/,
    },
    {
      name: 'a secret beside them fails',
      seen: clean({ unjudged: [archive], findings: [stripeFinding] }),
      status: 'fail',
      expect: /1 secret finding in git history \(1 baselined\)/,
    },
  ],
);
