/** Turns a fixture repository into a check target (the target URL is never contacted by repo checks). */
import type { RepoScenario } from '../../../fixtures/repos/scenarios.js';
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
