/**
 * Exact IP-block admission: at most `ipBlockThreshold` counted failures per
 * address per window, however many credential checks arrive at once.
 *
 * Checking for a block when a request arrives and counting its failure when
 * it ends lets every request already past the check through: 300 parallel
 * logins were 210 credential checks. So a credential check is admitted before
 * any auth work, in one transaction under the address's advisory lock:
 *
 *   - the address's active block, counted failures since the window opened
 *     (or its last block ended) and admissions in flight are read;
 *   - `decideAdmission` (policy.ts) admits the check (an admission row is
 *     inserted), refuses it (blocked), refuses it and writes the block (the
 *     threshold is spent), or finds that the checks in flight decide it;
 *   - every refusal writes its blocked_ip audit row in the same transaction.
 *
 * An admitted check settles exactly once: its failure row deletes the
 * admission in the failure's own transaction (failures.ts), a check that
 * ends without one gives it back, and one that errors keeps it (fail closed:
 * it may have been a failure) until it goes stale and counts as a failure.
 * A request that must wait holds no connection: it waits in this process
 * (one attempt per address at a time, so an address cannot take the pool)
 * for a check of its address to settle here, or re-checks shortly for checks
 * running in other replicas.
 */
import { inTransaction, type Pool, type PoolClient } from '../db/pool.js';
import { storableText } from '../db/text.js';
import { type AdmissionDecision, decideAdmission, IP_COUNTED_EVENT_TYPES, type SecurityPolicy } from './policy.js';

/** What the IP gate knows of a request before its body is read. */
export interface RequestFacts {
  ipAddress: string;
  method: string;
  path: string;
}

/**
 * An admission older than this was never settled: its process died mid-check
 * (a live check takes a password hash and a few statements, each bounded by
 * the pool's 10 s statement timeout). It then counts as a failure.
 */
export const STALE_ADMISSION_SECONDS = 60;
/** How often a waiting request re-checks when the checks it waits for run in another replica. */
const RECHECK_MS = 100;

/** The counted event types as SQL literals: constants, so the partial index of migration 0002 applies. */
const COUNTED_TYPES_SQL = IP_COUNTED_EVENT_TYPES.map((type) => `'${type}'`).join(', ');

const ADMISSION_STATE_SQL = `
WITH clock AS (SELECT clock_timestamp() AS now),
last_block AS (
  SELECT max(coalesce(lifted_at, least(expires_at, clock.now))) AS ended_at,
         coalesce(bool_or(lifted_at IS NULL AND expires_at > clock.now), false) AS active
    FROM ip_blocks, clock WHERE ip_address = $1
),
since AS (
  SELECT greatest(clock.now - make_interval(secs => $2), coalesce(last_block.ended_at, '-infinity')) AS at,
         clock.now - make_interval(secs => $3) AS stale_before,
         last_block.active
    FROM clock, last_block
)
SELECT since.active AS active_block,
       (SELECT count(*)::int FROM auth_failure_events e
         WHERE NOT since.active AND e.ip_address = $1 AND e.event_type IN (${COUNTED_TYPES_SQL})
           AND e.created_at > since.at) AS failures,
       (SELECT count(*)::int FROM credential_admissions a
         WHERE NOT since.active AND a.ip_address = $1
           AND a.admitted_at > since.at AND a.admitted_at <= since.stale_before) AS stale,
       (SELECT count(*)::int FROM credential_admissions a
         WHERE NOT since.active AND a.ip_address = $1
           AND a.admitted_at > since.at AND a.admitted_at > since.stale_before) AS pending
  FROM since`;

interface AdmissionStateRow {
  active_block: boolean;
  failures: number;
  stale: number;
  pending: number;
}

type Attempt = { decision: 'admit'; admissionId: string } | { decision: Exclude<AdmissionDecision, 'admit'> };

/** Reads what the address has spent; the caller holds the address's advisory lock. */
async function readAdmissionState(
  client: PoolClient,
  policy: SecurityPolicy,
  ipAddress: string,
): Promise<AdmissionStateRow> {
  const result = await client.query<AdmissionStateRow>(ADMISSION_STATE_SQL, [
    ipAddress,
    policy.ipBlockWindowSeconds,
    STALE_ADMISSION_SECONDS,
  ]);
  const row = result.rows[0];
  if (!row) throw new Error('the admission state query returned no row');
  return row;
}

function attemptAdmission(pool: Pool, policy: SecurityPolicy, facts: RequestFacts): Promise<Attempt> {
  return inTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('secgate.ip:' || $1::inet::text, 0))`, [
      facts.ipAddress,
    ]);
    // A statement after the lock: its snapshot sees every admission and failure committed before it.
    const row = await readAdmissionState(client, policy, facts.ipAddress);
    const decision = decideAdmission(
      {
        activeBlock: row.active_block,
        failures: row.failures,
        staleAdmissions: row.stale,
        pendingAdmissions: row.pending,
      },
      policy,
    );
    switch (decision) {
      case 'admit': {
        const admitted = await client.query<{ id: string }>(
          'INSERT INTO credential_admissions (ip_address) VALUES ($1) RETURNING id',
          [facts.ipAddress],
        );
        const admissionId = admitted.rows[0]?.id;
        if (admissionId === undefined) throw new Error('the admission insert returned no id');
        return { decision, admissionId };
      }
      case 'block':
        await client.query(
          `INSERT INTO ip_blocks (ip_address, reason, expires_at)
           VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))`,
          [
            facts.ipAddress,
            `${row.failures + row.stale} authentication failures within ${policy.ipBlockWindowSeconds}s, then another attempt (threshold ${policy.ipBlockThreshold})`,
            policy.ipBlockDurationSeconds,
          ],
        );
        await auditRefusal(client, facts, 'ip_block_threshold_reached');
        return { decision };
      case 'refuse':
        await auditRefusal(client, facts, 'active_ip_block');
        return { decision };
      case 'wait':
        return { decision };
    }
  });
}

function auditRefusal(client: PoolClient, facts: RequestFacts, detail: string): Promise<unknown> {
  return client.query(
    `INSERT INTO auth_failure_events (event_type, username, ip_address, method, path, detail)
     VALUES ('blocked_ip', NULL, $1, $2, $3, $4)`,
    [facts.ipAddress, facts.method, storableText(facts.path), detail],
  );
}

/** An admitted credential check: the route begins it, then it settles exactly once. */
export class AdmittedCheck {
  private state: 'admitted' | 'running' | 'settled' = 'admitted';

  constructor(
    private readonly admissions: CredentialAdmissions,
    readonly admissionId: string,
    readonly ipAddress: string,
  ) {}

  /** The route takes the check over; false when the request was abandoned first (then no check may run). */
  begin(): boolean {
    if (this.state !== 'admitted') return false;
    this.state = 'running';
    return true;
  }

  /** A failure row deleted the admission in its own transaction (recordFailure with `admissionId`). */
  settledByFailure(): void {
    this.state = 'settled';
    this.admissions.settled(this.ipAddress);
  }

  /** The check ended without a failure row: the admission is given back. Idempotent. */
  async release(): Promise<void> {
    if (this.state === 'settled') return;
    this.state = 'settled';
    await this.admissions.pool.query('DELETE FROM credential_admissions WHERE id = $1', [this.admissionId]);
    this.admissions.settled(this.ipAddress);
  }

  /** The request ended before its route began the check (a rejected body, a client gone). */
  abandon(): void {
    if (this.state === 'admitted') void this.release().catch(() => {});
  }
}

/** Admission for one service instance: the waiting requests of each address, and their turns. */
export class CredentialAdmissions {
  private readonly turns = new Map<string, Promise<void>>();
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    readonly pool: Pool,
    private readonly policy: SecurityPolicy,
  ) {}

  /** The admitted check, or undefined when the request is refused (its blocked_ip row is written). */
  admit(facts: RequestFacts): Promise<AdmittedCheck | undefined> {
    return this.inTurn(facts.ipAddress, async () => {
      for (;;) {
        // Listen before reading the state, so a settlement between the read and the wait is not missed.
        const settlement = this.nextSettlement(facts.ipAddress);
        let attempt: Attempt;
        try {
          attempt = await attemptAdmission(this.pool, this.policy, facts);
        } catch (error) {
          settlement.cancel();
          throw error;
        }
        if (attempt.decision !== 'wait') {
          settlement.cancel();
          return attempt.decision === 'admit'
            ? new AdmittedCheck(this, attempt.admissionId, facts.ipAddress)
            : undefined;
        }
        await settlement.done;
      }
    });
  }

  /** A check of this address settled: its waiting requests decide again. */
  settled(ipAddress: string): void {
    const waiting = this.waiters.get(ipAddress);
    if (!waiting) return;
    this.waiters.delete(ipAddress);
    for (const wake of waiting) wake();
  }

  private nextSettlement(ipAddress: string): { done: Promise<void>; cancel: () => void } {
    let wake = () => {};
    const done = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const timer = setTimeout(() => cancel(), RECHECK_MS);
    const waiting = this.waiters.get(ipAddress) ?? new Set<() => void>();
    this.waiters.set(ipAddress, waiting);
    const listener = () => {
      clearTimeout(timer);
      wake();
    };
    waiting.add(listener);
    const cancel = () => {
      clearTimeout(timer);
      waiting.delete(listener);
      if (waiting.size === 0 && this.waiters.get(ipAddress) === waiting) this.waiters.delete(ipAddress);
      wake();
    };
    return { done, cancel };
  }

  /** Runs `work` after every earlier attempt of the same address in this process has finished. */
  private inTurn<T>(ipAddress: string, work: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(ipAddress) ?? Promise.resolve();
    const result = previous.then(work);
    const turn = result.then(
      () => {},
      () => {},
    );
    this.turns.set(ipAddress, turn);
    void turn.then(() => {
      if (this.turns.get(ipAddress) === turn) this.turns.delete(ipAddress);
    });
    return result;
  }
}
