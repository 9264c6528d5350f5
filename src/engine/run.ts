/**
 * Plans and runs the checks, in a bounded pool. A check holds claims while it
 * runs — the probe accounts it signs in with (its `account:` requirements) and
 * the addresses it binds (`probeAddresses`) — and a check whose effects change
 * them (locking an account, blocking an address) holds them exclusively. Two
 * checks run at the same time unless their claims collide, so effectful checks
 * overlap with everything that does not share their state instead of waiting
 * for the whole gate. Every check has a deadline; a check that throws, times
 * out or is interrupted ends as `error`, which fails the gate.
 */
import { setMaxListeners } from 'node:events';
import type { WaiverRecord } from '../evidence/types.js';
import { declaredEnv } from './check-env.js';
import type { PlannedEntry } from './checklist/load.js';
import type { Waiver } from './checklist/schema.js';
import { CLEANUP_CHECK_ID, cleanupEntry } from './cleanup.js';
import { errorMessage } from './errors.js';
import { ProbeAddressBlockedError } from './source-addresses.js';
import type { CheckContext, CheckOutcome, FinalStatus } from './types.js';

export const DESELECTED_SUMMARY = 'not selected (--only / --skip)';

export interface CheckResult {
  entry: PlannedEntry;
  status: FinalStatus;
  outcome: CheckOutcome;
  durationMs: number;
  waiver?: WaiverRecord;
}

export type RunEvent =
  | { type: 'planned'; ids: string[] }
  | { type: 'started'; id: string }
  | { type: 'finished'; result: CheckResult };

export interface RunOptions {
  entries: PlannedEntry[];
  context: CheckContext;
  /** Aborted on SIGINT/SIGTERM: running checks are cancelled, pending ones are not started. */
  signal: AbortSignal;
  concurrency: number;
  waivers: Waiver[];
  /** Entry ids to run; all when empty. */
  only?: string[];
  /** Entry ids not to run. */
  skip?: string[];
  onEvent?: (event: RunEvent) => void;
}

export interface RunPlan {
  /** Checks to run, in checklist order; the scheduler starts each as soon as its claims allow. */
  selected: PlannedEntry[];
  /** Checks left out by --only / --skip. */
  deselected: PlannedEntry[];
}

export function planRun(entries: PlannedEntry[], only: string[] = [], skip: string[] = []): RunPlan {
  const isSelected = (entry: PlannedEntry) =>
    entry.alwaysRun === true ||
    ((only.length === 0 || only.includes(entry.id) || only.includes(entry.check.id)) &&
      !skip.includes(entry.id) &&
      !skip.includes(entry.check.id));
  return {
    selected: entries.filter(isSelected),
    deselected: entries.filter((entry) => !isSelected(entry)),
  };
}

/** Shared state a running check holds: `account:<name>`, `address:<ip>`, or `*` (everything). */
export interface Claim {
  key: string;
  exclusive: boolean;
}

/** Claims on everything: an effectful check that does not say what it touches runs alone. */
const EVERYTHING = '*';

/**
 * What a check holds while it runs. Observing checks share the accounts they sign in with; a check that
 * locks accounts or blocks addresses holds its accounts and bound addresses exclusively (and, when it
 * names none, everything). Commands touch none of the service's state.
 */
export function claimsOf(
  entry: PlannedEntry,
  usernameOf: (accountName: string) => string | undefined = () => undefined,
): Claim[] {
  const { effects } = entry.check;
  const exclusive = effects === 'locks-account' || effects === 'blocks-ip';
  // Keyed by the username the name maps to: two names for one account (auth.accounts pointing at the probe
  // account's username) are one account a lock would shut for both. Case-folded, because many services
  // match usernames and e-mail addresses case-insensitively: two spellings may be one account, and a claim
  // too wide only costs concurrency, one too narrow runs a lockout beside the check it locks out.
  const accounts = (entry.check.requires?.(entry.params) ?? [])
    .filter((requirement) => requirement.startsWith('account:'))
    .map((requirement) => {
      const username = usernameOf(requirement.slice('account:'.length));
      return username === undefined ? requirement : `account:${username.toLowerCase()}`;
    });
  const addresses = (entry.check.probeAddresses?.(entry.params) ?? []).filter(
    (address): address is string => typeof address === 'string',
  );
  const claims = [
    ...accounts.map((key) => ({ key, exclusive })),
    // Every bound address, shared by an observing check: its refused requests count towards that address's
    // block, so it must not run beside a check that gets the same address blocked on purpose.
    ...addresses.map((address) => ({ key: `address:${address}`, exclusive })),
  ];
  return exclusive && claims.length === 0 ? [{ key: EVERYTHING, exclusive: true }] : claims;
}

/** Whether two checks may not run at the same time: a shared key that one of them holds exclusively. */
export function claimsCollide(first: readonly Claim[], second: readonly Claim[]): boolean {
  const holdsEverything = (claims: readonly Claim[]) => claims.some((claim) => claim.key === EVERYTHING);
  if (holdsEverything(first) || holdsEverything(second)) return true;
  return first.some((mine) => second.some((theirs) => mine.key === theirs.key && (mine.exclusive || theirs.exclusive)));
}

export async function runChecks(options: RunOptions): Promise<CheckResult[]> {
  // Every running check listens on the run's signal (two listeners each): one signal of the run's own, linked
  // to the caller's, so that neither the caller's signal nor its max-listener warning sees them.
  const runController = new AbortController();
  setMaxListeners(0, runController.signal);
  const forwardAbort = () => runController.abort(options.signal.reason);
  if (options.signal.aborted) forwardAbort();
  else options.signal.addEventListener('abort', forwardAbort, { once: true });
  try {
    return await runLinked({ ...options, signal: runController.signal });
  } finally {
    options.signal.removeEventListener('abort', forwardAbort);
  }
}

async function runLinked(options: RunOptions): Promise<CheckResult[]> {
  const plan = planRun(options.entries, options.only, options.skip);
  const order = plan.selected;
  // Last, after every check: forget the failures the probes provoked (when the checklist says how).
  const cleanupConfigured = Boolean(
    options.context.auth?.cleanup?.forget_address_failures_sql ||
      options.context.auth?.cleanup?.forget_account_failures_sql,
  );
  const cleanupPlanned = cleanupConfigured && order.length > 0;
  options.onEvent?.({
    type: 'planned',
    ids: [...order.map((entry) => entry.id), ...(cleanupPlanned ? [CLEANUP_CHECK_ID] : [])],
  });
  const results = new Map<string, CheckResult>();
  const record = (result: CheckResult) => {
    results.set(result.entry.id, result);
    options.onEvent?.({ type: 'finished', result });
  };

  const started = new Set<string>();
  // Before anything probes: is an address a check binds by itself already blocked by the service?
  const blocked = await blockedProbeAddresses(order, options.context);
  const runOne = async (entry: PlannedEntry) => {
    if (options.signal.aborted) {
      record(notRun(entry, 'not run: the gate was interrupted'));
      return;
    }
    const blockedReason = blocked.get(entry.id);
    if (blockedReason !== undefined) {
      record(notRun(entry, `not run: ${blockedReason}`));
      return;
    }
    started.add(entry.id);
    options.onEvent?.({ type: 'started', id: entry.id });
    const result = await runWithDeadline(entry, options.context, options.signal);
    record(applyWaiver(result, options.waivers, options.context.clock.now()));
  };

  const { auth } = options.context;
  const usernameOf = (name: string) =>
    name === 'probe_account'
      ? auth?.probe_account?.username
      : name === 'no_mfa_account'
        ? auth?.no_mfa_account?.username
        : auth?.accounts?.[name]?.username;
  await runScheduled(order, options.concurrency, usernameOf, runOne);
  // Only the addresses of checks that really probed: a blocked or interrupted one touched nothing.
  const cleanup = cleanupPlanned ? cleanupEntry(order.filter((entry) => started.has(entry.id))) : undefined;
  if (cleanup) await runOne(cleanup);

  for (const entry of plan.deselected) {
    results.set(entry.id, {
      entry,
      status: 'skip',
      outcome: { status: 'skip', summary: DESELECTED_SUMMARY, observations: [] },
      durationMs: 0,
    });
  }
  // Report in checklist order, whatever order they finished in; the cleanup last.
  return [...options.entries, ...(cleanup ? [cleanup] : [])]
    .map((entry) => results.get(entry.id))
    .filter((result) => result !== undefined);
}

/**
 * The pre-flight: each address a check declares (probeAddresses) is asked once
 * whether the service blocks it. Returns, per entry id, why it must not start.
 */
async function blockedProbeAddresses(
  entries: readonly PlannedEntry[],
  context: CheckContext,
): Promise<Map<string, string>> {
  const addressesOf = (entry: PlannedEntry) =>
    (entry.check.probeAddresses?.(entry.params) ?? []).filter(
      (address): address is string => typeof address === 'string',
    );
  const verdicts = new Map<string, Promise<string | undefined>>();
  for (const address of new Set(entries.flatMap(addressesOf))) {
    verdicts.set(
      address,
      context.addresses.ensureUsable(address).then(
        () => undefined,
        (error: unknown) => (error instanceof ProbeAddressBlockedError ? error.message : undefined),
      ),
    );
  }
  const reasons = new Map<string, string>();
  for (const entry of entries) {
    for (const address of addressesOf(entry)) {
      const reason = await verdicts.get(address);
      if (reason !== undefined) {
        reasons.set(entry.id, reason);
        break;
      }
    }
  }
  return reasons;
}

/**
 * The order entries are offered to the scheduler: slow checks first (longest first is what keeps a bounded
 * pool from ending on a slow check that started last), checklist order otherwise.
 */
export function startOrder<Entry extends { check: { slow?: boolean } }>(entries: readonly Entry[]): Entry[] {
  return [...entries.filter((entry) => entry.check.slow), ...entries.filter((entry) => !entry.check.slow)];
}

/**
 * Runs every entry, at most `limit` at once, each as soon as no running entry's claims collide with its own,
 * in start order otherwise (startOrder). Nothing running means nothing collides, so the first waiting entry can
 * always start: the schedule cannot deadlock.
 */
function runScheduled(
  entries: PlannedEntry[],
  limit: number,
  usernameOf: (accountName: string) => string | undefined,
  worker: (entry: PlannedEntry) => Promise<void>,
) {
  const waiting = startOrder(entries).map((entry) => ({ entry, claims: claimsOf(entry, usernameOf) }));
  const running = new Set<(typeof waiting)[number]>();
  return new Promise<void>((resolve, reject) => {
    const startWhatCan = () => {
      for (const candidate of [...waiting]) {
        if (running.size >= limit) break;
        if ([...running].some((other) => claimsCollide(candidate.claims, other.claims))) continue;
        waiting.splice(waiting.indexOf(candidate), 1);
        running.add(candidate);
        worker(candidate.entry).then(() => {
          running.delete(candidate);
          startWhatCan();
        }, reject);
      }
      if (waiting.length === 0 && running.size === 0) resolve();
    };
    startWhatCan();
  });
}

function notRun(entry: PlannedEntry, summary: string): CheckResult {
  return { entry, status: 'error', outcome: { status: 'error', summary, observations: [] }, durationMs: 0 };
}

/** Runs one check with its own abort signal, linked to the run's and to its deadline. */
async function runWithDeadline(
  entry: PlannedEntry,
  baseContext: CheckContext,
  runSignal: AbortSignal,
): Promise<CheckResult> {
  const controller = new AbortController();
  // A check may have dozens of requests in flight, each listening for cancellation.
  setMaxListeners(0, controller.signal);
  const abortFromRun = () => controller.abort(runSignal.reason);
  runSignal.addEventListener('abort', abortFromRun, { once: true });
  const context: CheckContext = {
    ...baseContext,
    // Only the variables this entry names: a check never sees the rest of the gate's environment.
    env: declaredEnv(entry.check.requires?.(entry.params) ?? [], baseContext.env),
    signal: controller.signal,
    http: {
      request: (url, requestOptions = {}) =>
        baseContext.http.request(url, {
          ...requestOptions,
          signal: requestOptions.signal
            ? AbortSignal.any([requestOptions.signal, controller.signal])
            : controller.signal,
        }),
    },
  };
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<CheckOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error('timeout'));
      resolve({
        status: 'error',
        summary: `timed out after ${entry.timeoutMs} ms without reaching a verdict`,
        observations: [{ probe: 'deadline', expected: `verdict within ${entry.timeoutMs} ms`, ok: false }],
      });
    }, entry.timeoutMs);
  });
  const interrupted = new Promise<CheckOutcome>((resolve) => {
    const onAbort = () =>
      resolve({ status: 'error', summary: 'interrupted before reaching a verdict', observations: [] });
    if (runSignal.aborted) onAbort();
    else runSignal.addEventListener('abort', onAbort, { once: true });
  });
  const running = runCheckSafely(entry, context);
  try {
    const outcome = await Promise.race([running, deadline, interrupted]);
    return { entry, status: outcome.status, outcome, durationMs: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
    runSignal.removeEventListener('abort', abortFromRun);
    // Whatever the check still has in flight is cancelled once its verdict is in, and given a
    // moment to close its sockets and child processes before the gate moves on or exits.
    controller.abort(new Error('check finished'));
    await Promise.race([running, sleep(CANCEL_GRACE_MS)]);
  }
}

/** How long a cancelled check gets to release its sockets and child processes. */
const CANCEL_GRACE_MS = 3_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * The engine's own sanity rules on a check's verdict, so that a bug in one
 * check cannot turn into a pass: a pass must carry evidence, and no evidence
 * of a pass may itself say the control was broken.
 */
export function judgeOutcome(outcome: CheckOutcome): CheckOutcome {
  if (outcome.status !== 'pass') return outcome;
  if (outcome.observations.length === 0) {
    return { status: 'error', summary: 'the check reported pass without any observation', observations: [] };
  }
  const broken = outcome.observations.filter((observation) => observation.ok === false);
  if (broken.length > 0) {
    return {
      ...outcome,
      status: 'error',
      summary: `the check reported pass, yet ${broken.length} of its observations break the control; not trusted: ${outcome.summary}`,
    };
  }
  return outcome;
}

/** A check that throws has not observed anything: that is an error, never a pass. */
async function runCheckSafely(entry: PlannedEntry, context: CheckContext): Promise<CheckOutcome> {
  try {
    const outcome = await entry.check.run(context, entry.params);
    return judgeOutcome(outcome);
  } catch (error) {
    const reason = context.secrets.redact(errorMessage(error));
    return {
      status: 'error',
      summary: `the check could not complete: ${reason}`,
      observations: [{ probe: entry.check.id, note: reason, ok: false }],
    };
  }
}

/** End of the waiver's day, UTC. */
export function waiverExpiry(waiver: Waiver): Date {
  return new Date(`${waiver.expires}T23:59:59.999Z`);
}

/**
 * A valid waiver turns a failure into `waived` (shown, never hidden). An
 * expired waiver is itself a failure, whatever the check found, so stale
 * exceptions cannot linger. Errors are never waived: they mean the control was
 * not observed at all.
 */
export function applyWaiver(result: CheckResult, waivers: Waiver[], now: Date): CheckResult {
  const waiver = waivers.find((candidate) => candidate.check === result.entry.id);
  if (!waiver) return result;
  const base = { check: waiver.check, reason: waiver.reason, expires: waiver.expires };
  if (now > waiverExpiry(waiver)) {
    return {
      ...result,
      status: 'fail',
      outcome: {
        ...result.outcome,
        summary: `waiver expired on ${waiver.expires} (${waiver.reason}); check was ${result.outcome.status}: ${result.outcome.summary}`,
      },
      waiver: { ...base, state: 'expired' },
    };
  }
  if (result.status === 'fail') return { ...result, status: 'waived', waiver: { ...base, state: 'applied' } };
  return { ...result, waiver: { ...base, state: 'unused' } };
}

/** Exit code of the gate: 1 if any control failed, else 3 if any check could not decide, else 0. */
export function exitCodeFor(results: readonly Pick<CheckResult, 'status'>[]): 0 | 1 | 3 {
  if (results.some((result) => result.status === 'fail')) return 1;
  if (results.some((result) => result.status === 'error')) return 3;
  return 0;
}
