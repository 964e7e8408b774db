import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CACHE_SERVICE_NAME, registerCacheService } from '@pm/cache-core';
import { PROMPT_BUILDER_SERVICE_NAME, registerPromptBuilder } from '@pm/prompt-builder';
import { ServiceManager } from '@pm/service-manager';
import { describe, expect, it } from 'vitest';
import { PMOrchestrator } from './pm-orchestrator.js';
import { ORCHESTRATOR_SERVICE_NAME, registerOrchestrator } from './service.js';

describe('registerOrchestrator', () => {
  it('wires builder and cache by DI, starts agent subprocesses with startAll and ends them with stopAll', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'pm-home-'));
    try {
      const serviceManager = new ServiceManager();
      const { cache } = registerCacheService(serviceManager);
      registerPromptBuilder(serviceManager, { userDir: home });
      registerOrchestrator(serviceManager, { maxAgents: 1 });
      const report = await serviceManager.startAll();
      expect(report.status).toBe('running');
      const orchestrator = serviceManager.get<PMOrchestrator>(ORCHESTRATOR_SERVICE_NAME);
      expect(serviceManager.container.resolve(PMOrchestrator)).toBe(orchestrator);
      expect(orchestrator.agents.processes).toBe(1);
      const result = await orchestrator.delegate({ agentType: 'general', taskDescription: 'Say hello' });
      expect(result.output).toContain('general received "Say hello"');
      expect(orchestrator.getCacheMetrics()).toEqual(cache.getMetrics());
      expect(cache.getMetrics().namespaces.delegation_prompt!.entryCount).toBe(1);
      await serviceManager.stopAll();
      expect(orchestrator.agents.processes).toBe(0);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }, 30_000);

  it('stops the orchestrator, then the builder, then the cache they use (the cache is stopped last)', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'pm-home-'));
    try {
      const serviceManager = new ServiceManager();
      registerCacheService(serviceManager);
      registerPromptBuilder(serviceManager, { userDir: home });
      registerOrchestrator(serviceManager, { maxAgents: 1 });
      await serviceManager.startAll();
      const stopped: string[] = [];
      serviceManager.on('stopped', ({ name }) => stopped.push(name));
      await serviceManager.stopAll();
      expect(stopped).toEqual([ORCHESTRATOR_SERVICE_NAME, PROMPT_BUILDER_SERVICE_NAME, CACHE_SERVICE_NAME]);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }, 30_000);

  it('starts the builder and the orchestrator even when the cache cannot start (they work uncached)', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'pm-home-'));
    try {
      const serviceManager = new ServiceManager();
      // A cache service that cannot start, registered under the cache's name.
      serviceManager.register({
        name: CACHE_SERVICE_NAME,
        critical: false,
        useValue: { start: () => Promise.reject(new Error('no memory for a cache')), stop() {} },
      });
      registerPromptBuilder(serviceManager, { userDir: home });
      registerOrchestrator(serviceManager, { maxAgents: 1 });
      const report = await serviceManager.startAll();
      expect(report).toMatchObject({ status: 'degraded', failed: [{ name: CACHE_SERVICE_NAME, critical: false }] });
      const orchestrator = serviceManager.get<PMOrchestrator>(ORCHESTRATOR_SERVICE_NAME);
      expect((await orchestrator.delegate({ agentType: 'general', taskDescription: 'Still works' })).output).toContain('Still works');
      await serviceManager.stopAll();
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }, 30_000);
});
