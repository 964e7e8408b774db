import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', contract: 'src/contract.ts' },
  format: ['esm', 'cjs'],
  target: 'node20',
  dts: true,
  sourcemap: true,
});
