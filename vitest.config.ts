import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    // Generous: end-to-end tests run real processes on a shared 2-core machine; a hung test still fails.
    testTimeout: 180_000,
    hookTimeout: 60_000,
    // The sandbox runs real processes; two cores are all CI has.
    maxWorkers: 2,
  },
});
