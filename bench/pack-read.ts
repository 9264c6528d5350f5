/**
 * Bench experiment (issue 21, item 14): how fast can this process read every blob of a history with no git
 * process at all — straight from the pack files (index v2, OFS/REF deltas, node's zlib) — against git's own
 * read of the same blobs. It answers whether reading the packs in-process could bring repo.history under
 * 1.5× `git cat-file --batch-all-objects --batch --unordered`; it is not used by secgate.
 *
 *   git -C REPO log --all --raw --no-abbrev --no-renames --diff-merges=first-parent -z --format=%H \
 *     | tr '\0' '\n' | awk '/^:/ { print $4 }' | grep -v '^0\{40\}$' | awk '!seen[$0]++' > /tmp/blobs.txt
 *   npx tsc -p tsconfig.bench.json && node dist/bench/pack-read.js REPO /tmp/blobs.txt [--verify]
 *
 * Prints one JSON line: time to load the indexes, time to read every listed object that is in a pack, bytes,
 * objects inflated and deltas applied, and with `--verify` how many objects do not hash to their id (a blob
 * list from a walk also names submodule commits, which are not blobs: expect those few).
 * Limits of the experiment: one or more packs with index v2 and SHA-1 ids, read whole into memory; no loose
 * objects, alternates or SHA-256 repositories.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';

interface Pack {
  name: string;
  data: Buffer;
  /** Each entry's end: the next entry's offset (or the pack's trailer). */
  ends: Map<number, number>;
}

interface PackIndex {
  where: Map<string, { pack: Pack; offset: number }>;
}

const OBJ_OFS_DELTA = 6;
const OBJ_REF_DELTA = 7;

function openPacks(gitDir: string): PackIndex {
  const packDir = path.join(gitDir, 'objects', 'pack');
  const where = new Map<string, { pack: Pack; offset: number }>();
  for (const name of readdirSync(packDir).filter((file) => file.endsWith('.idx'))) {
    const index = readFileSync(path.join(packDir, name));
    if (index.readUInt32BE(0) !== 0xff744f63 || index.readUInt32BE(4) !== 2) throw new Error(`${name}: not index v2`);
    const count = index.readUInt32BE(8 + 255 * 4);
    const idStart = 8 + 256 * 4;
    const offsetStart = idStart + count * 24; // ids (20 bytes each), then CRCs (4 each)
    const largeStart = offsetStart + count * 4;
    const data = readFileSync(path.join(packDir, name.replace(/\.idx$/, '.pack')));
    const pack: Pack = { name, data, ends: new Map() };
    const offsets: number[] = [];
    for (let entry = 0; entry < count; entry++) {
      let offset = index.readUInt32BE(offsetStart + entry * 4);
      if (offset & 0x80000000) offset = Number(index.readBigUInt64BE(largeStart + (offset & 0x7fffffff) * 8));
      where.set(index.toString('hex', idStart + entry * 20, idStart + entry * 20 + 20), { pack, offset });
      offsets.push(offset);
    }
    offsets.sort((a, b) => a - b);
    offsets.forEach((offset, at) => {
      pack.ends.set(offset, offsets[at + 1] ?? data.length - 20);
    });
  }
  return { where };
}

/** A pack entry's type, inflated size and where its data starts. */
function entryHeader(data: Buffer, offset: number): { type: number; at: number } {
  let at = offset;
  let byte = data[at++] ?? 0;
  const type = (byte >> 4) & 7;
  while (byte & 0x80) byte = data[at++] ?? 0;
  return { type, at };
}

function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = delta[at++] ?? 0;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  if (varint() !== base.length) throw new Error('delta base size mismatch');
  const out = Buffer.allocUnsafe(varint());
  let written = 0;
  while (at < delta.length) {
    const op = delta[at++] ?? 0;
    if (op & 0x80) {
      let from = 0;
      let size = 0;
      for (let bit = 0; bit < 4; bit++) if (op & (1 << bit)) from += (delta[at++] ?? 0) * 2 ** (8 * bit);
      for (let bit = 0; bit < 3; bit++) if (op & (16 << bit)) size += (delta[at++] ?? 0) << (8 * bit);
      written += base.copy(out, written, from, from + (size || 0x10000));
    } else if (op > 0) {
      written += delta.copy(out, written, at, at + op);
      at += op;
    } else throw new Error('delta opcode 0');
  }
  if (written !== out.length) throw new Error('delta result size mismatch');
  return out;
}

function reader(index: PackIndex, cacheBytes = 64 * 1024 * 1024) {
  const cache = new Map<string, Buffer>();
  let cached = 0;
  const stats = { inflated: 0, deltas: 0 };
  // Keyed by place, not by id: an OFS_DELTA names its base by offset alone.
  const readAt = (pack: Pack, offset: number): Buffer => {
    const key = `${pack.name}:${offset}`;
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const { type, at: dataStart } = entryHeader(pack.data, offset);
    let at = dataStart;
    let base: Buffer | undefined;
    if (type === OBJ_OFS_DELTA) {
      let byte = pack.data[at++] ?? 0;
      let distance = byte & 0x7f;
      while (byte & 0x80) {
        byte = pack.data[at++] ?? 0;
        distance = (distance + 1) * 128 + (byte & 0x7f);
      }
      base = readAt(pack, offset - distance);
    } else if (type === OBJ_REF_DELTA) {
      const baseId = pack.data.toString('hex', at, at + 20);
      at += 20;
      const place = index.where.get(baseId);
      if (!place) throw new Error(`delta base ${baseId} is not in a pack`);
      base = readAt(place.pack, place.offset);
    }
    const inflated = inflateSync(pack.data.subarray(at, pack.ends.get(offset)));
    stats.inflated++;
    const content = base ? applyDelta(base, inflated) : inflated;
    if (base) stats.deltas++;
    cache.set(key, content);
    cached += content.length;
    for (const [oldest, value] of cache) {
      if (cached <= cacheBytes) break;
      cache.delete(oldest);
      cached -= value.length;
    }
    return content;
  };
  return {
    stats,
    read: (id: string): Buffer | undefined => {
      const place = index.where.get(id);
      return place ? readAt(place.pack, place.offset) : undefined;
    },
  };
}

function main(): void {
  const [gitDir, listFile, flag] = process.argv.slice(2);
  if (!gitDir || !listFile) throw new Error('usage: pack-read.js GIT_DIR BLOB_LIST [--verify]');
  const started = performance.now();
  const index = openPacks(gitDir);
  const indexed = performance.now();
  const objects = reader(index);
  let bytes = 0;
  let mismatched = 0;
  for (const id of readFileSync(listFile, 'utf8').split('\n').filter(Boolean)) {
    const content = objects.read(id);
    if (!content) continue;
    bytes += content.length;
    if (flag === '--verify') {
      const hashed = createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
      if (hashed !== id) mismatched++;
    }
  }
  const finished = performance.now();
  const cpu = process.cpuUsage();
  process.stdout.write(
    `${JSON.stringify({
      indexMs: Math.round(indexed - started),
      readMs: Math.round(finished - indexed),
      bytes,
      ...objects.stats,
      ...(flag === '--verify' ? { mismatched } : {}),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    })}\n`,
  );
}

main();
