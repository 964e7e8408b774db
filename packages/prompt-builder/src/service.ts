import { CACHE_SERVICE_NAME, resolveSharedPromptCache } from '@pm/cache-core';
import type { ServiceManager } from '@pm/service-manager';
import { AgentPromptBuilder, type AgentPromptBuilderOptions } from './agent-prompt-builder.js';

/** The name the builder is registered under. */
export const PROMPT_BUILDER_SERVICE_NAME = 'prompt_builder';

export interface RegisterPromptBuilderOptions extends Omit<AgentPromptBuilderOptions, 'cache'> {
  /** @default false: the builder works uncached, so it need not fail startup */
  critical?: boolean;
}

/**
 * Registers an {@link AgentPromptBuilder} as the service `prompt_builder` (and under the
 * `AgentPromptBuilder` class token). It receives the cache from the manager's container by the
 * `SHARED_PROMPT_CACHE` token when one is registered, and works uncached otherwise.
 */
export function registerPromptBuilder(serviceManager: ServiceManager, options: RegisterPromptBuilderOptions = {}): ServiceManager {
  const { critical, ...builderOptions } = options;
  return serviceManager.register({
    name: PROMPT_BUILDER_SERVICE_NAME,
    token: AgentPromptBuilder,
    critical: critical ?? false,
    // It uses the cache while it runs, so it stops before the cache does; without one it works uncached.
    dependsOn: [{ name: CACHE_SERVICE_NAME, optional: true }],
    useFactory: (container) => {
      const cache = resolveSharedPromptCache(container);
      return new AgentPromptBuilder({ ...builderOptions, ...(cache === undefined ? {} : { cache }) });
    },
  });
}
