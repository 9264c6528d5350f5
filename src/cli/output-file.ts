/**
 * Files the CLI writes (evidence, reports, pages). Directories are created one
 * level at a time: Node's recursive mkdir never returns on some pseudo file
 * systems (`--out /proc/x/evidence.json` spins forever), and a path that cannot
 * hold a file must be an error now, not a hang.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Creates the missing directories above `file`, each with a plain mkdir, so any refusal is an error. */
export async function makeParentDirectories(file: string): Promise<void> {
  const missing: string[] = [];
  let current = path.dirname(path.resolve(file));
  while (!(await exists(current))) {
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const directory of missing) {
    // Another writer (a target of the same fleet run) may have made it meanwhile: that is no refusal.
    await mkdir(directory).catch(async (error: unknown) => {
      if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST' && (await isDirectory(directory)))) {
        throw error;
      }
    });
  }
}

async function isDirectory(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isDirectory() === true;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Proves `file` can be written before anything is probed, without leaving
 * anything behind: an existing file is opened for writing (not truncated,
 * never blocking on a FIFO without a reader); a new one is tried as a
 * scratch file next to it, which is removed again. Access bits alone would
 * not do: as root they allow anything, even where nothing can be created.
 */
export async function proveWritable(file: string): Promise<void> {
  await makeParentDirectories(file);
  const existing = await stat(file).catch(() => undefined);
  if (existing?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  if (existing) {
    const handle = await open(file, constants.O_WRONLY | constants.O_NONBLOCK);
    await handle.close();
    return;
  }
  const scratch = path.join(path.dirname(file), `.secgate-write-test-${randomBytes(6).toString('hex')}`);
  const handle = await open(scratch, 'wx');
  await handle.close();
  await unlink(scratch);
}

/** Writes an output file; false when it could not be written (the caller says so). */
export async function writeOutputFile(file: string, content: string): Promise<boolean> {
  try {
    await makeParentDirectories(file);
    await writeFile(file, content);
    return true;
  } catch {
    return false;
  }
}
