import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  target: 'node20',
  dts: true,
  sourcemap: true,
  // import.meta.url (where the shipped agents and components are) in the CommonJS build too.
  shims: true,
});
