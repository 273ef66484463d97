import { configDefaults, defineConfig } from 'vitest/config';

// Tests compile and run C kernels and start real servers: generous timeouts, and at most two test
// files at once because the machines that run the suite have two cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', '**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'out/**', '.cache/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
