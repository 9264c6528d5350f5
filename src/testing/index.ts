/**
 * The RuleTester of secgate (`secgate/testing`): a check's test is a table of targets it must
 * pass and fixtures it must fail, each failure with the observation it must name. A new check —
 * built in or a plugin — is then one module, one fixture and one table.
 *
 *   testCheck(tlsProtocols, {
 *     valid:   [{ name: 'reference service', target: referenceTarget }],
 *     invalid: [{ name: 'accepts TLS 1.0', target: tls10Fixture, expect: /TLSv1\b.*accepted/ }],
 *   });
 *
 * It registers vitest tests (vitest is an optional peer dependency of secgate: only a check's
 * tests need it).
 */
import { describe, expect, it as vitestIt } from 'vitest';
import { contextForCheck } from '../engine/check-env.js';
import { checkShapeProblems } from '../engine/check-shape.js';
import { type ContextOptions, openCheckContext } from '../engine/context.js';
import { judgeOutcome } from '../engine/run.js';
import type { CheckDefinition, CheckOutcome, CheckStatus, Observation } from '../engine/types.js';

export type { ContextOptions } from '../engine/context.js';
export { type HttpsTarget, startHttpsTarget } from './https-target.js';

/** A started target (fixture server, git repo, reference service) and how to stop it. */
export interface TargetHandle {
  context: ContextOptions;
  close(): Promise<void>;
}

export interface ValidCase {
  name: string;
  target: () => Promise<TargetHandle>;
  with?: Record<string, unknown>;
}

export interface InvalidCase extends ValidCase {
  /** `fail` unless said otherwise; `error` for cases that must not reach a verdict. */
  status?: Exclude<CheckStatus, 'pass'>;
  /**
   * Must match the summary or one observation that does not satisfy the
   * control (ok === false), serialised as JSON. Be precise: name the value.
   */
  expect: RegExp;
}

export interface CheckCases {
  valid: ValidCase[];
  invalid: InvalidCase[];
  /**
   * Run the cases at the same time. Only for cases that spend their time
   * waiting (a log settling, a token expiring) on targets of their own: it
   * shortens the wall time, never what a case observes.
   */
  concurrent?: boolean;
}

export interface TestCheckOptions {
  /** What the check's `source` must look like (secgate's own checks cite docs/controls.md). */
  source?: RegExp;
}

export async function runCheckOn(
  check: CheckDefinition,
  target: TargetHandle,
  params: Record<string, unknown> = {},
): Promise<CheckOutcome> {
  const { context, close } = await openCheckContext(target.context);
  try {
    const parsed = check.params.parse(params);
    // As in a run: the check sees only the environment variables it declares, and the engine's sanity
    // rules apply to its verdict, so a table case sees what a real run would report.
    return judgeOutcome(await check.run(contextForCheck(context, check, parsed), parsed));
  } finally {
    await close();
  }
}

function describeOutcome(outcome: CheckOutcome): string {
  return JSON.stringify(outcome, null, 2);
}

function failingEvidence(outcome: CheckOutcome): string[] {
  const failing = outcome.observations.filter((observation: Observation) => observation.ok === false);
  return [outcome.summary, ...failing.map((observation) => JSON.stringify(observation))];
}

export function testCheck(check: CheckDefinition, cases: CheckCases, options: TestCheckOptions = {}): void {
  const it = cases.concurrent ? vitestIt.concurrent : vitestIt;
  describe(check.id, () => {
    it('declares its metadata', () => {
      // The contract the checklist loader holds a plugin to, so a table that passes here loads there.
      expect(checkShapeProblems(check)).toEqual([]);
      expect(check.title.length).toBeGreaterThan(10);
      expect(check.remediation.length).toBeGreaterThan(10);
      if (options.source) expect(check.source).toMatch(options.source);
    });
    for (const validCase of cases.valid) {
      it(`passes: ${validCase.name}`, async () => {
        const target = await validCase.target();
        try {
          const outcome = await runCheckOn(check, target, validCase.with);
          expect(outcome.status, describeOutcome(outcome)).toBe('pass');
          expect(outcome.observations.length, 'a pass must carry evidence').toBeGreaterThan(0);
        } finally {
          await target.close();
        }
      });
    }
    for (const invalidCase of cases.invalid) {
      const status = invalidCase.status ?? 'fail';
      it(`${status}s: ${invalidCase.name}`, async () => {
        const target = await invalidCase.target();
        try {
          const outcome = await runCheckOn(check, target, invalidCase.with);
          expect(outcome.status, describeOutcome(outcome)).toBe(status);
          const evidence = failingEvidence(outcome);
          expect(
            evidence.some((text) => invalidCase.expect.test(text)),
            `no summary or failing observation matches ${invalidCase.expect}:\n${describeOutcome(outcome)}`,
          ).toBe(true);
        } finally {
          await target.close();
        }
      });
    }
  });
}
