/** Tiny checks that exercise the engine without any network. */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineCheck } from '../../src/engine/types.js';

const meta = {
  source: 'secgate engine test',
  remediation: 'nothing to fix: this is a test check',
};

export const passingCheck = defineCheck({
  ...meta,
  id: 'sample.passing',
  title: 'A check that always observes a healthy value',
  effects: 'none',
  params: z.object({ threshold: z.number().int().min(1).default(5) }).strict(),
  async run(_ctx, params) {
    return {
      status: 'pass',
      summary: 'fine',
      observations: [{ probe: 'constant', expected: params.threshold, actual: params.threshold, ok: true }],
    };
  },
});

export const failingCheck = defineCheck({
  ...meta,
  id: 'sample.failing',
  title: 'A check that always observes a broken value',
  effects: 'none',
  params: z.object({}).strict(),
  async run() {
    return {
      status: 'fail',
      summary: 'broken',
      observations: [{ probe: 'constant', expected: 1, actual: 2, ok: false }],
    };
  },
});

/** How many times a hanging check was cancelled through its signal: proof that the engine stops what it gives up on. */
export const hangingCheckCancellations = { count: 0 };

export const hangingCheck = defineCheck({
  ...meta,
  id: 'sample.hanging',
  title: 'A check that never answers unless cancelled',
  effects: 'none',
  params: z.object({}).strict(),
  async run(ctx) {
    await sleep(3_600_000, undefined, { signal: ctx.signal }).catch(() => {
      hangingCheckCancellations.count += 1;
    });
    return { status: 'pass', summary: 'should never be seen', observations: [{ probe: 'late', ok: true }] };
  },
});

export const throwingCheck = defineCheck({
  ...meta,
  id: 'sample.throwing',
  title: 'A check whose probe throws',
  effects: 'none',
  params: z.object({}).strict(),
  async run() {
    throw new Error('connect ECONNREFUSED 127.0.0.1:1');
  },
});

export const silentPassCheck = defineCheck({
  ...meta,
  id: 'sample.silent-pass',
  title: 'A check that claims a pass with no evidence',
  effects: 'none',
  params: z.object({}).strict(),
  async run() {
    return { status: 'pass', summary: 'trust me', observations: [] };
  },
});

export const lockingCheck = defineCheck({
  ...meta,
  id: 'sample.locking',
  title: 'A check with side effects on the target',
  effects: 'locks-account',
  params: z.object({ attempts: z.number().int().min(1).default(5) }).strict(),
  async run() {
    return { status: 'pass', summary: 'locked and unlocked', observations: [{ probe: 'lock', ok: true }] };
  },
});

/**
 * Checks that sign in with an account (`account` parameter) and record when they ran, for the scheduler's
 * tests: `sample.account-lock` locks it, `sample.account-use` only uses it. Each waits for `hold` to settle.
 */
export const accountTimeline: string[] = [];
export const accountGates = new Map<string, Promise<void>>();
function accountCheck(id: string, effects: 'locks-account' | 'none') {
  return defineCheck({
    ...meta,
    id,
    title: 'A check that signs in with one account',
    effects,
    params: z.object({ account: z.string().default('probe_account'), label: z.string() }).strict(),
    requires: (params) => [`account:${params.account}`],
    async run(_ctx, params) {
      accountTimeline.push(`start ${params.label}`);
      await accountGates.get(params.label);
      accountTimeline.push(`end ${params.label}`);
      return { status: 'pass', summary: 'ran', observations: [{ probe: 'ran', ok: true }] };
    },
  });
}
export const accountLockingCheck = accountCheck('sample.account-lock', 'locks-account');
export const accountUsingCheck = accountCheck('sample.account-use', 'none');

/** A careless check: its probe error quotes an environment value (as a library error might quote a key). */
export const envEchoingCheck = defineCheck({
  ...meta,
  id: 'sample.env-echo',
  title: 'A check whose error message quotes an environment variable',
  effects: 'none',
  params: z.object({ name: z.string() }).strict(),
  // Declared, as every variable a check reads must be: ctx.env holds nothing else.
  requires: (params) => [`env:${params.name}`],
  async run(ctx, params) {
    throw new Error(`could not parse key ${ctx.env[params.name] ?? '(unset)'}`);
  },
});

export const sampleRegistry = [
  passingCheck,
  failingCheck,
  hangingCheck,
  throwingCheck,
  silentPassCheck,
  lockingCheck,
  envEchoingCheck,
];
