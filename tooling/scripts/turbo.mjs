#!/usr/bin/env node
// Runs turbo with its telemetry off, so a fresh clone's first `pnpm test` prints no banner
// asking about it (and sends nothing). Arguments pass through: `node tooling/scripts/turbo.mjs run build`.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const turbo = createRequire(import.meta.url).resolve('turbo/bin/turbo');
const { status, signal } = spawnSync(process.execPath, [turbo, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
});
process.exit(status ?? (signal === null ? 1 : 128));
