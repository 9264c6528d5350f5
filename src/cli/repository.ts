/**
 * How the evidence names what was verified, so that two runners produce the
 * same subjects for the same inputs: the repository by its remote's URL
 * (userinfo removed) and commit, the checklist by its path in the repository —
 * never a runner's absolute path or working directory.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { RepositoryIdentity } from '../evidence/statement.js';
import { gitOutput } from '../probes/git-output.js';

/** The subject name of a repository without any remote: the commit alone identifies it. */
export const NO_REMOTE_NAME = 'git:(no remote)';
/** The subject name of a checklist read from standard input. */
export const STDIN_CHECKLIST = '<stdin>';

/** One git answer, trimmed; undefined when git fails (a status too long for the buffer too: see below). */
async function git(repoDir: string, args: string[]): Promise<string | undefined> {
  const answer = await gitOutput(repoDir, args);
  return answer.ok ? answer.stdout.trim() : undefined;
}

export interface VerifiedRepository extends RepositoryIdentity {
  /** The work tree's top level, for naming the checklist relative to it. */
  topLevel: string;
}

/** The repository's identity, or undefined when it is not a readable git checkout. */
export async function identifyRepository(repoDir: string): Promise<VerifiedRepository | undefined> {
  const commit = await git(repoDir, ['rev-parse', '--verify', 'HEAD^{commit}']);
  const topLevel = await git(repoDir, ['rev-parse', '--show-toplevel']);
  if (!commit || !topLevel) return undefined;
  // Untracked files count: the repository checks scan the work tree, not only the commit.
  const status = await git(repoDir, ['status', '--porcelain']);
  const remotes = (await git(repoDir, ['remote']))?.split('\n').filter(Boolean) ?? [];
  const remote = remotes.includes('origin') ? 'origin' : remotes.sort()[0];
  const url = remote ? await git(repoDir, ['remote', 'get-url', remote]) : undefined;
  return {
    name: url ? remoteSubjectName(url) : NO_REMOTE_NAME,
    commit,
    // An unreadable status is reported as changed: the evidence must not claim a clean tree it did not see.
    uncommittedChanges: status === undefined || status.length > 0,
    topLevel,
  };
}

/**
 * A remote URL as a subject name: userinfo (a user name, a token, a password)
 * removed, so it never reaches signed evidence and two runners with different
 * credentials name the same repository alike. scp-style remotes
 * (`git@host:org/repo.git`) carry a user name only and stay as written.
 */
export function remoteSubjectName(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1');
  }
}

/**
 * The checklist's subject name: its path relative to the repository's top
 * level (forward slashes), else its file name; `<stdin>` when it was piped in.
 */
export async function checklistSubjectName(
  checklistFile: string | undefined,
  repository: VerifiedRepository | undefined,
): Promise<string> {
  if (checklistFile === undefined) return STDIN_CHECKLIST;
  return (await checklistRepositoryPath(checklistFile, repository)) ?? path.basename(checklistFile);
}

/** The checklist's path relative to the repository's top level (forward slashes), when it lies inside it. */
export async function checklistRepositoryPath(
  checklistFile: string | undefined,
  repository: VerifiedRepository | undefined,
): Promise<string | undefined> {
  if (checklistFile === undefined || !repository) return undefined;
  const [file, root] = await Promise.all([
    realpath(checklistFile).catch(() => checklistFile),
    realpath(repository.topLevel).catch(() => repository.topLevel),
  ]);
  const relative = path.relative(root, file);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  return relative.split(path.sep).join('/');
}
