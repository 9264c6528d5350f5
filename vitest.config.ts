import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The examples import secgate by its package name, as a user's project does; here that name is
    // this tree's sources (tsconfig.json's paths say the same to the type checker).
    alias: [
      { find: /^secgate$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^secgate\/testing$/, replacement: fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    // Once per run: the PostgreSQL server and the key material every case shares (see the file).
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/worker-setup.ts'],
    // One timeout for every test and hook. Generous on purpose: CI machines are shared, and a slow
    // machine must make the suite slower, never red. Speed is measured in bench/, not asserted here.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Three workers on two cores: a test file spends much of its time waiting on sockets, PostgreSQL and
    // child processes, which a third worker fills (measured on this machine: 148 s with three, 164 s with two,
    // 162 s with four, where CPU contention wins). Network fixtures and PostgreSQL are shared, so keep it bounded.
    maxWorkers: 3,
    // Files share a worker's module cache: loading Fastify, pg, undici and the checks once per worker
    // instead of once per file saves about a quarter of the suite's time. The price is a rule: a test
    // that changes process-wide state (process.env, process.exitCode, stdout) restores it.
    isolate: false,
  },
});
