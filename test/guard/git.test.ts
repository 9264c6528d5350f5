import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allChecks } from '../../checks/index.js';
import {
  BaselineError,
  compareChecklists,
  parseComparableChecklist,
  readChecklistAtRef,
} from '../../src/guard/index.js';

const BASE = `version: 1
target: { url: https://localhost:8443 }
checks:
  - check: auth.lockout
    with: { attempts: 5 }
  - check: tls.protocols
`;
const HEAD = `version: 1
target: { url: https://localhost:8443 }
checks:
  - check: auth.lockout
    with: { attempts: 20 }
`;

let repo: string;

async function git(...args: string[]): Promise<string> {
  const env = {
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@example.invalid',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@example.invalid',
  };
  return (await execa('git', args, { cwd: repo, env })).stdout;
}

beforeAll(async () => {
  repo = await mkdtemp(path.join(os.tmpdir(), 'secgate-baseline-'));
  await git('init', '--quiet', '--initial-branch=main');
  await writeFile(path.join(repo, 'README'), 'no checklist yet\n');
  await git('add', 'README');
  await git('commit', '--quiet', '-m', 'before the checklist');
  await git('tag', 'before-checklist');
  await writeFile(path.join(repo, 'checklist.yaml'), BASE);
  await git('add', 'checklist.yaml');
  await git('commit', '--quiet', '-m', 'gate');
  await git('checkout', '--quiet', '-b', 'feature');
  await writeFile(path.join(repo, 'checklist.yaml'), HEAD);
});

afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

describe('readChecklistAtRef', () => {
  it('reads the checklist as committed on the base ref, with its digest, and the comparison sees the weakening', async () => {
    const baseline = await readChecklistAtRef(repo, 'main', 'checklist.yaml');
    expect(baseline?.text).toBe(BASE);
    expect(baseline?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(baseline?.commit).toBe((await git('rev-parse', 'main')).trim());
    const comparison = compareChecklists(
      parseComparableChecklist(baseline?.text ?? '', 'base'),
      parseComparableChecklist(HEAD, 'head'),
      { registry: allChecks },
    );
    expect(comparison.weakenings.map((change) => change.message)).toEqual([
      "auth.lockout: 'attempts' loosened from 5 to 20",
      'tls.protocols: check tls.protocols removed from the checklist',
    ]);
  });

  it('accepts an absolute checklist path inside the repository', async () => {
    expect((await readChecklistAtRef(repo, 'main', path.join(repo, 'checklist.yaml')))?.text).toBe(BASE);
  });

  it('returns undefined when the ref predates the checklist (nothing to weaken)', async () => {
    expect(await readChecklistAtRef(repo, 'before-checklist', 'checklist.yaml')).toBeUndefined();
  });

  it('names an unknown ref and says how to fetch it', async () => {
    await expect(readChecklistAtRef(repo, 'origin/main', 'checklist.yaml')).rejects.toThrow(
      /--baseline-ref 'origin\/main' does not name a commit .*git fetch origin main/,
    );
  });

  it('refuses refs that would be read as options or paths', async () => {
    await expect(readChecklistAtRef(repo, '--output=/tmp/x', 'checklist.yaml')).rejects.toBeInstanceOf(BaselineError);
    await expect(readChecklistAtRef(repo, 'main:checklist.yaml', 'checklist.yaml')).rejects.toThrow(/is not a git ref/);
  });

  it('says when the directory is not a git repository', async () => {
    const plain = await mkdtemp(path.join(os.tmpdir(), 'secgate-baseline-plain-'));
    try {
      await expect(readChecklistAtRef(plain, 'main', 'checklist.yaml')).rejects.toThrow(/is not a git repository/);
    } finally {
      await rm(plain, { recursive: true, force: true });
    }
  });
});
