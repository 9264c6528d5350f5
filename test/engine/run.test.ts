import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { declaredEnv } from '../../src/engine/check-env.js';
import type { PlannedEntry } from '../../src/engine/checklist/load.js';
import { type OpenContext, openCheckContext } from '../../src/engine/context.js';
import {
  applyWaiver,
  type CheckResult,
  claimsCollide,
  claimsOf,
  exitCodeFor,
  judgeOutcome,
  planRun,
  runChecks,
  startOrder,
} from '../../src/engine/run.js';
import { type CheckDefinition, defineCheck } from '../../src/engine/types.js';
import { plannedEntry } from '../support/engine-run.js';
import {
  accountGates,
  accountLockingCheck,
  accountTimeline,
  accountUsingCheck,
  failingCheck,
  hangingCheck,
  hangingCheckCancellations,
  lockingCheck,
  passingCheck,
  silentPassCheck,
  throwingCheck,
} from './sample-checks.js';

function entry(check: CheckDefinition, id = check.id, timeoutMs = 5_000): PlannedEntry {
  return { id, check, params: check.params.parse({}), timeoutMs };
}

let opened: OpenContext | undefined;
async function context(signal?: AbortSignal) {
  opened = await openCheckContext({ target: { url: 'https://127.0.0.1:1' }, ...(signal ? { signal } : {}) });
  return opened.context;
}
afterEach(async () => {
  await opened?.close();
});

describe('planning', () => {
  it('selects with --only and --skip by entry id or check id', () => {
    const entries = [entry(passingCheck), entry(failingCheck), entry(lockingCheck)];
    expect(planRun(entries, ['sample.failing']).deselected.map((item) => item.id)).toEqual([
      'sample.passing',
      'sample.locking',
    ]);
    expect(planRun(entries, [], ['sample.locking']).selected.map((item) => item.id)).toEqual([
      'sample.passing',
      'sample.failing',
    ]);
  });

  const withParams = (check: CheckDefinition, params: Record<string, unknown>, id = check.id): PlannedEntry => ({
    id,
    check,
    params: check.params.parse(params),
    timeoutMs: 5_000,
  });
  it.each([
    ['an observing check holds nothing', entry(passingCheck), []],
    [
      'an observing check shares the account it signs in with',
      withParams(accountUsingCheck, { label: 'a' }),
      [{ key: 'account:probe_account', exclusive: false }],
    ],
    [
      'a locking check holds its account alone',
      withParams(accountLockingCheck, { account: 'lockout', label: 'a' }),
      [{ key: 'account:lockout', exclusive: true }],
    ],
    ['an effectful check that names nothing holds everything', entry(lockingCheck), [{ key: '*', exclusive: true }]],
  ])('claims: %s', (_name, planned, claims) => {
    expect(claimsOf(planned)).toEqual(claims);
  });

  it('an observing check that binds an address shares it, so it never runs beside a check that gets it blocked', () => {
    const observing = plannedEntry('logs.no-credentials', { log_file: 'service.log', source_address: '127.0.0.9' });
    const blocking = plannedEntry('auth.ip-block', { account: 'probe_account', source_address: '127.0.0.9' });
    expect(claimsOf(observing)).toEqual([{ key: 'address:127.0.0.9', exclusive: false }]);
    expect(claimsCollide(claimsOf(observing), claimsOf(blocking))).toBe(true);
    const elsewhere = plannedEntry('logs.no-credentials', { log_file: 'service.log', source_address: '127.0.0.30' });
    expect(claimsCollide(claimsOf(elsewhere), claimsOf(blocking))).toBe(false);
  });

  it('claims an account by its username: two names for one account are one claim', () => {
    const usernames: Record<string, string> = { probe_account: 'secgate-probe', lockout: 'secgate-probe' };
    const lock = claimsOf(
      withParams(accountLockingCheck, { account: 'lockout', label: 'a' }),
      (name) => usernames[name],
    );
    const use = claimsOf(withParams(accountUsingCheck, { label: 'b' }), (name) => usernames[name]);
    const oneAccount = ['account', 'secgate-probe'].join(':');
    expect(lock).toEqual([{ key: oneAccount, exclusive: true }]);
    expect(claimsCollide(lock, use)).toBe(true);
  });

  it('claims a username case-folded: two spellings a case-insensitive service takes for one account collide', () => {
    const usernames: Record<string, string> = { probe_account: 'Probe@Example.test', lockout: 'probe@example.TEST' };
    const lock = claimsOf(
      withParams(accountLockingCheck, { account: 'lockout', label: 'a' }),
      (name) => usernames[name],
    );
    const use = claimsOf(withParams(accountUsingCheck, { label: 'b' }), (name) => usernames[name]);
    expect(claimsCollide(lock, use)).toBe(true);
  });

  it.each([
    [[{ key: 'account:a', exclusive: false }], [{ key: 'account:a', exclusive: false }], false],
    [[{ key: 'account:a', exclusive: true }], [{ key: 'account:a', exclusive: false }], true],
    [[{ key: 'account:a', exclusive: true }], [{ key: 'account:b', exclusive: true }], false],
    [[{ key: '*', exclusive: true }], [{ key: 'account:b', exclusive: false }], true],
    [[{ key: '*', exclusive: true }], [], true],
  ])('%j and %j collide: %s', (first, second, expected) => {
    expect(claimsCollide(first, second)).toBe(expected);
  });
});

describe('scheduling by claims', () => {
  const settle = () => {
    const gates = new Map<string, () => void>();
    for (const label of ['use', 'lock', 'other-lock']) {
      accountGates.set(label, new Promise<void>((resolve) => gates.set(label, resolve)));
    }
    return gates;
  };

  it('a check that locks an account waits for the checks using it, and overlaps one that locks another', async () => {
    accountTimeline.length = 0;
    const gates = settle();
    const run = runChecks({
      entries: [
        { id: 'use', check: accountUsingCheck, params: { account: 'probe_account', label: 'use' }, timeoutMs: 60_000 },
        {
          id: 'lock',
          check: accountLockingCheck,
          params: { account: 'probe_account', label: 'lock' },
          timeoutMs: 60_000,
        },
        {
          id: 'other-lock',
          check: accountLockingCheck,
          params: { account: 'lockout', label: 'other-lock' },
          timeoutMs: 60_000,
        },
      ],
      context: await context(),
      signal: new AbortController().signal,
      concurrency: 8,
      waivers: [],
    });
    // Started at once: the user of probe_account and the lock of another account. The lock of probe_account waits.
    await vi.waitFor(() => expect(accountTimeline).toEqual(['start use', 'start other-lock']));
    gates.get('other-lock')?.();
    await vi.waitFor(() => expect(accountTimeline).toContain('end other-lock'));
    expect(accountTimeline).not.toContain('start lock');
    gates.get('use')?.();
    await vi.waitFor(() => expect(accountTimeline).toContain('start lock'));
    gates.get('lock')?.();
    const results = await run;
    expect(results.map((result) => `${result.entry.id}: ${result.status}`)).toEqual([
      'use: pass',
      'lock: pass',
      'other-lock: pass',
    ]);
    expect(accountTimeline.indexOf('start lock')).toBeGreaterThan(accountTimeline.indexOf('end use'));
  });
});

describe('start order: slow checks first', () => {
  const started: string[] = [];
  const recording = (id: string, slow: boolean) =>
    defineCheck({
      id,
      title: id,
      source: 'test',
      remediation: 'none',
      effects: 'none',
      ...(slow ? { slow: true } : {}),
      params: z.object({}).strict(),
      async run() {
        started.push(id);
        return { status: 'pass', summary: 'ok', observations: [{ probe: id, ok: true }] };
      },
    });

  it('offers slow checks first, each group in checklist order', () => {
    const order = startOrder([
      { id: 'a', check: { slow: false } },
      { id: 'b', check: { slow: true } },
      { id: 'c', check: {} },
      { id: 'd', check: { slow: true } },
    ]);
    expect(order.map((item) => item.id)).toEqual(['b', 'd', 'a', 'c']);
  });

  it('starts a slow check listed last before the quick ones when only one runs at a time, and reports in checklist order', async () => {
    started.length = 0;
    const results = await runChecks({
      entries: [
        entry(recording('quick.one', false)),
        entry(recording('quick.two', false)),
        entry(recording('slow.one', true)),
      ],
      context: await context(),
      signal: new AbortController().signal,
      concurrency: 1,
      waivers: [],
    });
    expect(started).toEqual(['slow.one', 'quick.one', 'quick.two']);
    expect(results.map((result) => result.entry.id)).toEqual(['quick.one', 'quick.two', 'slow.one']);
  });
});

describe('running', () => {
  it('turns a timeout into an error and cancels the check', async () => {
    const cancelledBefore = hangingCheckCancellations.count;
    const results = await runChecks({
      entries: [entry(hangingCheck, 'sample.hanging', 150), entry(passingCheck)],
      context: await context(),
      signal: new AbortController().signal,
      concurrency: 4,
      waivers: [],
    });
    expect(results.map((result) => result.status)).toEqual(['error', 'pass']);
    expect(results[0]?.outcome.summary).toBe('timed out after 150 ms without reaching a verdict');
    // The check sleeps an hour unless its signal is aborted: the run returning at all shows the engine did not wait.
    await vi.waitFor(() => expect(hangingCheckCancellations.count).toBe(cancelledBefore + 1));
    expect(exitCodeFor(results)).toBe(3);
  });

  it('fails closed: a throwing check and a pass without evidence are errors', async () => {
    const results = await runChecks({
      entries: [entry(throwingCheck), entry(silentPassCheck)],
      context: await context(),
      signal: new AbortController().signal,
      concurrency: 2,
      waivers: [],
    });
    expect(results.map((result) => result.status)).toEqual(['error', 'error']);
    expect(results[0]?.outcome.summary).toContain('ECONNREFUSED');
    expect(results[1]?.outcome.summary).toBe('the check reported pass without any observation');
  });

  it('stops on interruption: running checks end as errors and pending ones are not started', async () => {
    const controller = new AbortController();
    const events: string[] = [];
    const results = await runChecks({
      entries: [entry(hangingCheck, 'sample.hanging', 60_000), entry(lockingCheck)],
      context: await context(controller.signal),
      signal: controller.signal,
      concurrency: 1,
      waivers: [],
      onEvent: (event) => {
        events.push(event.type === 'finished' ? `finished ${event.result.entry.id}` : event.type);
        // The interruption arrives while the first check runs, however slow the machine is.
        if (event.type === 'started') setImmediate(() => controller.abort(new Error('SIGINT')));
      },
    });
    expect(results.map((result) => [result.entry.id, result.status, result.outcome.summary])).toEqual([
      ['sample.hanging', 'error', 'interrupted before reaching a verdict'],
      ['sample.locking', 'error', 'not run: the gate was interrupted'],
    ]);
    expect(events).toEqual(['planned', 'started', 'finished sample.hanging', 'finished sample.locking']);
  });

  it('exit codes: 1 beats 3 beats 0', () => {
    const result = (status: CheckResult['status']) =>
      ({
        status,
        entry: entry(passingCheck),
        outcome: { status: 'pass', summary: '', observations: [] },
        durationMs: 0,
      }) as CheckResult;
    expect(exitCodeFor([result('pass'), result('waived'), result('skip')])).toBe(0);
    expect(exitCodeFor([result('pass'), result('error')])).toBe(3);
    expect(exitCodeFor([result('error'), result('fail')])).toBe(1);
  });
});

describe('the environment a check sees', () => {
  /** Reports the names it sees in ctx.env, and declares one required and one optional variable. */
  const envReadingCheck = defineCheck({
    id: 'sample.env-reader',
    title: 'A check that lists the environment variables it can see',
    source: 'secgate engine test',
    remediation: 'nothing to fix: this is a test check',
    effects: 'none',
    params: z.object({ key_env: z.string(), optional_env: z.string() }).strict(),
    requires: (params) => [`env:${params.key_env}`, `env?:${params.optional_env}`],
    async run(ctx) {
      const names = Object.keys(ctx.env).sort();
      return { status: 'pass', summary: names.join(','), observations: [{ probe: 'ctx.env', actual: names }] };
    },
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('holds only the variables its entry declares, even when the gate has others in process.env', async () => {
    vi.stubEnv('SECGATE_TEST_DECLARED', 'declared-value');
    vi.stubEnv('SECGATE_TEST_UNDECLARED', 'undeclared-value');
    vi.stubEnv('SECGATE_TEST_OPTIONAL_UNSET', undefined);
    // The whole process environment, as `secgate verify` hands it to the engine.
    opened = await openCheckContext({ target: { url: 'https://127.0.0.1:1' }, env: process.env });
    expect(opened.context.env.SECGATE_TEST_UNDECLARED).toBe('undeclared-value');
    const params = envReadingCheck.params.parse({
      key_env: 'SECGATE_TEST_DECLARED',
      optional_env: 'SECGATE_TEST_OPTIONAL_UNSET',
    });
    const [result] = await runChecks({
      entries: [{ id: envReadingCheck.id, check: envReadingCheck, params, timeoutMs: 5_000 }],
      context: opened.context,
      signal: new AbortController().signal,
      concurrency: 1,
      waivers: [],
    });
    expect(result?.status).toBe('pass');
    // Neither the undeclared variable nor PATH, HOME or anything else of the gate's: only the declared one.
    expect(result?.outcome.observations[0]?.actual).toEqual(['SECGATE_TEST_DECLARED']);
  });

  it('takes a declared name only from the environment itself, never from an object prototype', () => {
    expect(declaredEnv(['env?:constructor', 'env:toString', 'database'], {})).toEqual({});
    expect(declaredEnv(['env:A', 'env?:A', 'account:A'], { A: 'a', B: 'b' })).toEqual({ A: 'a' });
  });
});

describe('waivers', () => {
  const failed: CheckResult = {
    entry: entry(failingCheck),
    status: 'fail',
    outcome: { status: 'fail', summary: 'broken', observations: [] },
    durationMs: 1,
  };
  const waiver = { check: 'sample.failing', reason: 'CSP rollout, change CHG-1234', expires: '2026-12-31' };

  it('a valid waiver shows the failure as waived, with its reason', () => {
    const result = applyWaiver(failed, [waiver], new Date('2026-12-31T23:59:59Z'));
    expect(result.status).toBe('waived');
    expect(result.waiver).toEqual({ ...waiver, state: 'applied' });
  });

  it('an expired waiver fails its check and says so', () => {
    const result = applyWaiver(failed, [waiver], new Date('2027-01-01T00:00:00Z'));
    expect(result.status).toBe('fail');
    expect(result.outcome.summary).toBe(
      'waiver expired on 2026-12-31 (CSP rollout, change CHG-1234); check was fail: broken',
    );
    expect(result.waiver?.state).toBe('expired');
  });

  it('an expired waiver fails even a passing check, so stale exceptions are cleaned up', () => {
    const passed: CheckResult = {
      ...failed,
      status: 'pass',
      outcome: { status: 'pass', summary: 'ok', observations: [] },
    };
    expect(applyWaiver(passed, [waiver], new Date('2027-01-02T00:00:00Z')).status).toBe('fail');
  });

  it('errors are never waived', () => {
    const errored: CheckResult = {
      ...failed,
      status: 'error',
      outcome: { status: 'error', summary: 'timeout', observations: [] },
    };
    expect(applyWaiver(errored, [waiver], new Date('2026-06-01T00:00:00Z')).status).toBe('error');
  });
});

describe('judging outcomes', () => {
  it('does not trust a pass whose own evidence says the control is broken', () => {
    const judged = judgeOutcome({
      status: 'pass',
      summary: 'all good',
      observations: [
        { probe: 'a', ok: true },
        { probe: 'b', ok: false },
      ],
    });
    expect(judged.status).toBe('error');
    expect(judged.summary).toBe(
      'the check reported pass, yet 1 of its observations break the control; not trusted: all good',
    );
  });

  it('keeps passes whose evidence agrees, and every non-pass as it is', () => {
    const pass = { status: 'pass' as const, summary: 'ok', observations: [{ probe: 'a', ok: true }, { probe: 'b' }] };
    expect(judgeOutcome(pass)).toBe(pass);
    const fail = { status: 'fail' as const, summary: 'no', observations: [{ probe: 'a', ok: false }] };
    expect(judgeOutcome(fail)).toBe(fail);
  });
});
