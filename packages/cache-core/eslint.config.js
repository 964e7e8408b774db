import { createConfig } from '@pm/eslint-config';

export default [
  ...createConfig({ tsconfigRootDir: import.meta.dirname }),
  {
    // L1 keeps its entries in typed arrays indexed by slot numbers that lru-cache hands back; a
    // slot is always inside the arrays, and a check per field read would cost the hot path.
    files: ['src/l1/**/*.ts', 'src/stats/namespace-stats.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
];
