import { createConfig } from '@pm/eslint-config';

export default [
  ...createConfig({ tsconfigRootDir: import.meta.dirname }),
  {
    // Hot loops index fixed, pre-filled arrays; a runtime check there would distort the timings.
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
];
