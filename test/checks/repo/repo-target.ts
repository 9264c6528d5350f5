/** Turns a fixture repository into a check target (the target URL is never contacted by repo checks). */

import { expect } from 'vitest';
import type { RepoScenario } from '../../../fixtures/repos/scenarios.js';
import type { CheckOutcome } from '../../../src/engine/types.js';
import type { TargetHandle } from '../../harness/check-tester.js';

export function repoTarget(build: () => Promise<RepoScenario>, onBuilt?: (scenario: RepoScenario) => void) {
  return async (): Promise<TargetHandle> => {
    const scenario = await build();
    onBuilt?.(scenario);
    return {
      context: { target: { url: 'https://127.0.0.1:9' }, repoDir: scenario.fixture.dir, baseDir: scenario.fixture.dir },
      close: () => scenario.fixture.cleanup(),
    };
  };
}

/** A target on a repository the test cleans up itself: the checklist's folder is the repository. */
export function fixtureTarget(dir: string): TargetHandle {
  return {
    context: { target: { url: 'https://127.0.0.1:9' }, repoDir: dir, baseDir: dir },
    close: async () => {},
  };
}

/** Each expected finding (by how its note begins) is reported exactly once, and nothing else fails. */
export function expectEachFoundOnce(outcome: CheckOutcome, expected: readonly string[]): void {
  const notes = outcome.observations.filter((observation) => observation.ok === false).map((o) => o.note ?? '');
  for (const text of expected) {
    expect(
      notes.filter((note) => note.startsWith(text)),
      `${text}\n${notes.join('\n')}`,
    ).toHaveLength(1);
  }
  expect(notes).toHaveLength(expected.length);
}
