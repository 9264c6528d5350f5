/**
 * auth.lockout: after N wrong passwords the correct one is refused with the
 * wrong-password answer itself (status, body and headers: answer-shape.ts),
 * and every attempt is audited. The lock is the account's, not the address's
 * or the spelling's: the correct password is also sent from a second address
 * and under the username in another case, and neither may get in. Probing
 * (observeLockout) gathers a typed observation; judgeLockout is pure.
 */
import { z } from 'zod';
import type { AccountConfig } from '../../src/engine/checklist/schema.js';
import {
  type CheckContext,
  type CheckOutcome,
  type DatabaseProbe,
  defineCheck,
  type Observation,
} from '../../src/engine/types.js';
import {
  databaseNow,
  eventRowJson,
  type FailureEventRow,
  failureEventsSince,
  runCleanup,
} from '../../src/probes/auth-audit.js';
import {
  type AuthClient,
  createAuthClient,
  probeValue,
  resolveAccount,
  resolveEventTypes,
} from '../../src/probes/auth-client.js';
import { brokenNotes, errorOutcome, verdict } from '../outcome.js';
import { answerShape, noiseParts, shapeDifference } from './answer-shape.js';
import { accountParam, eventTypesParam, sourceAddressParam } from './params.js';
import { notObserved, partsOf, type ResponseSeen, responseSeen, unobserved } from './seen.js';

export const lockoutParams = z
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
  .strict();
type LockoutParams = z.output<typeof lockoutParams>;

/** What the lockout probe saw: plain data, judged by judgeLockout. */
export interface LockoutSeen {
  username: string;
  loginPath: string;
  /** The audit table and the database time the probe started at. */
  auditTable: string;
  since: string;
  /** Each wrong-password answer: its status and whether it carried an access token. */
  wrongAnswers: { status: number; token: boolean }[];
  /** The first wrong-password answer, the baseline the locked answer must equal. */
  reference: ResponseSeen | undefined;
  /** Every wrong-password answer (hand-made samples may leave it out): what varies per request among them is noise. */
  wrongResponses?: ResponseSeen[];
  /** The answer to the correct password after the wrong ones; `handedOut` is what it granted, if anything. */
  locked: LockedAnswer | undefined;
  /**
   * The correct password again while locked, from another address and under the username in another case;
   * `address` undefined: there was no second address to send from; `username` undefined: no other case.
   */
  elsewhere?: { address: string | undefined; answer: LockedAnswer | undefined };
  caseVariant?: { username: string | undefined; answer: LockedAnswer | undefined; notTried?: string };
  /** The account's audit rows since the start, from every address; undefined when not read. */
  accountRows: FailureEventRow[] | undefined;
  /** Set when something could not be observed: the `error` summary. */
  notSeen?: string;
}

type LockedAnswer = ResponseSeen & { handedOut: 'token' | 'MFA challenge' | undefined };

/** What the judge weighs the observation against: the parameters, and the event types a locked attempt may carry. */
export type LockoutRules = Pick<LockoutParams, 'attempts' | 'source_address'> & { lockedKinds: readonly string[] };

/** Pure: the verdict on one lockout sequence. */
export function judgeLockout(seen: LockoutSeen, rules: LockoutRules): CheckOutcome {
  const { attempts, source_address: address, lockedKinds } = rules;
  const observations: Observation[] = [];
  // A step the probe did not reach is an error even without a reason: the judge fails closed on its own.
  const stop = () => unobserved(seen.notSeen ?? 'could not observe the lockout behaviour', observations);
  const reference = seen.reference;
  if (!reference) return stop();
  const wrongAnswersOk = seen.wrongAnswers.every((answer) => answer.status === reference.status && !answer.token);
  observations.push({
    probe: `POST ${seen.loginPath} as ${seen.username} with ${attempts} wrong passwords from ${address ?? 'the default address'}`,
    expected: 'each refused with the same 401',
    actual: seen.wrongAnswers.map((answer) => answer.status),
    ok: wrongAnswersOk,
    note: 'the wrong-password answers, the baseline the locked answer is compared with',
  });
  // The lockout is "N consecutive failures": fewer wrong passwords than the checklist names put nothing to the
  // test (a wrong password answered with a token is a failure however many were sent).
  if (wrongAnswersOk && seen.wrongAnswers.length !== attempts) return stop();
  observations.push({ probe: 'wrong-password response (baseline)', actual: reference.shown });
  const locked = seen.locked;
  if (!locked) return stop();
  const gotCredential = locked.handedOut !== undefined;
  observations.push({
    probe: `POST ${seen.loginPath} as ${seen.username} with the correct password after ${attempts} wrong ones`,
    expected: { token_or_mfa_challenge: false },
    actual: { token_or_mfa_challenge: gotCredential, response: locked.shown },
    ok: !gotCredential,
    note: gotCredential
      ? `account not locked: the correct password after ${attempts} wrong ones was accepted (${locked.status} with a ${locked.handedOut})`
      : 'the correct password was refused during lockout',
  });
  // Both answers are whole: the auth client refuses a cut one (AuthFlowError) before it gets here. What varies
  // among the wrong-password answers themselves (a per-request id) is noise; everything else must be equal.
  const noise = noiseParts([(seen.wrongResponses ?? [reference]).map(partsOf), [partsOf(locked)]]);
  const referenceShape = answerShape(partsOf(reference), noise);
  const lockedShape = answerShape(partsOf(locked), noise);
  const withoutHeaders = (shape: string) => shape.replace(/^header:.*$\n?/gm, '');
  const sameAnswer = lockedShape === referenceShape;
  observations.push({
    probe: 'locked response compared with the wrong-password response (status, headers, body)',
    expected: reference.shown,
    actual: locked.shown,
    ok: sameAnswer,
    note: sameAnswer
      ? `identical status, headers and body${noise.size ? ` (apart from what differs between any two answers: ${[...noise].join(', ')})` : ''}: the lockout is not observable`
      : withoutHeaders(lockedShape) !== withoutHeaders(referenceShape)
        ? `locked response differs from the wrong-password response: ${locked.status} ${locked.body.slice(0, 120)} instead of ${reference.status} ${reference.body.slice(0, 120)}`
        : `locked response differs from the wrong-password response in its headers: ${shapeDifference(lockedShape, referenceShape)}`,
  });
  const stillLocked = (what: string, answer: LockedAnswer | undefined, notTried: string | undefined) => {
    if (notTried !== undefined) {
      observations.push({ probe: what, note: `not tried: ${notTried}` });
      return;
    }
    if (!answer) return;
    const gotIn = answer.handedOut !== undefined;
    observations.push({
      probe: what,
      expected: { token_or_mfa_challenge: false },
      actual: { token_or_mfa_challenge: gotIn, response: answer.shown },
      ok: !gotIn,
      note: gotIn
        ? `lockout bypassed: ${what.replace(/^POST \S+ /, '')} was accepted (${answer.status} with a ${answer.handedOut})`
        : 'refused: the lock holds',
    });
  };
  if (seen.elsewhere) {
    stillLocked(
      `POST ${seen.loginPath} as ${seen.username} with the correct password from ${seen.elsewhere.address ?? 'a second address'} during lockout`,
      seen.elsewhere.answer,
      seen.elsewhere.address === undefined
        ? 'no second source address (list some in target.source_addresses)'
        : undefined,
    );
  }
  if (seen.caseVariant) {
    stillLocked(
      `POST ${seen.loginPath} as ${seen.caseVariant.username ?? seen.username} (another case) with the correct password during lockout`,
      seen.caseVariant.answer,
      seen.caseVariant.notTried ??
        (seen.caseVariant.username === undefined ? 'the username has no letters to change the case of' : undefined),
    );
  }
  const accountRows = seen.accountRows;
  if (!accountRows) return stop();
  const rows = accountRows.filter((row) => address === null || row.ip === address);
  const otherAddresses = [...new Set(accountRows.filter((row) => !rows.includes(row)).map((row) => row.ip))];
  const expectedRows = attempts + 1;
  observations.push({
    probe: `SELECT from ${seen.auditTable} WHERE username = ${seen.username}${address ? ` AND ip = ${address}` : ''} AND created_at >= ${seen.since}`,
    expected: { rows_at_least: expectedRows },
    actual: { rows: rows.length, events: rows.slice(0, 20).map(eventRowJson) },
    ok: rows.length >= expectedRows,
    note:
      rows.length >= expectedRows
        ? 'one audit row per attempt'
        : `audit rows missing: ${rows.length} of ${expectedRows} attempts have an auth_failure_events row${
            otherAddresses.length
              ? ` under ${address}; ${accountRows.length - rows.length} rows carry ${otherAddresses.join(', ')} instead`
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
  if (seen.notSeen !== undefined) return unobserved(seen.notSeen, observations);
  return verdict(
    observations,
    `${seen.username} locked after ${attempts} wrong passwords, refused with the identical 401${lockHeldWhere(seen)}, ${attempts + 1} attempts audited`,
    brokenNotes(observations),
  );
}

/** The summary's note of where else the lock was tried: only what was tried. */
function lockHeldWhere(seen: LockoutSeen): string {
  const places = [
    ...(seen.elsewhere?.answer && seen.elsewhere.address ? [`from ${seen.elsewhere.address}`] : []),
    ...(seen.caseVariant?.answer && seen.caseVariant.username ? [`as ${seen.caseVariant.username}`] : []),
  ];
  return places.length ? ` (also ${places.join(' and ')})` : '';
}

/** Pure: the username with the case of its letters changed (the first letter upper, the rest as they are), or undefined. */
export function otherCase(username: string): string | undefined {
  const upper = username.toUpperCase();
  if (upper !== username) return username.replace(/[a-z]/, (letter) => letter.toUpperCase());
  const lower = username.toLowerCase();
  return lower !== username ? lower : undefined;
}

/**
 * Probe: N wrong passwords, the correct one (also from a second address and in another case), then the
 * account's audit rows.
 * Sets `effect.started` once the account may be locked, so the caller unlocks it.
 */
async function observeLockout(
  ctx: CheckContext,
  db: DatabaseProbe,
  client: AuthClient,
  account: AccountConfig,
  params: LockoutParams,
  effect: { started: boolean },
): Promise<LockoutSeen> {
  const route = { localAddress: params.source_address ?? undefined };
  const locking = (answer: Awaited<ReturnType<AuthClient['login']>>): LockedAnswer => ({
    ...responseSeen(ctx, answer.response),
    handedOut: answer.accessToken ? 'token' : answer.mfaChallenge || answer.mfaRequired ? 'MFA challenge' : undefined,
  });
  const seen: LockoutSeen = {
    username: account.username,
    loginPath: client.mapping.login.path,
    auditTable: client.mapping.tables.failure_events,
    since: '',
    wrongAnswers: [],
    reference: undefined,
    locked: undefined,
    accountRows: undefined,
  };
  try {
    seen.since = await databaseNow(db);
    effect.started = true;
    const wrongAnswers = [];
    for (let attempt = 0; attempt < params.attempts; attempt++) {
      // Sequential on purpose: the control is "N consecutive failures".
      wrongAnswers.push(await client.login(account.username, probeValue('wrong'), route));
    }
    const reference = wrongAnswers[0]?.response;
    if (!reference) return { ...seen, notSeen: notObserved(ctx, 'a wrong-password response', undefined) };
    seen.wrongAnswers = wrongAnswers.map((answer) => ({
      status: answer.response.status,
      token: Boolean(answer.accessToken),
    }));
    seen.reference = responseSeen(ctx, reference);
    seen.wrongResponses = wrongAnswers.map((answer) => responseSeen(ctx, answer.response));

    seen.locked = locking(await client.login(account.username, account.password, route));
    // The lock must be the account's: a service that counts per address, or per spelling of the name, lets a
    // distributed guesser in. Both attempts come from one pool address (two requests that may count as failures).
    const second = await ctx.addresses.reserve(2);
    const elsewhere = second !== undefined && second !== params.source_address ? second : undefined;
    seen.elsewhere = {
      address: elsewhere,
      answer: elsewhere
        ? locking(await client.login(account.username, account.password, { localAddress: elsewhere }))
        : undefined,
    };
    const variant = otherCase(account.username);
    // From the pool address only: the check's own address already carries N + 1 failures of this run.
    seen.caseVariant =
      variant && second === undefined
        ? {
            username: variant,
            answer: undefined,
            notTried: 'no second source address to send it from (list some in target.source_addresses)',
          }
        : {
            username: variant,
            answer: variant
              ? locking(await client.login(variant, account.password, { localAddress: second }))
              : undefined,
          };
    seen.accountRows = (await failureEventsSince(db, client.mapping, seen.since)).filter(
      (row) => row.username === account.username,
    );
  } catch (error) {
    seen.notSeen = notObserved(ctx, 'the lockout behaviour', error);
  }
  return seen;
}

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
  params: lockoutParams,
  strength: { attempts: 'lower' },
  probeAddresses: (params) => [params.source_address],
  requires: (params) => [`account:${params.account}`, 'database'],
  async run(ctx, params) {
    const client = createAuthClient(ctx);
    const account = resolveAccount(client.mapping, params.account);
    if (!account) return errorOutcome(ctx, `lockout: the checklist gives no account ${params.account}`, undefined);
    const lockedKinds = resolveEventTypes(client.mapping, params.event_types).locked_account;
    const db = ctx.db;
    if (!db) return errorOutcome(ctx, 'the audit rows: the checklist names no database', undefined);
    const effect = { started: false };
    let seen: LockoutSeen;
    let cleanup: Observation | undefined;
    try {
      seen = await observeLockout(ctx, db, client, account, params, effect);
    } finally {
      if (effect.started) {
        cleanup = await runCleanup(
          db,
          'unlock_account_sql',
          client.mapping.cleanup?.unlock_account_sql,
          account.username,
        );
      }
    }
    const outcome = judgeLockout(seen, {
      attempts: params.attempts,
      source_address: params.source_address,
      lockedKinds,
    });
    if (cleanup) outcome.observations.push(cleanup);
    return outcome;
  },
});
