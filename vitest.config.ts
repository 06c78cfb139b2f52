import { defineConfig } from 'vitest/config';

// Tests talk to real Redis, ffmpeg, ONNX Runtime and Chromium: generous timeouts, and files run in
// forked processes so native handles (ffmpeg children, ORT sessions) never leak between files.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
