/**
 * auth.ip-block: more failures than the threshold from one address block
 * exactly that address, at once, on every path, before any auth work.
 *
 * "Before any auth work" is judged by what the service writes, not only by
 * the 403: a service that runs its auth logic first and turns the answer into
 * a 403 afterwards still checks passwords and tokens for a blocked address.
 * So from the blocked address the check also sends failing requests (a wrong
 * password, a garbage bearer token, a wrong TOTP code for a real challenge):
 * each must get the block's status, and no failure row other than the block's
 * own may appear for them. The block is judged at the threshold: the requests
 * go out the moment the failures that cross it have been answered.
 *
 * Probing (observeIpBlock) gathers a typed observation; judgeIpBlock is pure.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AccountConfig } from '../../src/engine/checklist/schema.js';
import {
  type CheckContext,
  type CheckOutcome,
  type DatabaseProbe,
  defineCheck,
  type HttpResponse,
  type Observation,
} from '../../src/engine/types.js';
import {
  databaseNow,
  eventRowJson,
  type FailureEventRow,
  failureEventsSince,
  type IpBlockRow,
  ipBlocksSince,
  runCleanup,
} from '../../src/probes/auth-audit.js';
import {
  type AuthClient,
  createAuthClient,
  probeValue,
  type RequestRoute,
  resolveAccount,
  resolveEventTypes,
} from '../../src/probes/auth-client.js';
import { brokenNotes, errorOutcome, verdict } from '../outcome.js';
import { accountParam, eventTypesParam, sourceAddress } from './params.js';
import { notObserved, type ResponseSeen, responseSeen, unobserved } from './seen.js';

export const ipBlockParams = z
  .object({
    source_address: sourceAddress
      .default('127.0.0.9')
      .describe('the address that gets blocked; the client socket is bound to it (never a spoofed header)'),
    threshold: z
      .number()
      .int()
      .min(1)
      .max(200)
      .default(10)
      .describe('the service blocks after more than this many failures; the check sends one more'),
    usernames: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(3)
      .describe('distinct (unknown) usernames the failures are spread over'),
    known_account_failures: z
      .number()
      .int()
      .min(0)
      .max(4)
      .default(2)
      .describe(
        "of the failures, this many are wrong passwords for the check's own account (below its lockout): credential stuffing tries real accounts, so a service that counts only unknown usernames must not pass",
      ),
    blocked_status: z
      .number()
      .int()
      .min(400)
      .max(499)
      .default(403)
      .describe('the status a blocked address must get on every path'),
    health_path: z
      .string()
      .regex(/^\//)
      .optional()
      .describe("a public path that must refuse the blocked address too; default: the target's health_path"),
    untrusted_source_address: sourceAddress
      .default('127.0.0.13')
      .describe('client that is not a trusted proxy and sends X-Forwarded-For: its real address must be recorded'),
    forwarded_address: sourceAddress
      .default('203.0.113.77')
      .describe('the address the untrusted client claims in X-Forwarded-For: it must not be recorded'),
    event_types: eventTypesParam(),
    account: accountParam('probe_account').describe(
      'the account whose valid and wrong logins are sent from the blocked address',
    ),
  })
  .strict();
type IpBlockParams = z.output<typeof ipBlockParams>;

/** What the IP-block probe saw: plain data, judged by judgeIpBlock. A step not reached is undefined. */
export interface IpBlockSeen {
  loginPath: string;
  mePath: string;
  refreshPath: string;
  healthPath: string;
  failureTable: string;
  blocksTable: string;
  /** Database time before the failures, and once they were answered (the block must hold from then on). */
  since: string;
  afterBlock: string | undefined;
  /** The status the blocked address got on the health path before the check: a block already in place. */
  statusBefore: number | undefined;
  /** The statuses of the failures that must trigger the block. */
  failures: number[] | undefined;
  /** Each request from the blocked address once the block must hold, as sent, and its answer. */
  blocked: { probe: string; response: ResponseSeen }[] | undefined;
  /** The ip_blocks rows written since the start, for every address. */
  blocks: IpBlockRow[] | undefined;
  /** The failure rows written after the block, for every address and type. */
  rowsAfterBlock: FailureEventRow[] | undefined;
  /** The forwarded-header login: its status and the failure rows of its (unique) username. */
  forwarded: { status: number; rows: FailureEventRow[] } | undefined;
  /** Set when something could not be observed: the `error` summary. */
  notSeen?: string;
}

/** What the judge weighs the observation against: the parameters, and the event types of the block's own row. */
export type IpBlockRules = Pick<
  IpBlockParams,
  | 'source_address'
  | 'threshold'
  | 'usernames'
  | 'known_account_failures'
  | 'blocked_status'
  | 'untrusted_source_address'
  | 'forwarded_address'
> & { blockedKinds: readonly string[] };

/** Pure: the verdict on one block, what it refused and what the service wrote meanwhile. */
export function judgeIpBlock(seen: IpBlockSeen, rules: IpBlockRules): CheckOutcome {
  const address = rules.source_address;
  const observations: Observation[] = [];
  const stop = () => unobserved(seen.notSeen ?? 'could not observe the IP block', observations);
  // Judged by behaviour, not by a table layout: an address refused already cannot show a fresh block.
  if (seen.statusBefore === rules.blocked_status) {
    return unobserved(
      `could not observe a fresh block: ${address} already gets ${seen.statusBefore} on ${seen.healthPath} before the check; lift it (auth.cleanup.unblock_ip_sql) or wait for it to expire`,
      [],
    );
  }
  if (!seen.failures) return stop();
  observations.push({
    probe: `${rules.threshold + 1} failed logins from ${address}: ${rules.known_account_failures} wrong passwords for a real account, the rest across ${rules.usernames} unknown usernames`,
    actual: seen.failures,
    note: 'the failures that must trigger the block',
  });

  // No request from the blocked address means the block was never put to the test.
  if (!seen.blocked || seen.blocked.length === 0) return stop();
  for (const { probe, response } of seen.blocked) {
    const ok = response.status === rules.blocked_status;
    observations.push({
      probe,
      expected: { status: rules.blocked_status },
      actual: response.shown,
      ok,
      note: ok
        ? 'refused by the block'
        : `blocked address not refused: ${probe.split(' from ')[0]} answered ${response.status}, expected ${rules.blocked_status}`,
    });
  }

  if (!seen.blocks) return stop();
  const blocks = seen.blocks.filter((row) => row.ip === address);
  observations.push({
    probe: `SELECT from ${seen.blocksTable} WHERE ip = ${address} AND blocked_at >= ${seen.since}`,
    expected: { rows_at_least: 1 },
    actual: {
      rows: blocks.length,
      blocks: blocks.map((row) => ({ ip_address: row.ip, blocked_at: row.blockedAt, expires_at: row.expiresAt })),
    },
    ok: blocks.length > 0,
    note:
      blocks.length > 0
        ? `${address} is blocked`
        : `no ip_blocks row for ${address} after ${rules.threshold + 1} failures`,
  });

  if (!seen.rowsAfterBlock) return stop();
  // Only the block's own row may be written for a blocked request: any other failure type means auth ran.
  const authRows = seen.rowsAfterBlock.filter(
    (row) => row.ip === address && !rules.blockedKinds.includes(row.eventType),
  );
  const authTypes = [...new Set(authRows.map((row) => row.eventType))];
  observations.push({
    probe: `SELECT from ${seen.failureTable} WHERE ip = ${address} AND event_type NOT IN (${rules.blockedKinds.join(', ')}) AND created_at >= ${seen.afterBlock}`,
    expected: { rows: 0 },
    actual: { rows: authRows.length, events: authRows.slice(0, 10).map(eventRowJson) },
    ok: authRows.length === 0,
    note:
      authRows.length === 0
        ? 'no auth logic ran for the blocked address'
        : `auth logic ran for the blocked address before it was refused: ${authRows.length} failure rows (${authTypes.join(', ')}) written after the block`,
  });

  if (!seen.forwarded) return stop();
  // The forwarded-header sub-test: an ordinary client may not choose the address it is recorded under.
  const addresses = seen.forwarded.rows.map((row) => row.ip);
  const real = rules.untrusted_source_address;
  const recordedReal = addresses.length > 0 && addresses.every((recorded) => recorded === real);
  observations.push({
    probe: `POST ${seen.loginPath} from ${real} with X-Forwarded-For: ${rules.forwarded_address}`,
    expected: { ip_address: real },
    actual: { status: seen.forwarded.status, recorded_ip_addresses: addresses },
    ok: recordedReal,
    note: recordedReal
      ? 'the untrusted header was ignored'
      : addresses.includes(rules.forwarded_address)
        ? `failure recorded under the X-Forwarded-For address ${rules.forwarded_address}, not the real ${real}: a client can choose which address gets blocked`
        : `no failure row under ${real} for the forwarded-header login (recorded: ${addresses.join(', ') || 'none'})`,
  });
  if (seen.notSeen !== undefined) return unobserved(seen.notSeen, observations);
  return verdict(
    observations,
    `${address} blocked at once after ${rules.threshold + 1} failures (${rules.known_account_failures} of them wrong passwords for a real account); login (right and wrong password), ${seen.mePath} (valid and garbage token), ${seen.refreshPath} (real and garbage refresh token), a wrong TOTP code and ${seen.healthPath} got ${rules.blocked_status} without auth work; X-Forwarded-For from a client was ignored`,
    brokenNotes(observations),
  );
}

/**
 * Probe: the failures from the address, the requests that must meet the block
 * at once, the rows the service wrote, and a login with a forged
 * X-Forwarded-For. Sets `effect.started` once the address may be blocked.
 */
async function observeIpBlock(
  ctx: CheckContext,
  db: DatabaseProbe,
  client: AuthClient,
  probe: AccountConfig,
  params: IpBlockParams & { health_path: string },
  effect: { started: boolean },
): Promise<IpBlockSeen> {
  const healthPath = params.health_path;
  const blockedRoute: RequestRoute = { localAddress: params.source_address };
  const seen: IpBlockSeen = {
    loginPath: client.mapping.login.path,
    mePath: client.mapping.me_path,
    refreshPath: client.mapping.refresh.path,
    healthPath,
    failureTable: client.mapping.tables.failure_events,
    blocksTable: client.mapping.tables.ip_blocks,
    since: '',
    afterBlock: undefined,
    statusBefore: undefined,
    failures: undefined,
    blocked: undefined,
    blocks: undefined,
    rowsAfterBlock: undefined,
    forwarded: undefined,
  };
  try {
    seen.since = await databaseNow(db);
    // Independent of the block, so started now and awaited later: a valid token from the default
    // address (to show that even valid credentials are stopped), and the forwarded-header sub-test.
    const tokensPromise = probe.totp_secret
      ? client.obtainTokens(probe).then(
          (pair) => pair,
          () => undefined,
        )
      : Promise.resolve(undefined);
    // Also independent of the block: a real MFA challenge (from the default address) for the wrong-code probe.
    const challengePromise = probe.totp_secret
      ? client.login(probe.username, probe.password).then(
          (answer) => answer.mfaChallenge,
          () => undefined,
        )
      : undefined;
    const forwardedUser = probeValue('secgate-forwarded');
    const forwardedPromise = client.login(forwardedUser, probeValue('wrong'), {
      localAddress: params.untrusted_source_address,
      headers: { 'x-forwarded-for': params.forwarded_address },
    });
    // Awaited below; until then a failure must not surface as an unhandled rejection.
    forwardedPromise.catch(() => {});
    // An address refused already cannot show a fresh block: the judge says so, and nothing is sent.
    seen.statusBefore = (await client.get(healthPath, blockedRoute)).status;
    if (seen.statusBefore === params.blocked_status) {
      await Promise.allSettled([tokensPromise, forwardedPromise]);
      return seen;
    }

    // Ready before the failures, so that the probes go out the moment the block must hold.
    const tokens = await tokensPromise;
    const token = tokens?.accessToken;
    const refreshToken = tokens?.refreshToken;
    const challenge = challengePromise ? await challengePromise : undefined;
    effect.started = true;
    const usernames = Array.from({ length: params.usernames }, () => probeValue('secgate-unknown'));
    // The first few are wrong passwords for a real account (fewer than its lockout), the rest unknown users.
    const failures = await Promise.all(
      Array.from({ length: params.threshold + 1 }, (_, index) =>
        client.login(
          index < params.known_account_failures
            ? probe.username
            : (usernames[index % usernames.length] ?? 'secgate-unknown'),
          probeValue('wrong'),
          blockedRoute,
        ),
      ),
    );
    seen.failures = failures.map((answer) => answer.response.status);

    const blockedProbes: { probe: string; send: () => Promise<HttpResponse> }[] = [
      {
        probe: `POST ${client.mapping.login.path} with valid credentials from ${params.source_address}`,
        send: () =>
          client.postJson(
            client.mapping.login.path,
            {
              [client.mapping.login.username_field]: probe.username,
              [client.mapping.login.password_field]: probe.password,
            },
            blockedRoute,
          ),
      },
      {
        probe: `GET ${client.mapping.me_path} ${token ? 'with a valid bearer token' : 'without a token'} from ${params.source_address}`,
        send: () =>
          token
            ? client.getWithCredential(client.mapping.me_path, token, blockedRoute)
            : client.get(client.mapping.me_path, blockedRoute),
      },
      {
        probe: `GET ${healthPath} from ${params.source_address}`,
        send: () => client.get(healthPath, blockedRoute),
      },
      // The refresh path is a way in as well: a real refresh token must buy nothing from the blocked address.
      {
        probe: `POST ${client.mapping.refresh.path} ${refreshToken ? 'with a real refresh token' : 'with a garbage refresh token'} from ${params.source_address}`,
        send: async () =>
          (await client.refresh(refreshToken ?? `secgate-garbage-${randomBytes(12).toString('hex')}`, blockedRoute))
            .response,
      },
      // Failing requests: a service that checks them before refusing writes their failure rows.
      {
        probe: `POST ${client.mapping.login.path} with a wrong password for ${probe.username} from ${params.source_address}`,
        send: async () => (await client.login(probe.username, probeValue('wrong'), blockedRoute)).response,
      },
      {
        probe: `GET ${client.mapping.me_path} with a garbage bearer token from ${params.source_address}`,
        send: () =>
          client.getWithCredential(
            client.mapping.me_path,
            `secgate-garbage-${randomBytes(12).toString('hex')}`,
            blockedRoute,
          ),
      },
      ...(challenge
        ? [
            {
              probe: `POST ${client.mapping.mfa_verify.path} with a real challenge and a wrong TOTP code from ${params.source_address}`,
              send: async () => (await client.verifyMfa(challenge, '000000', blockedRoute)).response,
            },
          ]
        : []),
    ];
    // Judged at the threshold: sent the moment the failures that cross it have been answered.
    seen.afterBlock = await databaseNow(db);
    const blockedResponses = await Promise.all(blockedProbes.map((blockedProbe) => blockedProbe.send()));
    seen.blocked = blockedProbes.flatMap((blockedProbe, index) => {
      const response = blockedResponses[index];
      return response ? [{ probe: blockedProbe.probe, response: responseSeen(ctx, response) }] : [];
    });
    seen.blocks = await ipBlocksSince(db, client.mapping, seen.since);
    seen.rowsAfterBlock = await failureEventsSince(db, client.mapping, seen.afterBlock);
    const forwarded = await forwardedPromise;
    seen.forwarded = {
      status: forwarded.response.status,
      rows: (await failureEventsSince(db, client.mapping, seen.since)).filter((row) => row.username === forwardedUser),
    };
  } catch (error) {
    seen.notSeen = notObserved(ctx, 'the IP block', error);
  }
  return seen;
}

export default defineCheck({
  id: 'auth.ip-block',
  title:
    'More failures than the threshold from one address block exactly that address, with 403 on every path before any auth work',
  source: 'control A3 (docs/controls.md#A3): Blocking an address before any auth work',
  docs: 'docs/controls.md#A3',
  remediation:
    'Count failures per client address across usernames, write an ip_blocks row atomically once the threshold is crossed, and answer 403 from the first request hook on every path. Take the client address from the socket, and from X-Forwarded-For only when the peer is a configured proxy.',
  rationale: 'Lockout stops brute force on one account; IP blocking stops credential stuffing across accounts.',
  effects: 'blocks-ip',
  slow: true,
  severity: 'high',
  params: ipBlockParams,
  strength: { threshold: 'lower', known_account_failures: 'higher' },
  requires: (params) => ['database', `account:${params.account}`],
  probeAddresses: (params) => [params.source_address, params.untrusted_source_address],
  async run(ctx, params) {
    const healthPath = params.health_path ?? ctx.target.health_path;
    if (!ctx.db) return errorOutcome(ctx, 'the ip_blocks rows: the checklist names no database', undefined);
    const db = ctx.db;
    const client = createAuthClient(ctx);
    const probe = resolveAccount(client.mapping, params.account);
    const blockedKinds = resolveEventTypes(client.mapping, params.event_types).blocked_ip;
    if (!probe)
      return errorOutcome(
        ctx,
        `a valid login from the blocked address: the checklist gives no account ${params.account}`,
        undefined,
      );
    // Wrong passwords for a real account count towards its lockout. Sent only where they can be undone (unlock SQL)
    // or land on an account of the check's own: the shared probe accounts sign other checks in, run after run.
    const sharedAccount = params.account === 'probe_account' || params.account === 'no_mfa_account';
    const canUnlock = Boolean(client.mapping.cleanup?.unlock_account_sql);
    const knownFailures = sharedAccount && !canUnlock ? 0 : params.known_account_failures;
    const effective = { ...params, health_path: healthPath, known_account_failures: knownFailures };
    const effect = { started: false };
    let seen: IpBlockSeen;
    const cleanup: Observation[] = [];
    if (knownFailures < params.known_account_failures) {
      cleanup.push({
        probe: `wrong passwords for ${probe.username} among the failures`,
        note: `not tried: ${params.account} is shared with other checks and auth.cleanup.unlock_account_sql is not set, so its lockout counter could not be reset (give the check an account of its own under auth.accounts)`,
      });
    }
    try {
      seen = await observeIpBlock(ctx, db, client, probe, effective, effect);
    } finally {
      if (effect.started) {
        cleanup.push(
          await runCleanup(db, 'unblock_ip_sql', client.mapping.cleanup?.unblock_ip_sql, params.source_address),
        );
        // The wrong passwords for the real account count towards its lockout: the next run starts from zero.
        if (knownFailures > 0) {
          cleanup.push(
            await runCleanup(db, 'unlock_account_sql', client.mapping.cleanup?.unlock_account_sql, probe.username),
          );
        }
      }
    }
    const outcome = judgeIpBlock(seen, { ...effective, blockedKinds });
    outcome.observations.push(...cleanup);
    return outcome;
  },
});
