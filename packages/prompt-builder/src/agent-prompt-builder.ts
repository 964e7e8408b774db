import { createHash } from 'node:crypto';
import path from 'node:path';
import { escapePattern, makeCacheKey, type SharedPromptCache } from '@pm/cache-core';
import { silentLogger, type Duration, type Logger, type Service } from '@pm/service-manager/contract';
import { CacheAccess } from './cache-access.js';
import { PromptBuilderError } from './errors.js';
import { parseProfile, type AgentProfile } from './profile.js';
import { assertAgentName, assertComponentName, SourceDirectories, type SourceDirectoryOptions } from './sources.js';
import { renderTemplate } from './template.js';
import { watchSources, type SourceChange } from './watch.js';

/** What a task prompt is built from. */
export interface TaskContext {
  task: string;
  requirements?: readonly string[];
  deliverables?: readonly string[];
  priority?: string;
  /** Extra values for placeholders of the task template. */
  variables?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * A built prompt. `prefix` (profile, rules, components) is byte-identical for every task of an
 * agent, so provider-side prompt caching can reuse it; `suffix` holds the task.
 */
export interface BuiltPrompt {
  text: string;
  prefix: string;
  suffix: string;
  /** sha256 (hex) of `prefix`. */
  prefixHash: string;
  /** Rough token count: UTF-8 bytes / 4. */
  tokenEstimate: number;
}

export interface AgentPromptBuilderOptions extends SourceDirectoryOptions {
  /** The shared cache; without one the builder works uncached (and says so once). */
  cache?: SharedPromptCache;
  logger?: Logger;
  /** @default { profile: '30m', taskPrompt: '10m', component: '30m' } */
  ttl?: { profile?: Duration; taskPrompt?: Duration; component?: Duration };
  /** Component rendered with the task context as the prompt's suffix. @default 'task' */
  taskTemplate?: string;
  /** As a service, watch the source directories while running (see `watch()`). @default false */
  watch?: boolean;
}

/** The cache namespaces the builder writes. */
export const PROMPT_BUILDER_NAMESPACES = ['agent_profile', 'task_prompt', 'prompt_component'] as const;

const bullets = (items: readonly string[] | undefined): string =>
  items === undefined || items.length === 0 ? '- none' : items.map((item) => `- ${item}`).join('\n');

/**
 * Loads agent profiles (Markdown + YAML front matter; project > user > system) and builds task
 * prompts from them, through the shared prompt cache when one is given.
 */
export class AgentPromptBuilder implements Service {
  readonly sources: SourceDirectories;
  readonly #cache: CacheAccess;
  readonly #log: Logger;
  readonly #ttl: { profile: Duration; taskPrompt: Duration; component: Duration };
  readonly #taskTemplate: string;
  readonly #watchWhileRunning: boolean;
  readonly #listeners = new Set<(change: SourceChange) => void>();
  #closeWatch: (() => void) | undefined;

  constructor(options: AgentPromptBuilderOptions = {}) {
    this.sources = new SourceDirectories(options);
    this.#log = options.logger ?? silentLogger;
    this.#cache = new CacheAccess(options.cache, this.#log, 'prompt-builder');
    this.#ttl = { profile: '30m', taskPrompt: '10m', component: '30m', ...options.ttl };
    this.#taskTemplate = options.taskTemplate ?? 'task';
    assertComponentName(this.#taskTemplate);
    this.#watchWhileRunning = options.watch ?? false;
  }

  /** The profile of agent `name`, from the highest-precedence directory; cached as `agent_profile:<name>:<project>`. */
  async loadAgentProfile(name: string): Promise<AgentProfile> {
    assertAgentName(name);
    return this.#cache.getOrCompute(`agent_profile:${name}:${this.sources.projectDir}`, () => this.#readProfile(name), this.#ttl.profile);
  }

  /**
   * The task prompt for `agentName`: the agent's stable prefix plus the task template rendered
   * with `context`. Cached as `task_prompt:<name>:<hash>`, the hash a stable serialization of
   * the project and the context (the same in every process).
   */
  async buildTaskToolPrompt(agentName: string, context: TaskContext): Promise<BuiltPrompt> {
    assertAgentName(agentName);
    const variables = taskVariables(context);
    const key = `task_prompt:${agentName}:${makeCacheKey(this.sources.projectDir, context)}`;
    return this.#cache.getOrCompute(
      key,
      async () => {
        const profile = await this.loadAgentProfile(agentName);
        const prefix = await this.#prefix(profile);
        const suffix = await this.renderComponent(this.#taskTemplate, {
          ...profileVariables(profile, this.sources.projectDir),
          ...variables,
        });
        const text = prefix + suffix;
        return {
          text,
          prefix,
          suffix,
          prefixHash: createHash('sha256').update(prefix).digest('hex'),
          tokenEstimate: Math.ceil(Buffer.byteLength(text) / 4),
        };
      },
      this.#ttl.taskPrompt,
    );
  }

  /**
   * A component (`components/<name>.md`, project > user > system) with its `{placeholders}`
   * filled from `variables`; cached by name and a hash of the variables.
   * @throws TemplateError naming a placeholder without a value
   */
  async renderComponent(name: string, variables: Readonly<Record<string, string>> = {}): Promise<string> {
    assertComponentName(name);
    const key = `prompt_component:${name}:${makeCacheKey(this.sources.projectDir, variables)}`;
    return this.#cache.getOrCompute(
      key,
      async () => {
        const found = await this.sources.readComponent(name);
        return renderTemplate(found.text, variables, found.path);
      },
      this.#ttl.component,
    );
  }

  /** Renders hot components ahead of use, so the first prompts that need them hit the cache. */
  async preloadComponents(components: readonly { name: string; variables?: Record<string, string> }[]): Promise<void> {
    await Promise.all(components.map(({ name, variables }) => this.renderComponent(name, variables)));
  }

  /**
   * Drops cached profiles and prompts: of agent `name` (its profile and task prompts), or all
   * of them. Resolves the number of entries removed.
   */
  async invalidateCache(name?: string): Promise<number> {
    if (name !== undefined) {
      assertAgentName(name);
      const removed = await Promise.all([
        this.#cache.invalidate(`agent_profile:${name}:*`),
        this.#cache.invalidate(`task_prompt:${name}:*`),
      ]);
      return removed[0] + removed[1];
    }
    const removed = await Promise.all(PROMPT_BUILDER_NAMESPACES.map((ns) => this.#cache.invalidate(`${ns}:*`)));
    return removed.reduce((sum, n) => sum + n, 0);
  }

  /**
   * Watches the profile and component directories that exist: an edited, added or removed
   * profile or component is dropped from the cache at once, so the next build reads it fresh.
   * @returns a function that stops watching
   */
  watch(): () => void {
    this.#closeWatch?.();
    const close = watchSources(this.sources, (change) => void this.#onSourceChange(change), this.#log);
    this.#closeWatch = close;
    return () => {
      close();
      if (this.#closeWatch === close) this.#closeWatch = undefined;
    };
  }

  /** Called after a watched profile or component changed and its cache entries were dropped. */
  onChange(listener: (change: SourceChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** As a service: profiles are read on demand, so starting only begins watching (with `watch: true`). */
  start(): void {
    if (this.#watchWhileRunning) this.watch();
  }

  stop(): void {
    this.#closeWatch?.();
    this.#closeWatch = undefined;
  }

  async #onSourceChange(change: SourceChange): Promise<void> {
    if (change.kind === 'profile') {
      await this.invalidateCache(change.name);
    } else {
      // Any task prompt may embed the component (directly or through a profile's prefix).
      await Promise.all([
        this.#cache.invalidate(`prompt_component:${escapePattern(change.name)}:*`),
        this.#cache.invalidate('task_prompt:*'),
      ]);
    }
    this.#log.debug({ ...change }, 'prompt source changed; cache entries dropped');
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        this.#log.error({ err: error }, 'a prompt source change listener threw');
      }
    }
  }

  async #readProfile(name: string): Promise<AgentProfile> {
    const found = await this.sources.readProfile(name);
    return parseProfile(found.text, { path: found.path, tier: found.tier }, name);
  }

  /** Profile body, rules and components: the part of every prompt of this agent that never varies. */
  async #prefix(profile: AgentProfile): Promise<string> {
    const variables = profileVariables(profile, this.sources.projectDir);
    const parts = [renderTemplate(profile.body, variables, profile.source.path)];
    if (profile.rules.length > 0) parts.push(`## Rules\n\n${profile.rules.map((rule, i) => `${i + 1}. ${rule}`).join('\n')}`);
    for (const component of profile.components) parts.push((await this.renderComponent(component, variables)).trim());
    return `${parts.join('\n\n')}\n\n`;
  }
}

function profileVariables(profile: AgentProfile, projectDir: string): Record<string, string> {
  return { agent: profile.name, description: profile.description, project: path.basename(projectDir), ...profile.variables };
}

/** Validates a task context and turns it into template variables. */
function taskVariables(context: TaskContext): Record<string, string> {
  if (typeof context !== 'object' || (context as unknown) === null) throw new PromptBuilderError('a task context must be an object');
  if (typeof context.task !== 'string' || context.task.trim() === '')
    throw new PromptBuilderError('task context field "task" must be a non-empty string');
  for (const field of ['requirements', 'deliverables'] as const) {
    const list: unknown = context[field];
    if (list !== undefined && !(Array.isArray(list) && list.every((item) => typeof item === 'string'))) {
      throw new PromptBuilderError(`task context field "${field}" must be a list of strings`);
    }
  }
  const extra: Record<string, string> = {};
  for (const [name, value] of Object.entries(context.variables ?? {})) extra[name] = String(value);
  return {
    ...extra,
    task: context.task,
    requirements: bullets(context.requirements),
    deliverables: bullets(context.deliverables),
    priority: context.priority ?? 'medium',
  };
}
