/**
 * The packages as an outside project consumes them, through their `exports` only: CommonJS
 * (`require`) and ESM (`import`), plain JavaScript and TypeScript compiled by `tsc` with the
 * decorator set-up the service-manager README gives.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const demoDir = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const scratches: string[] = [];
afterAll(() => Promise.all(scratches.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A project folder inside this app, so `@pm/*` resolve to the built packages as they would from npm. */
async function project(type: 'commonjs' | 'module', files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(demoDir, '.consumer-'));
  scratches.push(dir);
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type }));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

/** What every consumer does: a cache with a file tier, the services, a prompt, a delegation. */
const body = `
  const store = new FileStore({ dir: path.join(os.tmpdir(), 'pm-consumer-' + process.pid) });
  const cache = new SharedPromptCache({ l2: store, distributedLock: false });
  await cache.set('task_prompt:x', { ok: true }, { tags: ['file:/x.md'] });
  if ((await cache.get('task_prompt:x')).ok !== true) throw new Error('cache');
  if (typeof RedisStore !== 'function') throw new Error('entry points');
  const serviceManager = new ServiceManager();
  registerCacheService(serviceManager, undefined, { cache });
  registerPromptBuilder(serviceManager, { userDir: os.tmpdir() });
  registerOrchestrator(serviceManager, { maxAgents: 1 });
  await serviceManager.startAll();
  const orchestrator = serviceManager.get(ORCHESTRATOR_SERVICE_NAME);
  const result = await orchestrator.delegate({ agentType: 'general', taskDescription: 'Say hello' });
  await serviceManager.stopAll();
  await store.clear();
  console.log(result.output.includes('Say hello') ? 'consumer ok' : 'consumer wrong: ' + result.output);
`;

describe('a consumer project', () => {
  it('requires every package and entry point from CommonJS (the vitest helpers are ESM only, as vitest is)', async () => {
    const dir = await project('commonjs', {
      'index.js': `
        const os = require('node:os');
        const path = require('node:path');
        const { SharedPromptCache, registerCacheService } = require('@pm/cache-core');
        const { FileStore } = require('@pm/cache-core/file');
        const { RedisStore } = require('@pm/cache-core/redis');
        const { ServiceManager } = require('@pm/service-manager');
        const { registerPromptBuilder } = require('@pm/prompt-builder');
        const { registerOrchestrator, ORCHESTRATOR_SERVICE_NAME } = require('@pm/orchestrator');
        (async () => { ${body} })().catch((error) => { console.error(error); process.exit(1); });
      `,
    });
    const { stdout } = await run(process.execPath, ['index.js'], { cwd: dir, timeout: 60_000 });
    expect(stdout.trim()).toBe('consumer ok');
  }, 90_000);

  it('imports every package and entry point from ESM', async () => {
    const dir = await project('module', {
      'index.js': `
        import os from 'node:os';
        import path from 'node:path';
        import { SharedPromptCache, registerCacheService } from '@pm/cache-core';
        import { FileStore } from '@pm/cache-core/file';
        import { RedisStore } from '@pm/cache-core/redis';
        import { TcpProxy } from '@pm/cache-core/testing';
        if (typeof TcpProxy !== 'function') throw new Error('testing entry point');
        import { ServiceManager } from '@pm/service-manager';
        import { registerPromptBuilder } from '@pm/prompt-builder';
        import { registerOrchestrator, ORCHESTRATOR_SERVICE_NAME } from '@pm/orchestrator';
        ${body}
      `,
    });
    const { stdout } = await run(process.execPath, ['index.js'], { cwd: dir, timeout: 60_000 });
    expect(stdout.trim()).toBe('consumer ok');
  }, 90_000);

  for (const type of ['commonjs', 'module'] as const) {
    it(`compiles with tsc (module node16, ${type}) using decorators with explicit @inject tokens, and runs`, async () => {
      const dir = await project(type, {
        // The decorator set-up the service-manager README gives.
        'tsconfig.json': JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'node16',
            moduleResolution: 'node16',
            strict: true,
            experimentalDecorators: true,
            emitDecoratorMetadata: true,
            skipLibCheck: false,
            types: ['node'],
            outDir: 'out',
          },
          include: ['src'],
        }),
        'src/index.ts': `
          import { inject, injectable, ServiceManager, type Service } from '@pm/service-manager';
          import { registerCacheService, SHARED_PROMPT_CACHE, type SharedPromptCache } from '@pm/cache-core';
          import { FileStore } from '@pm/cache-core/file';
          import type { CacheStore } from '@pm/cache-core';

          @injectable()
          class Greeter implements Service {
            constructor(@inject(SHARED_PROMPT_CACHE) private readonly cache: SharedPromptCache) {}
            async start(): Promise<void> {
              await this.cache.set('greeting', 'hello from ' + (typeof module === 'undefined' ? 'esm' : 'cjs'));
            }
            stop(): void {}
            async greeting(): Promise<string | undefined> {
              return this.cache.get<string>('greeting');
            }
          }

          async function main(): Promise<void> {
            const store: CacheStore = new FileStore({ dir: 'out/cache' });
            const serviceManager = new ServiceManager();
            registerCacheService(serviceManager, { l2: store });
            serviceManager.register({ name: 'greeter', useClass: Greeter, dependsOn: ['shared_prompt_cache'] });
            await serviceManager.startAll();
            console.log(await serviceManager.get<Greeter>('greeter').greeting());
            await serviceManager.stopAll();
          }
          void main();
        `,
      });
      await run(process.execPath, [tsc, '-p', dir], { cwd: dir, timeout: 60_000 });
      const { stdout } = await run(process.execPath, ['out/index.js'], { cwd: dir, timeout: 30_000 });
      expect(stdout.trim()).toBe(`hello from ${type === 'module' ? 'esm' : 'cjs'}`);
    }, 90_000);
  }
});
