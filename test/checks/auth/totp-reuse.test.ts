/**
 * Several checks of one run log the same probe account in within one TOTP step. A service that refuses a
 * code's second use (RFC 6238 §5.2: the reference with rejectTotpReuse, django-otp) is right to refuse all
 * but the first; the run's TOTP ledger (src/probes/totp-ledger.ts) must then give each later login a step
 * of its own, so that the gate's own logins never turn a correct service's checks into errors.
 */
import { describe, expect, it } from 'vitest';
import tokenTransport from '../../../checks/auth/token-transport.js';
import tokenValidation from '../../../checks/auth/token-validation.js';
import { runCheckOn } from '../../harness/check-tester.js';
import { startReferenceTarget } from '../../support/reference-service.js';

describe('two checks logging the probe account in at once, against a service that refuses TOTP reuse', () => {
  it('both reach their verdict (the second login waits for a TOTP step of its own)', async () => {
    const target = await startReferenceTarget({ rejectTotpReuse: true });
    try {
      const outcomes = await Promise.all([
        runCheckOn(tokenTransport, target),
        runCheckOn(tokenValidation, target, { prove_expiry: false }),
      ]);
      for (const outcome of outcomes) expect(outcome.status, outcome.summary).toBe('pass');
    } finally {
      await target.close();
    }
  });
});
