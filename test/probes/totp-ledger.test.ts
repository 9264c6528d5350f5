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
    first.settle(true);
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

  it('one code at a time while reuse is unknown: a second claim waits for the first answer', async () => {
    const clock = manualClock(inStep(100));
    const ledger = new TotpLedger();
    const first = await ledger.claim('svc alice', clock);
    let secondDone = false;
    const second = ledger.claim('svc alice', clock).then((claim) => {
      secondDone = true;
      return claim;
    });
    await Promise.resolve();
    expect(secondDone).toBe(false);
    first.settle(true);
    expect(await second).toMatchObject({ step: 100, spent: true });
  });

  it('a refused code uses no step: the next claim of it is no reuse try, and its acceptance proves nothing', async () => {
    const clock = manualClock(inStep(100));
    const ledger = new TotpLedger();
    (await ledger.claim('svc alice', clock)).settle(false);
    const next = await ledger.claim('svc alice', clock);
    expect(next).toMatchObject({ step: 100, spent: false });
    next.settle(true);
    // Only now is step 100 used: the next claim is the try, and a refusal means the service refuses reuse.
    const trying = await ledger.claim('svc alice', clock);
    expect(trying).toMatchObject({ step: 100, spent: true });
    trying.settle(false);
    expect(await ledger.claim('svc alice', clock)).toMatchObject({ step: 101, spent: false });
  });

  it('tells a probe whether a refusal of a spent step may be for the reuse', async () => {
    const clock = manualClock(inStep(100));
    const ledger = new TotpLedger();
    (await ledger.claim('svc alice', clock)).settle(true);
    // Step 100 used, reuse not yet known: a refusal could be for the reuse.
    const ambiguous = await ledger.claim('svc alice', clock);
    expect(ambiguous).toMatchObject({ spent: true, reuseAllowed: false });
    ambiguous.settle(true);
    // The service accepted the second use: a refusal now is for the code's own sake.
    expect(await ledger.claim('svc alice', clock)).toMatchObject({ spent: true, reuseAllowed: true });
  });

  it('a try without an outcome (no answer) leaves the question open for the next claim', async () => {
    const clock = manualClock(inStep(100));
    const ledger = new TotpLedger();
    (await ledger.claim('svc alice', clock)).settle(true);
    (await ledger.claim('svc alice', clock)).settle(undefined);
    expect(await ledger.claim('svc alice', clock)).toMatchObject({ step: 100, spent: true });
  });
});
