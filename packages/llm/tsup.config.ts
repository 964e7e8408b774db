import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    target: 'node20',
    dts: true,
    sourcemap: true,
  },
  {
    // The runner is imported by file into agent subprocesses, and the testing servers by test files: ESM.
    entry: { 'anthropic-runner': 'src/runners/anthropic-runner.ts', testing: 'src/testing/index.ts' },
    format: ['esm'],
    target: 'node20',
    dts: true,
    sourcemap: true,
  },
]);
