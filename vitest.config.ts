import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: network fixtures and PostgreSQL are shared, keep files parallel but bounded.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
