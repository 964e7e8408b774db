import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    target: 'node20',
    dts: true,
    sourcemap: true,
    // import.meta.url (where the agent worker is) in the CommonJS build too.
    shims: true,
  },
  {
    // Loaded by file into each agent subprocess: ESM, like the runner modules it imports.
    entry: { 'agent-worker': 'src/agent-worker.ts', 'summary-runner': 'src/summary-runner.ts' },
    format: ['esm'],
    target: 'node20',
    sourcemap: true,
  },
]);
