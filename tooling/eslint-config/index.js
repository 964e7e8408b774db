// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The workspace's ESLint flat config: recommended + type-checked typescript-eslint rules.
 * Each package's eslint.config.js spreads it and passes its own directory as `tsconfigRootDir`.
 *
 * @param {{ tsconfigRootDir: string }} options
 */
export function createConfig({ tsconfigRootDir }) {
  return tseslint.config(
    // .readme-*: README examples the demo's tests write and run.
    { ignores: ['dist/**', 'coverage/**', '**/.readme-*/**', '**/.consumer-*/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
    js.configs.recommended,
    ...tseslint.configs.strictTypeChecked,
    ...tseslint.configs.stylisticTypeChecked,
    {
      languageOptions: {
        parserOptions: { projectService: true, tsconfigRootDir },
      },
      rules: {
        '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
        '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
        '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
        // Async methods without await are deliberate: they turn synchronous validation errors
        // into rejections, so a caller of an async API never has to catch twice.
        '@typescript-eslint/require-await': 'off',
        // `get<T>(key): T | undefined` is the API shape users know from lru-cache and bentocache.
        '@typescript-eslint/no-unnecessary-type-parameters': 'off',
        // Classes with only static members are how the DI tokens and presets are grouped; allow them.
        '@typescript-eslint/no-extraneous-class': ['error', { allowWithDecorator: true }],
      },
    },
    {
      files: ['**/*.test.ts', '**/test/**/*.ts', '**/fixtures/**/*.ts'],
      rules: {
        // Tests assert on promise results and deliberately exercise bad inputs.
        '@typescript-eslint/no-non-null-assertion': 'off',
        '@typescript-eslint/no-unsafe-argument': 'off',
        '@typescript-eslint/no-explicit-any': 'off',
        '@typescript-eslint/no-empty-function': 'off',
      },
    },
  );
}
