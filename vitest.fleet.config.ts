import { defineConfig } from 'vitest/config'

// The fleet tests start many processes and the disruptive ones restart the machine's Redis and stop its
// Postgres: they run alone, one file at a time, after the main suite (`npm run test:fleet`).
export default defineConfig({
  test: {
    include: ['test/fleet/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 420_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
})
