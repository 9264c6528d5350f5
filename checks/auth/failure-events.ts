/**
 * auth.failure-events: every rejection path the check can provoke writes one
 * audit row with the right type and address. Probing (observeFailureEvents)
 * provokes the rejections and reads the rows; judgeFailureEvents is pure.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AccountConfig } from '../../src/engine/checklist/schema.js';
import {
  type CheckContext,
  type CheckOutcome,
  type DatabaseProbe,
  defineCheck,
  type Json,
  type Observation,
} from '../../src/engine/types.js';
import { databaseNow, type FailureEventRow, failureEventsSince, runCleanup } from '../../src/probes/auth-audit.js';
import {
  type AuthClient,
  createAuthClient,
  probeValue,
  type RequestRoute,
  resolveAccount,
  resolveEventTypes,
  totpCode,
} from '../../src/probes/auth-client.js';
import { decodeJwt, signedToken } from '../../src/probes/auth-tokens.js';
import { brokenNotes, errorOutcome, verdict } from '../outcome.js';
import {
  accountParam,
  eventTypesParam,
  REJECTION_PATHS,
  type RejectionPath,
  sourceAddress,
  sourceAddressParam,
} from './params.js';
import { notObserved, unobserved } from './seen.js';

/** One rejection the check provoked, and how its audit row must look. */
export interface Provoked {
  path: RejectionPath;
  probe: string;
  status: number;
  ip: string | null;
  /** The username the row must carry; undefined for token paths, where services record the subject or nothing. */
  username: string | undefined;
}

/** A wrong TOTP code that is valid in no nearby time step. */
function wrongTotpCode(secret: string, at: Date): string {
  const nearby = new Set([-30_000, 0, 30_000].map((offset) => totpCode(secret, new Date(at.getTime() + offset))));
  for (let candidate = 0; ; candidate++) {
    const code = String((Number(totpCode(secret, at)) + 500_000 + candidate) % 1_000_000).padStart(6, '0');
    if (!nearby.has(code)) return code;
  }
}

/** A well-formed JWT the service cannot have signed. */
function invalidToken(): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ sub: 'secgate-invalid', exp: 4_102_444_800 })}.${randomBytes(256).toString('base64url')}`;
}

/** Rejection paths that need the probe account's real credentials to reach. */
const ACCOUNT_PATHS: readonly RejectionPath[] = ['bad_password', 'bad_totp', 'expired_token', 'locked_account'];
/** The paths seed 002 names, audited by default; the other two are there for services that audit them too. */
const OPTIONAL_PATHS: readonly RejectionPath[] = ['mfa_not_enrolled', 'missing_token', 'bad_challenge'];
const DEFAULT_AUDITED_PATHS = REJECTION_PATHS.filter((path) => !OPTIONAL_PATHS.includes(path));

export const failureEventsParams = z
  .object({
    events: z
      .array(z.enum(REJECTION_PATHS))
      .min(1)
      .default(DEFAULT_AUDITED_PATHS)
      .describe(
        'the rejection paths to provoke; mfa_not_enrolled, missing_token and bad_challenge only for services that audit them',
      ),
    event_types: eventTypesParam(),
    account: accountParam('probe_account').describe(
      'the account of the account paths (wrong password, wrong TOTP, expired token, lockout)',
    ),
    no_mfa_account: accountParam('no_mfa_account').describe(
      'the account without a second factor, for the mfa_not_enrolled path',
    ),
    source_address: sourceAddressParam('127.0.0.11').describe(
      'every audited path is provoked from this address, so its rows are attributable',
    ),
    lock_source_address: sourceAddressParam('127.0.0.10').describe(
      'the extra wrong passwords that lock the probe account come from here, to stay under the IP threshold',
    ),
    blocked_source_address: sourceAddress
      .default('127.0.0.12')
      .describe('the address blocked on purpose for the blocked_ip path, then lifted'),
    lockout_attempts: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(5)
      .describe("wrong passwords that lock the account (the service's lockout threshold), for the locked path"),
    ip_block_threshold: z
      .number()
      .int()
      .min(1)
      .max(200)
      .default(10)
      .describe('failures after which the service blocks an address; the blocked_ip path sends one more'),
    health_path: z
      .string()
      .regex(/^\//)
      .optional()
      .describe(
        "the path requested from the blocked address for the blocked_ip path; default: the target's health_path",
      ),
    signing_key_env: z
      .string()
      .min(1)
      .optional()
      .describe(
        "environment variable (passed by the checklist) holding the service's test signing key (PEM, or the secret for HS*): needed for expired_token",
      ),
    signing_alg: z
      .string()
      .min(2)
      .optional()
      .describe("algorithm of the expired test token (default: the real token's alg)"),
  })
  .strict();
type FailureEventsParams = z.output<typeof failureEventsParams>;

/** What the probe saw: each rejection it provoked, and the audit rows written since it started. Plain data. */
export interface FailureEventsSeen {
  since: string;
  /** In REJECTION_PATHS order. */
  provoked: Provoked[];
  /** Every failure row written since `since`; undefined when not read. */
  rows: FailureEventRow[] | undefined;
  /** Set when something could not be observed: the `error` summary. */
  notSeen?: string;
}

/**
 * Pure: each provoked rejection must have a row of its type, from its address (and for its username, where known),
 * and every wanted path must have been provoked: a path the probe skipped (no account to provoke it with, say) was
 * not seen, so it is an `error` naming it, never a quieter pass. A row missing for a provoked path still fails.
 */
export function judgeFailureEvents(
  seen: FailureEventsSeen,
  eventKinds: Readonly<Record<RejectionPath, readonly string[]>>,
  wanted: readonly RejectionPath[],
): CheckOutcome {
  const observations: Observation[] = [];
  const rows = seen.rows;
  if (!rows) return unobserved(seen.notSeen ?? 'could not observe the rejection paths', observations);
  const candidates = seen.provoked.map((event) =>
    rows.flatMap((row, index) =>
      (event.ip === null || row.ip === event.ip) &&
      eventKinds[event.path].includes(row.eventType) &&
      (event.username === undefined || row.username === event.username)
        ? [index]
        : [],
    ),
  );
  // Each rejection writes its own row: one row cannot stand for two paths that share an event type and address
  // (a service that audits only one of two invalid-token paths would otherwise pass).
  const assigned = assignDistinctRows(candidates);
  seen.provoked.forEach((event, eventIndex) => {
    const kinds = eventKinds[event.path];
    const eventType = kinds.join(' or ');
    const fromAddress = rows.filter((row) => event.ip === null || row.ip === event.ip);
    const matching = candidates[eventIndex] ?? [];
    const own = assigned[eventIndex] !== undefined;
    const expected: Record<string, Json> = { event_type: eventType, ip_address: event.ip };
    if (event.username !== undefined) expected.username = event.username;
    observations.push({
      probe: event.probe,
      expected: { ...expected, created_at_from: seen.since, rows_at_least: 1 },
      actual: {
        status: event.status,
        matching_rows: matching.length,
        event_types_seen_from_address: [...new Set(fromAddress.map((row) => row.eventType))],
      },
      ok: own,
      note: own
        ? `${eventType} row written`
        : matching.length === 0
          ? `no ${eventType} row for the ${event.path} path (${event.probe} answered ${event.status})`
          : `no ${eventType} row of its own for the ${event.path} path: the ${matching.length} matching row${matching.length === 1 ? '' : 's'} from ${event.ip ?? 'its address'} belong${matching.length === 1 ? 's' : ''} to other rejections (${event.probe} answered ${event.status})`,
    });
  });
  const outcome = verdict(
    observations,
    `${seen.provoked.length} rejection paths each wrote an audit row with the right type and address`,
    brokenNotes(observations),
  );
  // A provoked path without its row is the verdict, whatever a later lane could not observe.
  if (outcome.status === 'fail') return outcome;
  if (seen.notSeen !== undefined) return unobserved(seen.notSeen, observations);
  const notProvoked = wanted.filter((path) => !seen.provoked.some((event) => event.path === path));
  if (notProvoked.length === 0) return outcome;
  return unobserved(
    `could not observe the ${notProvoked.join(', ')} path${notProvoked.length === 1 ? '' : 's'}: not provoked, so no audit row could be looked for`,
    observations,
  );
}

/**
 * Pure: gives each event a row of its own from its candidates (indices into the rows), as many events as can be
 * given one (a maximum bipartite matching, by augmenting paths: a few dozen rows and events at most). Returns,
 * per event, its row's index, or undefined when no row is left for it.
 */
export function assignDistinctRows(candidates: readonly (readonly number[])[]): (number | undefined)[] {
  const owner = new Map<number, number>();
  const tryAssign = (event: number, visited: Set<number>): boolean => {
    for (const row of candidates[event] ?? []) {
      if (visited.has(row)) continue;
      visited.add(row);
      const holder = owner.get(row);
      if (holder === undefined || tryAssign(holder, visited)) {
        owner.set(row, event);
        return true;
      }
    }
    return false;
  };
  for (let event = 0; event < candidates.length; event++) tryAssign(event, new Set());
  const rowOf: (number | undefined)[] = candidates.map(() => undefined);
  for (const [row, event] of owner) rowOf[event] = row;
  return rowOf;
}

/**
 * Probe: provokes every wanted rejection (three independent lanes), then reads
 * the rows written since. Marks in `effects` what it did that must be undone.
 */
async function observeFailureEvents(
  ctx: CheckContext,
  db: DatabaseProbe,
  client: AuthClient,
  accounts: { probe: AccountConfig | undefined; noMfa: AccountConfig | undefined; signingKey: string | undefined },
  params: FailureEventsParams,
  effects: { lockedProbe: boolean; blockedAddress: boolean },
): Promise<FailureEventsSeen> {
  const { probe, noMfa, signingKey } = accounts;
  const healthPath = params.health_path ?? ctx.target.health_path;
  const wanted = new Set(params.events);
  const expireSessionSql = client.mapping.sessions?.expire_sql;
  const route: RequestRoute = { localAddress: params.source_address ?? undefined };
  const seen: FailureEventsSeen = { since: '', provoked: [], rows: undefined };
  const provoked = seen.provoked;
  try {
    const since = await databaseNow(db);
    seen.since = since;
    const record = (path: RejectionPath, probeText: string, status: number, username: string | undefined) =>
      provoked.push({ path, probe: probeText, status, ip: params.source_address, username });

    // The probe account's paths, in order: a real login first (while unlocked), then the failures that lock it.
    const accountLane = async (): Promise<void> => {
      if (!probe) return;
      if (wanted.has('expired_token') && !signingKey && expireSessionSql && probe.totp_secret) {
        const session = await client.obtainTokens(probe, route);
        await db.query(expireSessionSql, [session.accessToken]);
        const response = await client.getWithCredential(client.mapping.me_path, session.accessToken, route);
        record(
          'expired_token',
          `GET ${client.mapping.me_path} with a session aged past its lifetime (auth.sessions.expire_sql)`,
          response.status,
          undefined,
        );
      }
      if (wanted.has('expired_token') && signingKey && probe.totp_secret) {
        const pair = await client.obtainTokens(probe, route);
        const real = decodeJwt(pair.accessToken);
        if (!real) throw new Error('the expired_token path: the access token is not a JWT');
        const nowSeconds = Math.floor(ctx.clock.now().getTime() / 1000);
        const expired = await signedToken(
          { ...real.payload, iat: nowSeconds - 7_200, exp: nowSeconds - 3_600 },
          real.header,
          params.signing_alg ?? String(real.header.alg),
          signingKey,
        );
        ctx.secrets.register(expired);
        const response = await client.getWithCredential(client.mapping.me_path, expired, route);
        record(
          'expired_token',
          `GET ${client.mapping.me_path} with a token expired an hour ago`,
          response.status,
          undefined,
        );
      }
      if (wanted.has('bad_totp') && probe.totp_secret) {
        const login = await client.login(probe.username, probe.password, route);
        if (!login.mfaChallenge) {
          throw new Error(`the bad_totp path: the probe login gave no MFA challenge (${login.response.status})`);
        }
        const verify = await client.verifyMfa(
          login.mfaChallenge,
          wrongTotpCode(probe.totp_secret, ctx.clock.now()),
          route,
        );
        record(
          'bad_totp',
          `POST ${client.mapping.mfa_verify.path} with a wrong TOTP code`,
          verify.response.status,
          probe.username,
        );
      }
      if (!wanted.has('bad_password') && !wanted.has('locked_account')) return;
      effects.lockedProbe = true;
      let wrongSent = 0;
      if (wanted.has('bad_password')) {
        const answer = await client.login(probe.username, probeValue('wrong'), route);
        record(
          'bad_password',
          `POST ${client.mapping.login.path} as ${probe.username} with a wrong password`,
          answer.response.status,
          probe.username,
        );
        wrongSent = 1;
      }
      if (wanted.has('locked_account')) {
        const lockRoute = { localAddress: params.lock_source_address ?? undefined };
        for (; wrongSent < params.lockout_attempts; wrongSent++) {
          await client.login(probe.username, probeValue('wrong'), lockRoute);
        }
        const answer = await client.login(probe.username, probe.password, route);
        record(
          'locked_account',
          `POST ${client.mapping.login.path} as ${probe.username} with the correct password after ${params.lockout_attempts} wrong ones`,
          answer.response.status,
          probe.username,
        );
      }
    };

    // Paths that touch no account: independent of the lane above, so they run beside it.
    const anonymousLane = async (): Promise<void> => {
      if (wanted.has('invalid_token')) {
        const response = await client.getWithCredential(client.mapping.me_path, invalidToken(), route);
        record(
          'invalid_token',
          `GET ${client.mapping.me_path} with a token the service did not sign`,
          response.status,
          undefined,
        );
      }
      if (wanted.has('bad_challenge')) {
        // A challenge of the shape the service hands out, that it never issued, wherever the mapping carries it.
        const forged = probeValue('secgate-challenge');
        const answer = await client.verifyMfa(forged, '000000', route);
        record(
          'bad_challenge',
          `POST ${client.mapping.mfa_verify.path} with a challenge the service never issued`,
          answer.response.status,
          undefined,
        );
      }
      if (wanted.has('missing_token')) {
        const response = await client.get(client.mapping.me_path, route);
        record('missing_token', `GET ${client.mapping.me_path} without credentials`, response.status, undefined);
      }
      if (wanted.has('mfa_not_enrolled') && noMfa) {
        const answer = await client.login(noMfa.username, noMfa.password, route);
        record(
          'mfa_not_enrolled',
          `POST ${client.mapping.login.path} as ${noMfa.username} (no second factor) with the correct password`,
          answer.response.status,
          noMfa.username,
        );
      }
      if (wanted.has('unknown_user')) {
        const username = probeValue('secgate-unknown');
        const answer = await client.login(username, probeValue('wrong'), route);
        record(
          'unknown_user',
          `POST ${client.mapping.login.path} as unknown user ${username}`,
          answer.response.status,
          username,
        );
      }
    };

    const blockedLane = async (): Promise<void> => {
      if (!wanted.has('blocked_ip')) return;
      effects.blockedAddress = true;
      const blockedRoute = { localAddress: params.blocked_source_address };
      await Promise.all(
        Array.from({ length: params.ip_block_threshold + 1 }, () =>
          client.login(probeValue('secgate-unknown'), probeValue('wrong'), blockedRoute),
        ),
      );
      const response = await client.get(healthPath, blockedRoute);
      provoked.push({
        path: 'blocked_ip',
        probe: `GET ${healthPath} from ${params.blocked_source_address} after ${params.ip_block_threshold + 1} failures`,
        status: response.status,
        ip: params.blocked_source_address,
        username: undefined,
      });
    };

    const lanes = await Promise.allSettled([accountLane(), anonymousLane(), blockedLane()]);
    const failedLane = lanes.find((lane): lane is PromiseRejectedResult => lane.status === 'rejected');
    if (failedLane) throw failedLane.reason;
    provoked.sort((a, b) => REJECTION_PATHS.indexOf(a.path) - REJECTION_PATHS.indexOf(b.path));
    seen.rows = await failureEventsSince(db, client.mapping, since);
  } catch (error) {
    seen.notSeen = notObserved(ctx, 'the rejection paths', error);
  }
  return seen;
}

export default defineCheck({
  id: 'auth.failure-events',
  title: 'Every rejection path writes one audit row with the right type, address and time',
  source: 'control A4 (docs/controls.md#A4): Every rejection is audited',
  docs: 'docs/controls.md#A4',
  remediation:
    'Call the failure recorder on every rejection branch before answering (unknown user, wrong password, wrong TOTP, expired and invalid token, locked account, blocked address), on its own connection so the row commits even when the request rolls back.',
  rationale: 'A rejection path that writes no row is dark: the detector that blocks credential stuffing never sees it.',
  effects: 'blocks-ip',
  slow: true,
  severity: 'medium',
  params: failureEventsParams,
  strength: { events: 'verified', lockout_attempts: 'lower', ip_block_threshold: 'lower' },
  probeAddresses: (params) => [params.source_address, params.lock_source_address, params.blocked_source_address],
  requires: (params) => [
    'database',
    ...(params.events.some((path) => ACCOUNT_PATHS.includes(path)) ? [`account:${params.account}` as const] : []),
    ...(params.events.includes('mfa_not_enrolled') ? [`account:${params.no_mfa_account}` as const] : []),
    // Read when set: unset, the expired_token path ages a session instead, or is an error naming the variable.
    ...(params.signing_key_env ? [`env?:${params.signing_key_env}` as const] : []),
  ],
  async run(ctx, params) {
    if (!ctx.db) return errorOutcome(ctx, 'the audit rows: the checklist names no database', undefined);
    const db = ctx.db;
    const client = createAuthClient(ctx);
    const probe = resolveAccount(client.mapping, params.account);
    const noMfa = resolveAccount(client.mapping, params.no_mfa_account);
    const eventKinds = resolveEventTypes(client.mapping, params.event_types);
    const wanted = new Set(params.events);
    const needsProbe = ACCOUNT_PATHS.some((path) => wanted.has(path));
    if (needsProbe && !probe) {
      return errorOutcome(
        ctx,
        `the account rejection paths: the checklist gives no account ${params.account}`,
        undefined,
      );
    }
    if (wanted.has('mfa_not_enrolled') && !noMfa) {
      return errorOutcome(
        ctx,
        `the mfa_not_enrolled path: the checklist gives no account ${params.no_mfa_account}`,
        undefined,
      );
    }
    const signingKey = params.signing_key_env ? ctx.env[params.signing_key_env] : undefined;
    // The key is a secret like any other: scrubbed from everything the run writes.
    if (signingKey) ctx.secrets.register(signingKey);
    // A server-side session is aged through the mapping's SQL: an expired session without any signing key.
    const expireSessionSql = client.mapping.sessions?.expire_sql;
    if (wanted.has('expired_token') && !signingKey && !expireSessionSql) {
      return errorOutcome(
        ctx,
        `the expired_token path: no test signing key (set with.signing_key_env to a variable the checklist passes${params.signing_key_env ? `; ${params.signing_key_env} is unset` : ''}), no auth.sessions.expire_sql to age a session, or leave expired_token out of with.events)`,
        undefined,
      );
    }
    if ((wanted.has('bad_totp') || wanted.has('expired_token')) && !probe?.totp_secret) {
      return errorOutcome(ctx, 'the bad_totp / expired_token paths: auth.probe_account has no totp_secret', undefined);
    }

    const effects = { lockedProbe: false, blockedAddress: false };
    const cleanups: Observation[] = [];
    let seen: FailureEventsSeen;
    try {
      seen = await observeFailureEvents(ctx, db, client, { probe, noMfa, signingKey }, params, effects);
    } finally {
      if (effects.lockedProbe && probe) {
        cleanups.push(
          await runCleanup(db, 'unlock_account_sql', client.mapping.cleanup?.unlock_account_sql, probe.username),
        );
      }
      if (effects.blockedAddress) {
        cleanups.push(
          await runCleanup(db, 'unblock_ip_sql', client.mapping.cleanup?.unblock_ip_sql, params.blocked_source_address),
        );
      }
    }
    const outcome = judgeFailureEvents(seen, eventKinds, params.events);
    outcome.observations.push(...cleanups);
    return outcome;
  },
});
