/**
 * Which TOTP time steps this run has spent, per account. A service may
 * refuse a code's second use (RFC 6238 §5.2; django-otp and the reference
 * service with --reject-totp-reuse do, and the step must then grow), while the
 * gate's checks log the same probe account in, concurrently, many times a
 * run. Without a ledger every login after the first in a step is refused, and
 * the checks error (and the refusals count toward the account's lockout).
 *
 * A login claims a step. The first step of an account is free. A second use
 * of a step is tried once per run and account (other claimants wait for its
 * outcome): accepted, the service allows reuse and nobody waits again;
 * refused, every later claim gets a step of its own, the next one after the
 * highest claimed, and waits until it begins.
 */
const TOTP_STEP_MS = 30_000;
/** Past a step's start by this much, so that a service clock a little behind the gate's is in the step too. */
const STEP_MARGIN_MS = 1_500;

type ReuseVerdict = 'unknown' | 'accepted' | 'refused';

interface AccountSteps {
  highest: number;
  reuse: ReuseVerdict;
  /** Settles when the one try of a step's second use has an outcome. */
  trying: Promise<void> | undefined;
}

export interface TotpClaim {
  /** The time step whose code to send: `stepTime` is inside it. */
  step: number;
  stepTime: Date;
  /** Whether this run had already sent a code of this step for the account. */
  spent: boolean;
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
      const steps = this.accounts.get(account);
      if (steps === undefined || now > steps.highest) {
        if (steps) steps.highest = now;
        else this.accounts.set(account, { highest: now, reuse: 'unknown', trying: undefined });
        return fresh(now, clock.now());
      }
      if (steps.reuse === 'accepted') return { step: now, stepTime: clock.now(), spent: true, settle: () => {} };
      if (steps.reuse === 'refused') {
        const step = steps.highest + 1;
        steps.highest = step;
        const wait = insideStep(step).getTime() - clock.now().getTime();
        if (wait > 0) await clock.sleep(wait, signal);
        return fresh(step, insideStep(step));
      }
      if (steps.trying) {
        await steps.trying;
        continue;
      }
      // This claim is the run's one try of a step's second use; the others wait for what it shows.
      let done: () => void = () => {};
      steps.trying = new Promise((resolve) => {
        done = resolve;
      });
      return {
        step: now,
        stepTime: clock.now(),
        spent: true,
        settle: (accepted) => {
          if (accepted !== undefined) steps.reuse = accepted ? 'accepted' : 'refused';
          steps.trying = undefined;
          done();
        },
      };
    }
  }
}

function fresh(step: number, stepTime: Date): TotpClaim {
  return { step, stepTime, spent: false, settle: () => {} };
}

/** The ledger of this process: one gate run, every check of it. */
export const totpLedger = new TotpLedger();
