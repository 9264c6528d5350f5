/**
 * The source addresses the gate's failure-provoking probes come from.
 *
 * A service that counts failures per client address (seed 002 asks it to)
 * would otherwise count the gate's own forged tokens, bad bodies and wrong
 * passwords against one address, block it, and make later checks fail for a
 * reason that has nothing to do with their control. So every request that may
 * count as a failure takes its address from a pool, and no address gets more
 * of them in one run than `max_failures_per_address` — set below the
 * service's IP-block threshold.
 *
 * Before an address is first used (and, for the addresses checks bind
 * themselves, before anything runs) the pool asks the service whether it is
 * already blocked: a 403 to that address where the gate's default address
 * gets something else. A blocked probe address is an `error` that says so and
 * how to lift it, never a failure of an unrelated control.
 */
import { latestIpBlock } from '../probes/auth-audit.js';
import { expandAddresses } from './addresses.js';
import type { AuthConfig, TargetConfig } from './checklist/schema.js';
import type { DatabaseProbe, HttpProbe } from './types.js';

/** Loopback addresses for a target on this host; apart from those the auth checks bind themselves (127.0.0.8–30). */
export const DEFAULT_LOOPBACK_POOL = '127.0.0.128/25';

/** The status a service's IP block answers with; another status from a probe address is not a block. */
const BLOCK_STATUS = 403;

export class ProbeAddressBlockedError extends Error {
  constructor(
    readonly address: string,
    detail: string,
  ) {
    super(`probe address ${address} is blocked by the service (${detail}); lift it or use another address`);
    this.name = 'ProbeAddressBlockedError';
  }
}

export class SourceAddressPoolExhaustedError extends Error {
  constructor(addresses: number, cap: number) {
    super(
      addresses === 0
        ? 'no source address is left for requests that may count as authentication failures'
        : `all ${addresses} source addresses have had max_failures_per_address (${cap}) requests that may count as authentication failures: list more in target.source_addresses`,
    );
    this.name = 'SourceAddressPoolExhaustedError';
  }
}

/** Whether the target is on this host, where every 127.0.0.0/8 address can be bound. */
export function isLoopbackTarget(targetUrl: string): boolean {
  const host = new URL(targetUrl).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The addresses the run's pool hands out: the checklist's, else a loopback block for a local target, else none. */
export function poolAddresses(target: Pick<TargetConfig, 'url' | 'source_addresses'>): string[] {
  const entries = target.source_addresses ?? (isLoopbackTarget(target.url) ? [DEFAULT_LOOPBACK_POOL] : []);
  return [...new Set(entries.flatMap(expandAddresses))];
}

/**
 * Pure: which address gets the next `failures` failure-provoking requests —
 * the least used one that stays within the cap — or undefined when none can.
 */
export function pickAddress(counts: ReadonlyMap<string, number>, cap: number, failures = 1): string | undefined {
  let best: string | undefined;
  let bestCount = Number.POSITIVE_INFINITY;
  for (const [address, count] of counts) {
    if (count + failures <= cap && count < bestCount) {
      best = address;
      bestCount = count;
    }
  }
  return best;
}

export interface SourceAddressPool {
  /**
   * The address for one request that may count as an authentication failure
   * (undefined: the operating system chooses, when the pool is empty). Throws
   * SourceAddressPoolExhaustedError or ProbeAddressBlockedError.
   */
  forFailure(): Promise<string | undefined>;
  /**
   * One address for a whole flow (a login, then requests with its token) that
   * will provoke about `failures` failures: a service may tie a session to the
   * address it was opened from, so the flow keeps one.
   */
  reserve(failures: number): Promise<string | undefined>;
  /** Throws ProbeAddressBlockedError when the service already blocks this address (checked once per run). */
  ensureUsable(address: string): Promise<void>;
  /** The addresses handed out and how many failure-provoking requests each got. */
  usage(): { address: string; requests: number }[];
}

export interface PoolOptions {
  addresses: readonly string[];
  maxFailuresPerAddress: number;
  http: HttpProbe;
  targetUrl: string;
  healthPath: string;
  db: DatabaseProbe | undefined;
  auth: AuthConfig | undefined;
}

export function createSourceAddressPool(options: PoolOptions): SourceAddressPool {
  const counts = new Map(options.addresses.map((address) => [address, 0]));
  const verdicts = new Map<string, Promise<void>>();
  let defaultStatus: Promise<number | undefined> | undefined;
  const statusFrom = async (address: string | undefined): Promise<number | undefined> => {
    try {
      const response = await options.http.request(new URL(options.healthPath, options.targetUrl), {
        ...(address ? { localAddress: address } : {}),
      });
      return response.status;
    } catch {
      // Unreachable is for the checks to report; the pre-flight only recognises a block.
      return undefined;
    }
  };

  const verify = async (address: string): Promise<void> => {
    const status = await statusFrom(address);
    if (status !== BLOCK_STATUS) return;
    defaultStatus ??= statusFrom(undefined);
    if ((await defaultStatus) === BLOCK_STATUS) return;
    throw new ProbeAddressBlockedError(address, await blockDetail(address, options));
  };

  const pool: SourceAddressPool = {
    ensureUsable(address) {
      let verdict = verdicts.get(address);
      if (!verdict) {
        verdict = verify(address);
        verdicts.set(address, verdict);
      }
      return verdict;
    },
    forFailure: () => pool.reserve(1),
    async reserve(failures) {
      if (counts.size === 0) return undefined;
      const address = pickAddress(counts, options.maxFailuresPerAddress, failures);
      if (address === undefined) {
        throw new SourceAddressPoolExhaustedError(options.addresses.length, options.maxFailuresPerAddress);
      }
      counts.set(address, (counts.get(address) ?? 0) + failures);
      // A blocked pool address is the check's error, naming it: something (an earlier run without
      // cleanup, another client) got the gate blocked, and the operator should know.
      await pool.ensureUsable(address);
      return address;
    },
    usage() {
      return [...counts].filter(([, requests]) => requests > 0).map(([address, requests]) => ({ address, requests }));
    },
  };
  return pool;
}

/** What the service's own table says about a blocked address, when the checklist gives the database. */
async function blockDetail(address: string, options: PoolOptions): Promise<string> {
  const answer = `GET ${options.healthPath} from it answered ${BLOCK_STATUS}, from the default address not`;
  if (!options.db || !options.auth) return answer;
  try {
    const row = await latestIpBlock(options.db, options.auth, address);
    return row
      ? `${answer}; ${options.auth.tables.ip_blocks} row blocked_at ${row.blockedAt}, expires_at ${row.expiresAt ?? 'never'}`
      : answer;
  } catch {
    return answer;
  }
}
