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
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { defineCheck, type HttpResponse, type Observation } from '../../src/engine/types.js';
import {
  databaseNow,
  eventRowJson,
  failureEventsSince,
  ipBlocksSince,
  runCleanup,
} from '../../src/probes/auth-audit.js';
import {
  createAuthClient,
  describeResponse,
  probeValue,
  type RequestRoute,
  resolveAccount,
  resolveEventTypes,
} from '../../src/probes/auth-client.js';
import { brokenNotes, errorOutcome, verdict } from '../outcome.js';
import { accountParam, eventTypesParam, sourceAddress } from './params.js';

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
  params: z
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
    .strict(),
  strength: { threshold: 'lower' },
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
    const blockedRoute: RequestRoute = { localAddress: params.source_address };
    const observations: Observation[] = [];
    let effectStarted = false;
    try {
      const since = await databaseNow(db);
      // Independent of the block, so started now and awaited later: a valid token from the default
      // address (to show that even valid credentials are stopped), and the forwarded-header sub-test.
      const tokenPromise = probe.totp_secret
        ? client.obtainTokens(probe).then(
            (pair) => pair.accessToken,
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
      // Judged by behaviour, not by a table layout: an address refused already cannot show a fresh block.
      const before = await client.get(healthPath, blockedRoute);
      if (before.status === params.blocked_status) {
        await Promise.allSettled([tokenPromise, forwardedPromise]);
        return errorOutcome(
          ctx,
          `a fresh block: ${params.source_address} already gets ${before.status} on ${healthPath} before the check; lift it (auth.cleanup.unblock_ip_sql) or wait for it to expire`,
          undefined,
        );
      }

      // Ready before the failures, so that the probes go out the moment the block must hold.
      const token = await tokenPromise;
      const challenge = challengePromise ? await challengePromise : undefined;
      effectStarted = true;
      const usernames = Array.from({ length: params.usernames }, () => probeValue('secgate-unknown'));
      const failures = await Promise.all(
        Array.from({ length: params.threshold + 1 }, (_, index) =>
          client.login(usernames[index % usernames.length] ?? 'secgate-unknown', probeValue('wrong'), blockedRoute),
        ),
      );
      observations.push({
        probe: `${params.threshold + 1} failed logins from ${params.source_address} across ${params.usernames} usernames`,
        actual: failures.map((answer) => answer.response.status),
        note: 'the failures that must trigger the block',
      });

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
      const afterBlock = await databaseNow(db);
      const blockedResponses = await Promise.all(blockedProbes.map((blockedProbe) => blockedProbe.send()));
      for (const [index, blockedProbe] of blockedProbes.entries()) {
        const response = blockedResponses[index];
        if (!response) continue;
        const ok = response.status === params.blocked_status;
        observations.push({
          probe: blockedProbe.probe,
          expected: { status: params.blocked_status },
          actual: describeResponse(ctx, response),
          ok,
          note: ok
            ? 'refused by the block'
            : `blocked address not refused: ${blockedProbe.probe.split(' from ')[0]} answered ${response.status}, expected ${params.blocked_status}`,
        });
      }
      const blocks = (await ipBlocksSince(db, client.mapping, since)).filter((row) => row.ip === params.source_address);
      observations.push({
        probe: `SELECT from ${client.mapping.tables.ip_blocks} WHERE ip = ${params.source_address} AND blocked_at >= ${since}`,
        expected: { rows_at_least: 1 },
        actual: {
          rows: blocks.length,
          blocks: blocks.map((row) => ({ ip_address: row.ip, blocked_at: row.blockedAt, expires_at: row.expiresAt })),
        },
        ok: blocks.length > 0,
        note:
          blocks.length > 0
            ? `${params.source_address} is blocked`
            : `no ip_blocks row for ${params.source_address} after ${params.threshold + 1} failures`,
      });

      // Only the block's own row may be written for a blocked request: any other failure type means auth ran.
      const authRowsAfterBlock = (await failureEventsSince(db, client.mapping, afterBlock)).filter(
        (row) => row.ip === params.source_address && !blockedKinds.includes(row.eventType),
      );
      const authTypes = [...new Set(authRowsAfterBlock.map((row) => row.eventType))];
      observations.push({
        probe: `SELECT from ${client.mapping.tables.failure_events} WHERE ip = ${params.source_address} AND event_type NOT IN (${blockedKinds.join(', ')}) AND created_at >= ${afterBlock}`,
        expected: { rows: 0 },
        actual: { rows: authRowsAfterBlock.length, events: authRowsAfterBlock.slice(0, 10).map(eventRowJson) },
        ok: authRowsAfterBlock.length === 0,
        note:
          authRowsAfterBlock.length === 0
            ? 'no auth logic ran for the blocked address'
            : `auth logic ran for the blocked address before it was refused: ${authRowsAfterBlock.length} failure rows (${authTypes.join(', ')}) written after the block`,
      });

      // The forwarded-header sub-test: an ordinary client may not choose the address it is recorded under.
      const forwarded = await forwardedPromise;
      const forwardedRows = (await failureEventsSince(db, client.mapping, since)).filter(
        (row) => row.username === forwardedUser,
      );
      const addresses = forwardedRows.map((row) => row.ip);
      const recordedReal =
        addresses.length > 0 && addresses.every((address) => address === params.untrusted_source_address);
      observations.push({
        probe: `POST ${client.mapping.login.path} from ${params.untrusted_source_address} with X-Forwarded-For: ${params.forwarded_address}`,
        expected: { ip_address: params.untrusted_source_address },
        actual: { status: forwarded.response.status, recorded_ip_addresses: addresses },
        ok: recordedReal,
        note: recordedReal
          ? 'the untrusted header was ignored'
          : addresses.includes(params.forwarded_address)
            ? `failure recorded under the X-Forwarded-For address ${params.forwarded_address}, not the real ${params.untrusted_source_address}: a client can choose which address gets blocked`
            : `no failure row under ${params.untrusted_source_address} for the forwarded-header login (recorded: ${addresses.join(', ') || 'none'})`,
      });
    } catch (error) {
      return errorOutcome(ctx, 'the IP block', error, observations);
    } finally {
      if (effectStarted) {
        observations.push(
          await runCleanup(db, 'unblock_ip_sql', client.mapping.cleanup?.unblock_ip_sql, params.source_address),
        );
      }
    }
    return verdict(
      observations,
      `${params.source_address} blocked at once after ${params.threshold + 1} failures; login (right and wrong password), ${client.mapping.me_path} (valid and garbage token), a wrong TOTP code and ${healthPath} got ${params.blocked_status} without auth work; X-Forwarded-For from a client was ignored`,
      brokenNotes(observations),
    );
  },
});
