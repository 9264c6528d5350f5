import { describe, expect, it } from 'vitest';
import { stepOf, TotpLedger } from '../../src/probes/totp-ledger.js';

/** A clock that only moves when slept on: the ledger's waits are seen, never spent. */
function manualClock(startMs: number) {
  let now = startMs;
  const slept: number[] = [];
  return {
    slept,
    now: () => new Date(now),
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
  };
}

const inStep = (step: number, offsetMs = 5_000) => step * 30_000 + offsetMs;

describe('TotpLedger', () => {
  it('gives the first claim of an account its step, and a later step freely', async () => {
    const clock = manualClock(inStep(100));
    const ledger = new TotpLedger();
    const first = await ledger.claim('svc alice', clock);
    expect(first).toMatchObject({ step: 100, spent: false });
    const other = await ledger.claim('svc bob', clock);
    expect(other).toMatchObject({ step: 100, spent: false });
    await clock.sleep(30_000);
    expect(await ledger.claim('svc alice', clock)).toMatchObject({ step: 101, spent: false });
    expect(clock.slept).toEqual([30_000]);
  });

  it('tries a spent step once; accepted, nobody waits again', async () => {
    const clock = manualClock(inStep(100));
    const ledger = new TotpLedger();
    (await ledger.claim('svc alice', clock)).settle(true);
    const trying = await ledger.claim('svc alice', clock);
    expect(trying).toMatchObject({ step: 100, spent: true });
    // A third claim waits for the try's outcome.
    let thirdDone = false;
    const third = ledger.claim('svc alice', clock).then((claim) => {
      thirdDone = true;
      return claim;
    });
    await Promise.resolve();
    expect(thirdDone).toBe(false);
    trying.settle(true);
    expect(await third).toMatchObject({ step: 100, spent: true });
    expect(clock.slept).toEqual([]);
  });

  it('refused, every later claim gets a step of its own and waits for it to begin', async () => {
    const clock = manualClock(inStep(100));
    const ledger = new TotpLedger();
    (await ledger.claim('svc alice', clock)).settle(true);
    (await ledger.claim('svc alice', clock)).settle(false);
    const [a, b] = await Promise.all([ledger.claim('svc alice', clock), ledger.claim('svc alice', clock)]);
    expect([a.step, b.step].sort()).toEqual([101, 102]);
    expect([a.spent, b.spent]).toEqual([false, false]);
    for (const claim of [a, b]) expect(stepOf(claim.stepTime)).toBe(claim.step);
    expect(clock.slept.length).toBe(2);
  });

  it('a try without an outcome (no answer) leaves the question open for the next claim', async () => {
    const clock = manualClock(inStep(100));
    const ledger = new TotpLedger();
    (await ledger.claim('svc alice', clock)).settle(true);
    (await ledger.claim('svc alice', clock)).settle(undefined);
    expect(await ledger.claim('svc alice', clock)).toMatchObject({ step: 100, spent: true });
  });
});
