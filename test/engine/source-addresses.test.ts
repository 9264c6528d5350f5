/**
 * The gate must not trip over itself: its failure-provoking probes spread over
 * a pool of source addresses, each below the service's IP-block threshold, and
 * an address the service already blocks is an error that names it — never a
 * failure of an unrelated control.
 */
import { describe, expect, it } from 'vitest';
import { startHttpFixture } from '../../fixtures/http/servers.js';
import { expandAddresses } from '../../src/engine/addresses.js';
import type { CheckResult } from '../../src/engine/run.js';
import { pickAddress, poolAddresses } from '../../src/engine/source-addresses.js';
import { plannedEntry, runEntries } from '../support/engine-run.js';

const describeResults = (results: CheckResult[]) =>
  results.map((result) => `${result.entry.id}: ${result.status} — ${result.outcome.summary}`).join('\n');

/** Every HTTP check whose probes a strict service counts as failures. */
const HTTP_CHECKS = ['http.auth-required', 'http.headers', 'http.docs-disabled', 'http.cors', 'http.strict-input'];

describe('source-address entries', () => {
  it('expand addresses and IPv4 blocks, in order', () => {
    expect(expandAddresses('10.20.0.201')).toEqual(['10.20.0.201']);
    expect(expandAddresses('::1')).toEqual(['::1']);
    expect(expandAddresses('10.20.0.5/30')).toEqual(['10.20.0.4', '10.20.0.5', '10.20.0.6', '10.20.0.7']);
    const block = expandAddresses('127.0.0.128/25');
    expect([block.length, block[0], block.at(-1)]).toEqual([128, '127.0.0.128', '127.0.0.255']);
  });
  it.each([
    ['not-an-address', /is not an IP address/],
    ['10.0.0.0/8', /holds more than 4096 addresses/],
    ['10.0.0.0/33', /invalid prefix/],
  ])('refuse %s', (entry, message) => {
    expect(() => expandAddresses(entry)).toThrow(message);
  });
});

describe('the pool', () => {
  it('defaults to a loopback block for a target on this host, and to none for another host', () => {
    expect(poolAddresses({ url: 'https://127.0.0.1:8443' })).toHaveLength(128);
    expect(poolAddresses({ url: 'https://localhost:8443' })[0]).toBe('127.0.0.128');
    expect(poolAddresses({ url: 'https://api.example.internal' })).toEqual([]);
    expect(poolAddresses({ url: 'https://api.example.internal', source_addresses: ['10.20.0.201'] })).toEqual([
      '10.20.0.201',
    ]);
  });
  it('picks the least used address that stays within the cap', () => {
    const counts = new Map([
      ['a', 4],
      ['b', 2],
      ['c', 3],
    ]);
    expect(pickAddress(counts, 5)).toBe('b');
    expect(pickAddress(counts, 5, 2)).toBe('b');
    expect(pickAddress(counts, 5, 4)).toBeUndefined();
    expect(pickAddress(new Map([['a', 5]]), 5)).toBeUndefined();
  });
});

describe('against a service that counts every rejection toward its IP block', () => {
  // Every 4xx counts, and more than 10 from one address block it: the seed's rule, applied strictly.
  const strictService = () => startHttpFixture({ ipBlock: { threshold: 10 } });

  it('all HTTP checks pass: no address of the gate gets near the threshold', async () => {
    const fixture = await strictService();
    try {
      const results = await runEntries(
        fixture.context,
        HTTP_CHECKS.map((id) => plannedEntry(id)),
      );
      expect(
        results.map((result) => result.status),
        describeResults(results),
      ).toEqual(HTTP_CHECKS.map(() => 'pass'));
    } finally {
      await fixture.close();
    }
  });

  it('from a single address, as before the pool, the gate blocks itself and an unrelated control reads as failed', async () => {
    const fixture = await strictService();
    try {
      const results = await runEntries(
        {
          ...fixture.context,
          target: { ...fixture.context.target, source_addresses: ['127.0.0.131'], max_failures_per_address: 1_000 },
        },
        HTTP_CHECKS.map((id) => plannedEntry(id)),
      );
      expect(
        results.some((result) => result.status !== 'pass'),
        describeResults(results),
      ).toBe(true);
      expect(describeResults(results)).toMatch(/403/);
    } finally {
      await fixture.close();
    }
  });

  it('a pool too small for the run is an error that says what to add, not a failed control', async () => {
    const fixture = await strictService();
    try {
      const [result] = await runEntries(
        {
          ...fixture.context,
          target: { ...fixture.context.target, source_addresses: ['127.0.0.140'], max_failures_per_address: 3 },
        },
        [plannedEntry('http.auth-required')],
      );
      expect(result?.status).toBe('error');
      expect(result?.outcome.summary).toMatch(
        /all 1 source addresses have had max_failures_per_address \(3\) requests that may count as authentication failures: list more in target\.source_addresses/,
      );
    } finally {
      await fixture.close();
    }
  });
});

describe('a probe address the service already blocks', () => {
  it('stops a check that binds it before anything is probed, naming the address and the fix', async () => {
    const fixture = await startHttpFixture({ ipBlock: { threshold: 10, blocked: ['127.0.0.30'] } });
    try {
      const [result] = await runEntries(fixture.context, [
        plannedEntry('logs.no-credentials', { log_file: '/nonexistent/service.log', source_address: '127.0.0.30' }),
      ]);
      expect(result?.status).toBe('error');
      expect(result?.outcome.summary).toBe(
        'not run: probe address 127.0.0.30 is blocked by the service (GET /health from it answered 403, from the default address not); lift it or use another address',
      );
    } finally {
      await fixture.close();
    }
  });

  it('is an error of the check that draws it from the pool, never a failed control', async () => {
    const fixture = await startHttpFixture({ ipBlock: { threshold: 10, blocked: ['127.0.0.128'] } });
    try {
      const [result] = await runEntries(fixture.context, [plannedEntry('http.auth-required')]);
      expect(result?.status).toBe('error');
      expect(result?.outcome.summary).toMatch(
        /probe address 127\.0\.0\.128 is blocked by the service \(GET \/health from it answered 403/,
      );
    } finally {
      await fixture.close();
    }
  });
});
