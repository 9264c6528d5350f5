/**
 * The table tester for secgate's own checks: `secgate/testing` (src/testing), with the one rule
 * only built-in checks follow — their `source` cites a control of docs/controls.md.
 */
import type { CheckDefinition } from '../../src/engine/types.js';
import { type CheckCases, testCheck as testAnyCheck } from '../../src/testing/index.js';

export type { CheckCases, InvalidCase, TargetHandle, ValidCase } from '../../src/testing/index.js';
export { runCheckOn } from '../../src/testing/index.js';

/** Built-in checks cite their control in the project's own catalogue (test/docs/controls.test.ts). */
const BUILT_IN_SOURCE = /^control [A-Z][0-9]+ \(docs\/controls\.md#[A-Z][0-9]+\): /;

export function testCheck(check: CheckDefinition, cases: CheckCases): void {
  testAnyCheck(check, cases, { source: BUILT_IN_SOURCE });
}
