import { registerCacheService, SharedPromptCache } from '@pm/cache-core';
import { ServiceManager } from '@pm/service-manager';
import { describe, expect, it } from 'vitest';
import { AgentPromptBuilder } from './agent-prompt-builder.js';
import { PROMPT_BUILDER_SERVICE_NAME, registerPromptBuilder } from './service.js';

describe('registerPromptBuilder', () => {
  it('receives the shared cache by DI and caches through it', async () => {
    const serviceManager = new ServiceManager();
    const { cache } = registerCacheService(serviceManager);
    registerPromptBuilder(serviceManager);
    await serviceManager.startAll();
    const builder = serviceManager.get<AgentPromptBuilder>(PROMPT_BUILDER_SERVICE_NAME);
    expect(serviceManager.container.resolve(AgentPromptBuilder)).toBe(builder);
    await builder.loadAgentProfile('general');
    expect(cache.getMetrics().namespaces.agent_profile!.entryCount).toBe(1);
    await serviceManager.stopAll();
  });

  it('works uncached when no cache is registered', async () => {
    const serviceManager = new ServiceManager();
    registerPromptBuilder(serviceManager);
    await serviceManager.startAll();
    const prompt = await serviceManager
      .get<AgentPromptBuilder>(PROMPT_BUILDER_SERVICE_NAME)
      .buildTaskToolPrompt('general', { task: 'Say hi' });
    expect(prompt.text).toContain('Say hi');
    expect(prompt.text).toContain('## Report format');
    expect(serviceManager.isCritical(PROMPT_BUILDER_SERVICE_NAME)).toBe(false);
    expect(new SharedPromptCache().getMetrics().entryCount).toBe(0);
    await serviceManager.stopAll();
  });
});
