import { z } from 'zod';
import { defineCheck, type Observation } from '../../src/engine/types.js';
import { databaseNow, eventRowJson, failureEventsSince, runCleanup } from '../../src/probes/auth-audit.js';
import {
  createAuthClient,
  describeResponse,
  probeValue,
  resolveAccount,
  resolveEventTypes,
} from '../../src/probes/auth-client.js';
import { brokenNotes, errorOutcome, verdict } from '../outcome.js';
import { accountParam, eventTypesParam, sourceAddressParam } from './params.js';

export default defineCheck({
  id: 'auth.lockout',
  title:
    'After N wrong passwords the account is locked: the correct password gets the same 401, and every attempt is audited',
  source: 'control A2 (docs/controls.md#A2): Account lockout',
  docs: 'docs/controls.md#A2',
  remediation:
    'Count consecutive failures per account atomically in SQL and refuse logins during a cooldown with the exact wrong-password 401; write one auth_failure_events row on every rejection path, including the locked one.',
  rationale: 'Without lockout a credential-stuffing script tries passwords indefinitely against one account.',
  effects: 'locks-account',
  slow: true,
  severity: 'high',
  params: z
    .object({
      attempts: z
        .number()
        .int()
        .min(1)
        .max(50)
        .default(5)
        .describe("wrong passwords sent before the correct one (the service's lockout threshold)"),
      account: accountParam('probe_account'),
      source_address: sourceAddressParam('127.0.0.8'),
      event_types: eventTypesParam(),
    })
    .strict(),
  strength: { attempts: 'lower' },
  probeAddresses: (params) => [params.source_address],
  requires: (params) => [`account:${params.account}`, 'database'],
  async run(ctx, params) {
    const client = createAuthClient(ctx);
    const account = resolveAccount(client.mapping, params.account);
    if (!account) return errorOutcome(ctx, `lockout: the checklist gives no account ${params.account}`, undefined);
    const lockedKinds = resolveEventTypes(client.mapping, params.event_types).locked_account;
    if (!ctx.db) return errorOutcome(ctx, 'the audit rows: the checklist names no database', undefined);
    const route = { localAddress: params.source_address ?? undefined };
    const observations: Observation[] = [];
    let effectStarted = false;
    try {
      const since = await databaseNow(ctx.db);
      effectStarted = true;
      const wrongAnswers = [];
      for (let attempt = 0; attempt < params.attempts; attempt++) {
        // Sequential on purpose: the control is "N consecutive failures".
        wrongAnswers.push(await client.login(account.username, probeValue('wrong'), route));
      }
      const reference = wrongAnswers[0]?.response;
      if (!reference) return errorOutcome(ctx, 'a wrong-password response', undefined);
      observations.push({
        probe: `POST ${client.mapping.login.path} as ${account.username} with ${params.attempts} wrong passwords from ${params.source_address ?? 'the default address'}`,
        expected: 'each refused with the same 401',
        actual: wrongAnswers.map((answer) => answer.response.status),
        ok: wrongAnswers.every((answer) => answer.response.status === reference.status && !answer.accessToken),
        note: 'the wrong-password answers, the baseline the locked answer is compared with',
      });
      observations.push({ probe: 'wrong-password response (baseline)', actual: describeResponse(ctx, reference) });

      const locked = await client.login(account.username, account.password, route);
      const gotCredential = Boolean(locked.accessToken || locked.mfaChallenge || locked.mfaRequired);
      observations.push({
        probe: `POST ${client.mapping.login.path} as ${account.username} with the correct password after ${params.attempts} wrong ones`,
        expected: { token_or_mfa_challenge: false },
        actual: { token_or_mfa_challenge: gotCredential, response: describeResponse(ctx, locked.response) },
        ok: !gotCredential,
        note: gotCredential
          ? `account not locked: the correct password after ${params.attempts} wrong ones was accepted (${locked.response.status} with a ${locked.accessToken ? 'token' : 'MFA challenge'})`
          : 'the correct password was refused during lockout',
      });
      // Both answers are whole: the auth client refuses a cut one (AuthFlowError) before it gets here.
      const sameAnswer = locked.response.status === reference.status && locked.response.body === reference.body;
      observations.push({
        probe: 'locked response compared with the wrong-password response',
        expected: describeResponse(ctx, reference),
        actual: describeResponse(ctx, locked.response),
        ok: sameAnswer,
        note: sameAnswer
          ? 'identical status and body: the lockout is not observable'
          : `locked response differs from the wrong-password response: ${locked.response.status} ${ctx.secrets.redact(locked.response.body).slice(0, 120)} instead of ${reference.status} ${ctx.secrets.redact(reference.body).slice(0, 120)}`,
      });

      const accountRows = (await failureEventsSince(ctx.db, client.mapping, since)).filter(
        (row) => row.username === account.username,
      );
      const rows = accountRows.filter((row) => params.source_address === null || row.ip === params.source_address);
      const otherAddresses = [...new Set(accountRows.filter((row) => !rows.includes(row)).map((row) => row.ip))];
      const expectedRows = params.attempts + 1;
      observations.push({
        probe: `SELECT from ${client.mapping.tables.failure_events} WHERE username = ${account.username}${params.source_address ? ` AND ip = ${params.source_address}` : ''} AND created_at >= ${since}`,
        expected: { rows_at_least: expectedRows },
        actual: { rows: rows.length, events: rows.slice(0, 20).map(eventRowJson) },
        ok: rows.length >= expectedRows,
        note:
          rows.length >= expectedRows
            ? 'one audit row per attempt'
            : `audit rows missing: ${rows.length} of ${expectedRows} attempts have an auth_failure_events row${
                otherAddresses.length
                  ? ` under ${params.source_address}; ${accountRows.length - rows.length} rows carry ${otherAddresses.join(', ')} instead`
                  : ''
              }`,
      });
      const lockedRows = rows.filter((row) => lockedKinds.includes(row.eventType));
      observations.push({
        probe: `audit row of the attempt during lockout (event_type ${lockedKinds.join(' or ')})`,
        expected: { rows_at_least: 1 },
        actual: { rows: lockedRows.length },
        ok: lockedRows.length >= 1,
        note:
          lockedRows.length >= 1
            ? 'the locked attempt is audited'
            : `no ${lockedKinds.join(' or ')} row for the attempt during lockout`,
      });
    } catch (error) {
      return errorOutcome(ctx, 'the lockout behaviour', error, observations);
    } finally {
      if (effectStarted && ctx.db) {
        observations.push(
          await runCleanup(ctx.db, 'unlock_account_sql', client.mapping.cleanup?.unlock_account_sql, account.username),
        );
      }
    }
    return verdict(
      observations,
      `${account.username} locked after ${params.attempts} wrong passwords, refused with the identical 401, ${params.attempts + 1} attempts audited`,
      brokenNotes(observations),
    );
  },
});
