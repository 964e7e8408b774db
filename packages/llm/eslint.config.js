import { createConfig } from '@pm/eslint-config';

export default createConfig({ tsconfigRootDir: import.meta.dirname });
