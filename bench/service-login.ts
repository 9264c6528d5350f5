/**
 * Bench (not a test): the reference service under rejected logins.
 *
 *   1. credential stuffing from one address, default policy: rejected logins
 *      per second and p99 at 50 connections, then the rows — exactly one
 *      ip_blocks row, written by the attempt after the 10th counted failure,
 *      one failure row per request;
 *   2. wrong passwords against one account at 50 connections (IP block out of
 *      the way): throughput of the scrypt-bound path, then exactly 5
 *      bad_password rows before the lock and locked_account after it;
 *   3. median latency of unknown-user vs wrong-password logins, one
 *      connection, interleaved (must be within 10 %);
 *   4. refusals of a blocked address at 50 connections, beside an empty
 *      Fastify route with the same TLS settings, in the same run, alternated
 *      (A B A B) so both see the same machine load: the goal is 2,000
 *      refusals/s, reported as a ratio to the empty route, with exact
 *      counters (one blocked_ip row per 403, no login row, no other status).
 *
 * Build and run (Node 20 runs no TypeScript, so the bench is compiled first):
 *
 *   npx tsc --outDir dist/bench-service --rootDir . --module NodeNext --moduleResolution NodeNext \
 *     --target ES2022 --lib ES2023 --types node --strict --skipLibCheck --esModuleInterop \
 *     bench/service-login.ts bench/service-autocannon.d.ts
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node dist/bench-service/bench/service-login.js
 *
 * Without DATABASE_URL each scenario runs on an embedded PostgreSQL.
 * BENCH_ONLY=refusals runs scenario 4 alone and prints it without recording it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type AutocannonResult } from 'autocannon';
import Fastify from 'fastify';
import { Agent, request } from 'undici';
import { TLS_CIPHERS } from '../src/service/app.js';
import type { ReferenceServiceOptions } from '../src/service/index.js';
import { ensureServerCredentials } from '../src/service/pki.js';
import { queryService, type ReferenceTarget, startReferenceTarget } from '../test/support/reference-service.js';

const CONNECTIONS = 50;
const DURATION_SECONDS = Number(process.env.BENCH_DURATION ?? 10);
const TIMING_SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
/** Requests per refusal run: a fixed number, so every request is answered and counted. */
const REFUSAL_REQUESTS = Number(process.env.BENCH_REFUSALS ?? 10_000);
/** Alternating pairs of runs (empty route, then blocked address): the machine is shared, its load drifts. */
const REFUSAL_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RESULTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bench/results/service-login.md');

async function withTarget<T>(
  options: ReferenceServiceOptions,
  work: (target: ReferenceTarget) => Promise<T>,
): Promise<T> {
  const target = await startReferenceTarget(options);
  try {
    return await work(target);
  } finally {
    await target.close();
  }
}

function load(target: ReferenceTarget, body: (index: number) => object): Promise<AutocannonResult> {
  return loadUrl(`${target.service.httpsUrl}/api/v1/auth/login`, target.service.caPem, body);
}

function loadUrl(url: string, caPem: string | undefined, body: (index: number) => object): Promise<AutocannonResult> {
  let index = 0;
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_SECONDS,
    timeout: 30,
    tlsOptions: { ca: caPem },
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (outgoing) => {
          index += 1;
          return { ...outgoing, body: JSON.stringify(body(index)) };
        },
      },
    ],
  });
}

/**
 * Exactly `amount` identical requests, every one answered (exact counters), sent from a worker
 * thread so that the client does not share the service's event loop.
 */
function loadFixed(url: string, caPem: string | undefined, body: object, amount: number): Promise<AutocannonResult> {
  return autocannon({
    url,
    connections: CONNECTIONS,
    amount,
    workers: 1,
    timeout: 30,
    tlsOptions: { ca: caPem },
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function statusSummary(result: AutocannonResult): string {
  return Object.entries(result.statusCodeStats)
    .map(([status, { count }]) => `${status}×${count}`)
    .join(', ');
}

function rejectedPerSecond(result: AutocannonResult): number {
  const rejected = Object.entries(result.statusCodeStats)
    .filter(([status]) => status === '401' || status === '403')
    .reduce((sum, [, { count }]) => sum + count, 0);
  return rejected / (result.duration || DURATION_SECONDS);
}

async function stuffing(): Promise<string[]> {
  return withTarget({}, async (target) => {
    const result = await load(target, (index) => ({ username: `stuffed-${index}`, password: 'Summer2026!' }));
    const [block] = await queryService<{ count: number; before: number }>(
      target,
      `SELECT (SELECT count(*)::int FROM ip_blocks WHERE ip_address = '127.0.0.1') AS count,
              (SELECT count(*)::int FROM auth_failure_events
                WHERE event_type <> 'blocked_ip'
                  AND created_at <= (SELECT min(blocked_at) FROM ip_blocks WHERE ip_address = '127.0.0.1')) AS before`,
    );
    const [events] = await queryService<{ total: number; blocked: number }>(
      target,
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE event_type = 'blocked_ip')::int AS blocked FROM auth_failure_events`,
    );
    const answered = Object.values(result.statusCodeStats).reduce((sum, { count }) => sum + count, 0);
    return [
      '## 1. Credential stuffing from one address (default policy: block above 10 failures)',
      '',
      `Unknown usernames, one per request, ${CONNECTIONS} connections, ${DURATION_SECONDS} s, all from 127.0.0.1.`,
      '',
      '| rejected logins/s | p50 ms | p99 ms | max ms | statuses | errors | timeouts |',
      '|---:|---:|---:|---:|---|---:|---:|',
      `| ${rejectedPerSecond(result).toFixed(0)} | ${result.latency.p50} | ${result.latency.p99} | ${result.latency.max} | ${statusSummary(result)} | ${result.errors} | ${result.timeouts} |`,
      '',
      `Rows afterwards: ip_blocks rows for 127.0.0.1 = **${block?.count}** (expected 1); counted failures up to the block = **${block?.before}** (expected 10: the 11th attempt is refused and writes the block); failure rows = ${events?.total} for ${answered} answered requests (${events?.blocked} of them blocked_ip).`,
      '',
    ];
  });
}

async function passwordPath(): Promise<string[]> {
  return withTarget({ ipBlockThreshold: 1_000_000_000 }, async (target) => {
    const username = target.context.auth.probe_account.username;
    const result = await load(target, () => ({ username, password: 'wrong-password-guess' }));
    const events = await queryService<{ event_type: string; count: number }>(
      target,
      `SELECT event_type, count(*)::int AS count FROM auth_failure_events WHERE username = $1 GROUP BY 1 ORDER BY 1`,
      [username],
    );
    const [user] = await queryService<{ failed_login_count: number; locked: boolean }>(
      target,
      'SELECT failed_login_count, locked_until > now() AS locked FROM users WHERE username = $1',
      [username],
    );
    return [
      '## 2. Wrong passwords against one account (IP block disabled for this run)',
      '',
      `\`${username}\`, ${CONNECTIONS} connections, ${DURATION_SECONDS} s. Every request hashes (scrypt N=2^14, r=8, p=1), locked or not.`,
      '',
      '| rejected logins/s | p50 ms | p99 ms | max ms | statuses | errors | timeouts |',
      '|---:|---:|---:|---:|---|---:|---:|',
      `| ${rejectedPerSecond(result).toFixed(0)} | ${result.latency.p50} | ${result.latency.p99} | ${result.latency.max} | ${statusSummary(result)} | ${result.errors} | ${result.timeouts} |`,
      '',
      `Rows afterwards: ${events.map((row) => `${row.event_type} = **${row.count}**`).join(', ')} (expected bad_password = 5, the rest locked_account); account failed_login_count = ${user?.failed_login_count}, locked = ${user?.locked}.`,
      '',
    ];
  });
}

function answered(result: AutocannonResult): number {
  return Object.values(result.statusCodeStats).reduce((sum, { count }) => sum + count, 0);
}

/** An HTTPS Fastify server with the reference service's TLS settings and one route that does nothing. */
async function emptyRoute<T>(work: (url: string, caPem: string) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'secgate-bench-empty-'));
  const credentials = await ensureServerCredentials({ dataDir });
  const app = Fastify({
    https: {
      key: credentials.keyPem,
      cert: credentials.certPem,
      minVersion: 'TLSv1.2',
      ciphers: TLS_CIPHERS,
      honorCipherOrder: true,
    },
    logger: false,
  });
  app.post('/api/v1/auth/login', async () => ({}));
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('the empty route has no port');
    return await work(`https://127.0.0.1:${address.port}/api/v1/auth/login`, credentials.caPem);
  } finally {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

interface RefusalRound {
  empty: AutocannonResult;
  refused: AutocannonResult;
}

async function refusals(): Promise<{ lines: string[]; exact: boolean }> {
  return withTarget({}, async (target) =>
    emptyRoute(async (emptyUrl, emptyCa) => {
      // The bench client connects from 127.0.0.1: block it as an operator (or a past attack) would have.
      await queryService(
        target,
        `INSERT INTO ip_blocks (ip_address, reason, expires_at) VALUES ('127.0.0.1', 'bench', now() + interval '1 hour')`,
      );
      const body = { username: 'stuffed-user', password: 'Summer2026!' };
      const rounds: RefusalRound[] = [];
      for (let round = 0; round < REFUSAL_ROUNDS; round += 1) {
        const empty = await loadFixed(emptyUrl, emptyCa, body, REFUSAL_REQUESTS);
        const refused = await loadFixed(
          `${target.service.httpsUrl}/api/v1/auth/login`,
          target.service.caPem,
          body,
          REFUSAL_REQUESTS,
        );
        rounds.push({ empty, refused });
      }
      const [rows] = await queryService<{ blocked: number; other: number }>(
        target,
        `SELECT count(*) FILTER (WHERE event_type = 'blocked_ip')::int AS blocked,
                count(*) FILTER (WHERE event_type <> 'blocked_ip')::int AS other
           FROM auth_failure_events WHERE ip_address = '127.0.0.1'`,
      );
      const refusedTotal = rounds.reduce((sum, { refused }) => sum + (refused.statusCodeStats['403']?.count ?? 0), 0);
      const answeredTotal = rounds.reduce((sum, { refused }) => sum + answered(refused), 0);
      const sent = rounds.length * REFUSAL_REQUESTS;
      const exact = rows?.blocked === sent && rows?.other === 0 && answeredTotal === sent && refusedTotal === sent;
      const perSecond = (result: AutocannonResult) => answered(result) / result.duration;
      const refusedRates = rounds.map(({ refused }) => perSecond(refused));
      const ratios = rounds.map(({ empty, refused }) => perSecond(refused) / perSecond(empty));
      const medianRate = median(refusedRates);
      const medianRatio = median(ratios);
      return {
        exact,
        lines: [
          '## 4. Refusals of a blocked address, beside an empty Fastify route',
          '',
          `127.0.0.1 is blocked (an ip_blocks row); ${CONNECTIONS} connections, ${REFUSAL_REQUESTS} requests per run, the same POST ${'`/api/v1/auth/login`'} with a JSON body to both servers, from an autocannon worker thread. The empty route is a bare Fastify HTTPS server with the reference service's TLS settings whose handler returns \`{}\`. Runs alternate, empty then blocked, ${REFUSAL_ROUNDS} times, so both see the same load; each pair's ratio is computed within the pair.`,
          '',
          '| run | server | requests/s | p50 ms | p99 ms | max ms | statuses | errors | timeouts |',
          '|---:|---|---:|---:|---:|---:|---|---:|---:|',
          ...rounds.flatMap(({ empty, refused }, round) => [
            `| ${round + 1} | empty Fastify route | ${perSecond(empty).toFixed(0)} | ${empty.latency.p50} | ${empty.latency.p99} | ${empty.latency.max} | ${statusSummary(empty)} | ${empty.errors} | ${empty.timeouts} |`,
            `| ${round + 1} | reference service, blocked address | ${perSecond(refused).toFixed(0)} | ${refused.latency.p50} | ${refused.latency.p99} | ${refused.latency.max} | ${statusSummary(refused)} | ${refused.errors} | ${refused.timeouts} |`,
          ]),
          '',
          `Refusals per second ÷ empty route per second, per pair: ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')}; **median ${medianRatio.toFixed(2)}**. Refusals per second: ${refusedRates.map((rate) => rate.toFixed(0)).join(', ')}; **median ${medianRate.toFixed(0)}/s**, best ${Math.max(...refusedRates).toFixed(0)}/s (goal 2,000/s): ${medianRate >= 2_000 ? 'met' : 'not met'} at this load; the empty route's own median is ${median(rounds.map(({ empty }) => perSecond(empty))).toFixed(0)}/s.`,
          '',
          `Counters: ${sent} requests sent to the blocked address, ${answeredTotal} answered, ${refusedTotal} of them 403; blocked_ip rows for 127.0.0.1 = **${rows?.blocked}**, other rows for it = **${rows?.other}**: ${exact ? 'exact (one row per refusal, no auth work)' : 'NOT EXACT'}.`,
          '',
        ],
      };
    }),
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function timing(): Promise<{ lines: string[]; withinTenPercent: boolean }> {
  return withTarget({ ipBlockThreshold: 1_000_000_000, lockoutThreshold: 1_000_000_000 }, async (target) => {
    const agent = new Agent({ connect: { ca: target.service.caPem }, connections: 1 });
    const username = target.context.auth.probe_account.username;
    const time = async (body: object) => {
      const started = performance.now();
      const response = await request(`${target.service.httpsUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        dispatcher: agent,
      });
      await response.body.text();
      if (response.statusCode !== 401) throw new Error(`expected 401, got ${response.statusCode}`);
      return performance.now() - started;
    };
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let sample = -20; sample < TIMING_SAMPLES; sample += 1) {
      // Interleaved, so drift in machine load hits both series alike; the first 20 pairs warm up.
      const first = sample % 2 === 0;
      const a = await time(
        first ? { username: `ghost-${sample}`, password: 'guess-1' } : { username, password: 'guess-1' },
      );
      const b = await time(
        first ? { username, password: 'guess-2' } : { username: `ghost-${sample}`, password: 'guess-2' },
      );
      if (sample < 0) continue;
      unknown.push(first ? a : b);
      wrong.push(first ? b : a);
    }
    await agent.close();
    const unknownMedian = median(unknown);
    const wrongMedian = median(wrong);
    const difference = Math.abs(unknownMedian - wrongMedian) / Math.max(unknownMedian, wrongMedian);
    return {
      withinTenPercent: difference <= 0.1,
      lines: [
        '## 3. Unknown user vs wrong password (enumeration by timing)',
        '',
        `${TIMING_SAMPLES} interleaved pairs over one connection after 20 warm-up pairs; lockout and IP block disabled so every request takes the full path.`,
        '',
        '| login | median ms | min ms | max ms |',
        '|---|---:|---:|---:|',
        `| unknown user | ${unknownMedian.toFixed(2)} | ${Math.min(...unknown).toFixed(2)} | ${Math.max(...unknown).toFixed(2)} |`,
        `| wrong password | ${wrongMedian.toFixed(2)} | ${Math.min(...wrong).toFixed(2)} | ${Math.max(...wrong).toFixed(2)} |`,
        '',
        `Difference of medians: **${(difference * 100).toFixed(1)} %** (limit 10 %): ${difference <= 0.1 ? 'within' : 'OUTSIDE'} the limit.`,
        '',
      ],
    };
  });
}

async function main(): Promise<void> {
  const usesServer = Boolean(process.env.DATABASE_URL);
  const startedAt = new Date().toISOString();
  const loadAverage = os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(', ');
  const only = process.env.BENCH_ONLY;
  const refused = await refusals();
  const sections = only === 'refusals' ? [] : [...(await stuffing()), ...(await passwordPath())];
  const timed = only === 'refusals' ? { lines: [], withinTenPercent: true } : await timing();
  const loadAfter = os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(', ');
  const report = [
    '# Reference service: rejected logins',
    '',
    `Produced by \`${usesServer ? '(with DATABASE_URL set) ' : ''}node dist/bench-service/bench/service-login.js\` on ${startedAt} (build command in \`bench/service-login.ts\`).`,
    '',
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, ${os.platform()} ${os.release()}, Node ${process.version}; PostgreSQL: ${usesServer ? 'the server named by the environment' : 'embedded'}. Load average (1, 5, 15 min) at start: ${loadAverage}; at the end: ${loadAfter} (a shared machine: other engineers' test suites run beside the bench, so compare ratios, not absolute rates).`,
    'Client and service share the machine, so the numbers are a floor, not a capacity estimate.',
    '',
    ...refused.lines,
    ...sections,
    ...timed.lines,
  ].join('\n');
  if (only) {
    // A partial run is for iterating on one scenario: it never replaces the recorded results.
    process.stdout.write(`${report}\n\n(BENCH_ONLY=${only}: results not written)\n`);
  } else {
    await mkdir(path.dirname(RESULTS), { recursive: true });
    await writeFile(RESULTS, `${report}\n`);
    process.stdout.write(`${report}\n\nwritten to ${RESULTS}\n`);
  }
  // Rates depend on the shared machine's load; exactness and the timing bound do not.
  if (!timed.withinTenPercent || !refused.exact) process.exitCode = 1;
}

await main();
