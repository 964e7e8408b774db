import { CACHE_SERVICE_NAME, resolveSharedPromptCache } from '@pm/cache-core';
import { AgentPromptBuilder, PROMPT_BUILDER_SERVICE_NAME } from '@pm/prompt-builder';
import type { ServiceManager } from '@pm/service-manager';
import { PMOrchestrator, type PMOrchestratorOptions } from './pm-orchestrator.js';

export const ORCHESTRATOR_SERVICE_NAME = 'pm_orchestrator';

export interface RegisterOrchestratorOptions extends Omit<PMOrchestratorOptions, 'builder' | 'cache'> {
  /** @default true: without it nothing can be delegated */
  critical?: boolean;
}

/**
 * Registers a {@link PMOrchestrator} as the service `pm_orchestrator` (and under the class
 * token), depending on the `prompt_builder` service, whose builder it receives by DI, as it
 * receives the cache by the `SHARED_PROMPT_CACHE` token when one is registered.
 */
export function registerOrchestrator(serviceManager: ServiceManager, options: RegisterOrchestratorOptions = {}): ServiceManager {
  const { critical, ...orchestratorOptions } = options;
  return serviceManager.register({
    name: ORCHESTRATOR_SERVICE_NAME,
    token: PMOrchestrator,
    critical: critical ?? true,
    // Stops before the builder and the cache it uses.
    dependsOn: [PROMPT_BUILDER_SERVICE_NAME, { name: CACHE_SERVICE_NAME, optional: true }],
    useFactory: (container) => {
      const cache = resolveSharedPromptCache(container);
      return new PMOrchestrator({
        ...orchestratorOptions,
        builder: container.resolve(AgentPromptBuilder),
        ...(cache === undefined ? {} : { cache }),
      });
    },
  });
}
