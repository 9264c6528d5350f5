/**
 * Bench (not a test): the reference service under rejected logins.
 *
 *   1. credential stuffing from one address, default policy: rejected logins
 *      per second and p99 at 50 connections, then the rows — exactly one
 *      ip_blocks row, created by the 11th counted failure, one failure row per
 *      request;
 *   2. wrong passwords against one account at 50 connections (IP block out of
 *      the way): throughput of the scrypt-bound path, then exactly 5
 *      bad_password rows before the lock and locked_account after it;
 *   3. median latency of unknown-user vs wrong-password logins, one
 *      connection, interleaved (must be within 10 %).
 *
 * Build and run (Node 20 runs no TypeScript, so the bench is compiled first):
 *
 *   npx tsc --outDir dist/bench-service --rootDir . --module NodeNext --moduleResolution NodeNext \
 *     --target ES2022 --lib ES2023 --types node --strict --skipLibCheck --esModuleInterop \
 *     bench/service-login.ts bench/service-autocannon.d.ts
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node dist/bench-service/bench/service-login.js
 *
 * Without DATABASE_URL each scenario runs on an embedded PostgreSQL.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type AutocannonResult } from 'autocannon';
import { Agent, request } from 'undici';
import type { ReferenceServiceOptions } from '../src/service/index.js';
import { queryService, type ReferenceTarget, startReferenceTarget } from '../test/support/reference-service.js';

const CONNECTIONS = 50;
const DURATION_SECONDS = Number(process.env.BENCH_DURATION ?? 10);
const TIMING_SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
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
  let index = 0;
  return autocannon({
    url: `${target.service.httpsUrl}/api/v1/auth/login`,
    connections: CONNECTIONS,
    duration: DURATION_SECONDS,
    timeout: 30,
    tlsOptions: { ca: target.service.caPem },
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
      `Rows afterwards: ip_blocks rows for 127.0.0.1 = **${block?.count}** (expected 1); counted failures up to the block = **${block?.before}** (expected 11); failure rows = ${events?.total} for ${answered} answered requests (${events?.blocked} of them blocked_ip).`,
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
  const sections = [...(await stuffing()), ...(await passwordPath())];
  const timed = await timing();
  const report = [
    '# Reference service: rejected logins',
    '',
    `Produced by \`${usesServer ? '(with DATABASE_URL set) ' : ''}node dist/bench-service/bench/service-login.js\` on ${startedAt} (build command in \`bench/service-login.ts\`).`,
    '',
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, ${os.platform()} ${os.release()}, Node ${process.version}; PostgreSQL: ${usesServer ? 'the server named by the environment' : 'embedded'}. Load average at start: ${loadAverage} (shared machine: other test suites were running).`,
    'Client and service share the machine, so the numbers are a floor, not a capacity estimate.',
    '',
    ...sections,
    ...timed.lines,
  ].join('\n');
  await mkdir(path.dirname(RESULTS), { recursive: true });
  await writeFile(RESULTS, `${report}\n`);
  process.stdout.write(`${report}\n\nwritten to ${RESULTS}\n`);
  if (!timed.withinTenPercent) process.exitCode = 1;
}

await main();
