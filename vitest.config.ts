import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['libs/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'tools/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/.next/**'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // 2 cores: integration tests start servers and train models; keep files sequential-ish.
    maxWorkers: 2,
    fileParallelism: true,
    env: { CHECKPOINT_DISABLE: '1', NEXT_TELEMETRY_DISABLED: '1', LMSWEEP_LOG_LEVEL: 'silent' },
  },
});
