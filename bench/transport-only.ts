/**
 * Bench experiment (issue 21, item 14, fourth pass): the cost of moving a history's blobs out of git and
 * into this process, with nothing scanned. It runs repo.history's own reader (`readBlobs`: one
 * `git cat-file --batch` writing into a Unix socket, parsed blob by blob) over a blob list and drops every
 * blob, so the time and CPU it prints are the floor of any scan built on that reader. The blob list is the
 * walk's, made as in bench/pack-read.ts's header:
 *
 *   git -C REPO log --all --raw --no-abbrev --no-renames --diff-merges=first-parent -z --format=%H \
 *     | tr '\0' '\n' | awk '/^:/ { print $4 }' | grep -v '^0\{40\}$' | awk '!seen[$0]++' > /tmp/blobs.txt
 *   npx tsc -p tsconfig.bench.json && /usr/bin/time -f '%e s wall, %U user, %S sys' \
 *     node dist/bench/transport-only.js REPO /tmp/blobs.txt [socket|fifo|pipe]
 *
 * Prints one JSON line: wall seconds inside the process, this process's CPU (user and system) and the bytes
 * read; `/usr/bin/time` adds git's CPU (it counts waited-for children). Not used by secgate.
 */
import { readFileSync } from 'node:fs';
import { type BlobTransport, readBlobs } from '../src/probes/git-history.js';

const [repo, blobList, transportArgument] = process.argv.slice(2);
if (repo === undefined || blobList === undefined) {
  process.stderr.write('usage: node dist/bench/transport-only.js REPO BLOB_LIST [socket|fifo|pipe]\n');
  process.exit(2);
}
const transports: readonly BlobTransport[] = ['socket', 'fifo', 'pipe'];
const transport = transports.find((candidate) => candidate === (transportArgument ?? 'socket'));
if (transport === undefined) {
  process.stderr.write(`unknown transport ${transportArgument}: socket, fifo or pipe\n`);
  process.exit(2);
}
const ids = readFileSync(blobList, 'utf8').split('\n').filter(Boolean);
const started = performance.now();
const read = await readBlobs(repo, ids, { maxBlobBytes: 8 * 1024 * 1024, transport }, () => {});
const cpu = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({
    transport: read.transport,
    seconds: (performance.now() - started) / 1000,
    userSeconds: cpu.user / 1e6,
    systemSeconds: cpu.system / 1e6,
    blobs: read.blobs,
    bytes: read.bytes,
  })}\n`,
);
