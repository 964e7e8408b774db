import { defineConfig } from 'tsup';

export default defineConfig({
  // The worker and the default runner are loaded by file into agent subprocesses.
  entry: ['src/index.ts', 'src/agent-worker.ts', 'src/summary-runner.ts'],
  format: ['esm'],
  target: 'node20',
  dts: { entry: ['src/index.ts', 'src/summary-runner.ts'] },
  sourcemap: true,
  clean: true,
});
