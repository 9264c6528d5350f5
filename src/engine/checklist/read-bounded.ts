import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * Reads at most `limit` bytes of a file: enough to tell it is too large
 * without holding all of it (or reading /dev/zero forever).
 */
export async function readAtMost(file: string, limit: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(limit);
    let length = 0;
    while (length < limit) {
      const { bytesRead } = await handle.read(buffer, length, limit - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

/** An inventory is a page of YAML like the checklist, read under the same bound. */
const MAX_INVENTORY_BYTES = 1024 * 1024;

/**
 * The inventory file a checklist names, read while the checklist is parsed
 * (parsing is synchronous, so this read is too: one small file), or why not.
 */
export function readInventoryBytes(file: string): { file: string; bytes: Buffer } | { file: string; error: string } {
  let descriptor: number;
  try {
    descriptor = openSync(file, 'r');
  } catch (error) {
    return { file, error: error instanceof Error && 'code' in error ? String(error.code) : 'unreadable' };
  }
  try {
    const buffer = Buffer.alloc(MAX_INVENTORY_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const bytesRead = readSync(descriptor, buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_INVENTORY_BYTES) return { file, error: 'larger than 1 MiB' };
    return { file, bytes: buffer.subarray(0, length) };
  } catch (error) {
    return { file, error: error instanceof Error && 'code' in error ? String(error.code) : 'unreadable' };
  } finally {
    closeSync(descriptor);
  }
}
