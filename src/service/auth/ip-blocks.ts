/**
 * The first thing every request meets: is its address blocked? A blocked
 * address is answered 403 with nothing but this check and its audit row.
 *
 * Requests are checked together (db/batch.ts): the requests that arrive while
 * one statement runs are checked, and the blocked ones audited, by the next
 * single statement. A flood from a blocked address therefore costs one round
 * trip and one commit per batch rather than per request, and every refusal
 * still has its own blocked_ip row, committed before its 403 is sent.
 */
import { groupCommit } from '../db/batch.js';
import type { Pool } from '../db/pool.js';
import { storableText } from '../db/text.js';
import type { RequestFacts } from './admission.js';

/** Enough for any burst a pool connection can carry in one statement. */
const MAX_BATCH = 500;

const CHECK_AND_AUDIT_SQL = `
WITH request AS (
  SELECT * FROM unnest($1::int[], $2::inet[], $3::text[], $4::text[]) AS r(slot, ip_address, method, path)
),
refused AS (
  SELECT request.* FROM request
   WHERE EXISTS (SELECT 1 FROM ip_blocks b
                  WHERE b.ip_address = request.ip_address
                    AND b.lifted_at IS NULL AND b.expires_at > clock_timestamp())
),
audited AS (
  INSERT INTO auth_failure_events (event_type, username, ip_address, method, path, detail)
  SELECT 'blocked_ip', NULL, ip_address, method, path, 'active_ip_block' FROM refused ORDER BY slot
)
SELECT slot FROM refused`;

/** Returns a check that answers true, with the refusal audited, when the request's address is blocked. */
export function blockedAddressCheck(pool: Pool): (facts: RequestFacts) => Promise<boolean> {
  return groupCommit<RequestFacts, boolean>(async (requests) => {
    const result = await pool.query<{ slot: number }>({
      // Named: each pooled connection parses and plans it once (a third of a statement's cost under load).
      name: 'secgate-blocked-address-check',
      text: CHECK_AND_AUDIT_SQL,
      values: [
        requests.map((_, slot) => slot),
        requests.map((request) => request.ipAddress),
        requests.map((request) => request.method),
        requests.map((request) => storableText(request.path)),
      ],
    });
    const refused = new Set(result.rows.map((row) => row.slot));
    return requests.map((_, slot) => refused.has(slot));
  }, MAX_BATCH);
}
