/**
 * Which TOTP time steps this run has spent, per account. A service may
 * refuse a code's second use (RFC 6238 §5.2; django-otp and the reference
 * service with --reject-totp-reuse do, and the step must then grow), while the
 * gate's checks log the same probe account in, concurrently, many times a
 * run. Without a ledger every login after the first in a step is refused, and
 * the checks error (and the refusals count toward the account's lockout).
 *
 * A login claims a step; a step counts as used only once the service
 * accepted a code of it (a refused code uses nothing). Until the run knows
 * whether the service allows reuse, an account's codes go one at a time: the
 * first accepted code of a step makes the next claim of that step the run's
 * one try of a reuse. Accepted, the service allows reuse and nobody waits
 * again; refused, every later claim gets a step of its own, after the highest
 * claimed, and waits until it begins.
 */
const TOTP_STEP_MS = 30_000;
/** Past a step's start by this much, so that a service clock a little behind the gate's is in the step too. */
const STEP_MARGIN_MS = 1_500;

type ReuseVerdict = 'unknown' | 'accepted' | 'refused';

interface AccountSteps {
  /** The highest step a claim was given. */
  highest: number;
  /** The highest step whose code the service accepted. */
  accepted: number | undefined;
  reuse: ReuseVerdict;
  /** Settles when the code in flight (while the reuse verdict is unknown) has its answer. */
  busy: Promise<void> | undefined;
}

export interface TotpClaim {
  /** The time step whose code to send: `stepTime` is inside it. */
  step: number;
  stepTime: Date;
  /** Whether the service already accepted a code of this step for the account in this run. */
  spent: boolean;
  /** Whether the run has seen the service accept a code's reuse (then a refusal is for the code's own sake). */
  reuseAllowed: boolean;
  /**
   * Reports how the service answered the code (true: accepted; false: refused; undefined: no answer or the
   * answer says nothing about the code). Must be called once per claim.
   */
  settle(accepted: boolean | undefined): void;
}

export interface LedgerClock {
  now(): Date;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export function stepOf(at: Date): number {
  return Math.floor(at.getTime() / TOTP_STEP_MS);
}

/** How long from `at` until a moment inside the next step (past its start by the margin). */
export function untilInsideNextStep(at: Date): number {
  return insideStep(stepOf(at) + 1).getTime() - at.getTime();
}

/** A moment inside the step, past its start by the margin. */
function insideStep(step: number): Date {
  return new Date(step * TOTP_STEP_MS + STEP_MARGIN_MS);
}

export class TotpLedger {
  private readonly accounts = new Map<string, AccountSteps>();

  /** `account` names the account at its service (e.g. the login URL's origin and the username). */
  async claim(account: string, clock: LedgerClock, signal?: AbortSignal): Promise<TotpClaim> {
    for (;;) {
      const now = stepOf(clock.now());
      let steps = this.accounts.get(account);
      if (steps === undefined) {
        steps = { highest: now, accepted: undefined, reuse: 'unknown', busy: undefined };
        this.accounts.set(account, steps);
      }
      if (steps.reuse === 'accepted') {
        return {
          step: now,
          stepTime: clock.now(),
          spent: steps.accepted === now,
          reuseAllowed: true,
          settle: () => {},
        };
      }
      if (steps.reuse === 'refused') {
        const step = Math.max(now, steps.highest + 1);
        steps.highest = step;
        const wait = insideStep(step).getTime() - clock.now().getTime();
        if (wait > 0) await clock.sleep(wait, signal);
        return this.tracked(steps, step, step === now ? clock.now() : insideStep(step), false);
      }
      if (steps.busy) {
        await steps.busy;
        continue;
      }
      // Unknown yet: one code at a time. A step the service already accepted makes this the one try of reuse.
      steps.highest = Math.max(steps.highest, now);
      return this.tracked(steps, now, clock.now(), steps.accepted === now);
    }
  }

  private tracked(steps: AccountSteps, step: number, stepTime: Date, spent: boolean): TotpClaim {
    let done: () => void = () => {};
    const unknown = steps.reuse === 'unknown';
    if (unknown) {
      steps.busy = new Promise((resolve) => {
        done = resolve;
      });
    }
    return {
      step,
      stepTime,
      spent,
      reuseAllowed: false,
      settle: (accepted) => {
        if (accepted === true) steps.accepted = Math.max(steps.accepted ?? step, step);
        if (spent && accepted !== undefined && steps.reuse === 'unknown')
          steps.reuse = accepted ? 'accepted' : 'refused';
        if (unknown) {
          steps.busy = undefined;
          done();
        }
      },
    };
  }
}

/** The ledger of this process: one gate run, every check of it. */
export const totpLedger = new TotpLedger();
