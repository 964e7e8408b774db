import { defineConfig } from 'tsup';

const shared = { target: 'node20', sourcemap: true, splitting: false } as const;

export default defineConfig([
  {
    // Libraries: ESM and CommonJS, with types for both (index.d.ts and index.d.cts).
    ...shared,
    entry: { index: 'src/index.ts', redis: 'src/redis.ts', file: 'src/file.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    external: ['ioredis'],
  },
  {
    // The test helpers: ESM only, as vitest (which the conformance suite runs in) is.
    ...shared,
    entry: { testing: 'src/testing/index.ts' },
    format: ['esm'],
    dts: true,
    external: ['ioredis', 'vitest'],
  },
  {
    // The CLI: ESM only, started through the committed bin/pm-cache.mjs shim; the Redis code is a
    // chunk of its own, loaded only for --redis-url.
    ...shared,
    entry: { cli: 'src/cli/bin.ts' },
    format: ['esm'],
    splitting: true,
    external: ['ioredis'],
  },
]);
