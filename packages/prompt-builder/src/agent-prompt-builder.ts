import { createHash } from 'node:crypto';
import path from 'node:path';
import { makeCacheKey, type SharedPromptCache } from '@pm/cache-core';
import { traced, silentLogger, type Duration, type Logger, type Service } from '@pm/service-manager/contract';
import { AgentIndex } from './agent-index.js';
import { CacheAccess } from './cache-access.js';
import { parseComponent, renderComponent, type ParsedComponent } from './component.js';
import { PromptBuilderError } from './errors.js';
import { parseProfile, type AgentProfile } from './profile.js';
import { agentTag, componentTag, fileTag } from './source-tags.js';
import { assertAgentName, assertComponentName, SourceDirectories, type SourceDirectoryOptions } from './sources.js';
import { countTokens } from './tokens.js';
import { watchSources, type SourceChange, type SourceWatcher } from './watch.js';

/** What a task prompt is built from. */
export interface TaskContext {
  task: string;
  requirements?: readonly string[];
  deliverables?: readonly string[];
  priority?: string;
  /** Values for placeholders of the task template: substituted wherever they appear in it. */
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
  /** Tokens of `text` (o200k_base; an estimate for models whose tokenizer is not public). */
  tokenEstimate: number;
  /** Tokens of `prefix`: the part a provider can cache. */
  prefixTokens: number;
  /** The files it was built from: the profile, its components, the task template. */
  sources: string[];
  /** The cache tags it carries: its files and the names they were found under. */
  tags: string[];
}

export interface AgentPromptBuilderOptions extends SourceDirectoryOptions {
  /** The shared cache; without one the builder works uncached (and says so once). */
  cache?: SharedPromptCache;
  logger?: Logger;
  /** @default { profile: '30m', taskPrompt: '10m', component: '30m' } */
  ttl?: { profile?: Duration; taskPrompt?: Duration; component?: Duration };
  /** Component rendered with the task context as the prompt's suffix. @default 'task' */
  taskTemplate?: string;
  /** Reject unknown front matter fields instead of keeping them in `profile.extra`. @default false */
  strict?: boolean;
  /** As a service, watch the source directories while running (see `watch()`). @default false */
  watch?: boolean;
}

/** The OpenTelemetry tracer scope of prompt builds. */
const TRACER = '@pm/prompt-builder';

/** The cache namespaces the builder writes. */
export const PROMPT_BUILDER_NAMESPACES = ['agent_profile', 'prompt_prefix', 'task_prompt', 'prompt_component'] as const;

interface Prefix {
  text: string;
  hash: string;
  tokens: number;
  sources: string[];
  tags: string[];
}

interface Component {
  text: string;
  path: string;
  name: string;
}

interface ComponentSource extends ParsedComponent {
  path: string;
}

const bullets = (items: readonly string[] | undefined): string =>
  items === undefined || items.length === 0 ? '- none' : items.map((item) => `- ${item}`).join('\n');
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const unique = (items: Iterable<string>): string[] => [...new Set(items)];

/**
 * Loads agent profiles — Claude Code subagents, the collections built on that format, this
 * project's `.pm/agents` profiles, plain Markdown role files — and builds task prompts from them,
 * through the shared cache when one is given. Every cached entry is tagged with the files it was
 * built from, so an edit drops exactly its dependents, in every process.
 */
export class AgentPromptBuilder implements Service {
  readonly sources: SourceDirectories;
  readonly #agents: AgentIndex;
  readonly #cache: CacheAccess;
  readonly #log: Logger;
  readonly #ttl: { profile: Duration; taskPrompt: Duration; component: Duration };
  readonly #taskTemplate: string;
  readonly #strict: boolean;
  readonly #watchWhileRunning: boolean;
  readonly #listeners = new Set<(change: SourceChange) => void>();
  readonly #projectKey: string;
  #watcher: SourceWatcher | undefined;

  constructor(options: AgentPromptBuilderOptions = {}) {
    this.sources = new SourceDirectories(options);
    this.#agents = new AgentIndex(this.sources.agents);
    this.#log = options.logger ?? silentLogger;
    this.#cache = new CacheAccess(options.cache, this.#log, 'prompt-builder');
    this.#ttl = { profile: '30m', taskPrompt: '10m', component: '30m', ...options.ttl };
    this.#taskTemplate = options.taskTemplate ?? 'task';
    assertComponentName(this.#taskTemplate);
    this.#strict = options.strict ?? false;
    this.#watchWhileRunning = options.watch ?? false;
    this.#projectKey = makeCacheKey(this.sources.projectDir);
  }

  /**
   * The profile of agent `name` (its file name or its `name:`), from the highest-precedence
   * directory; cached as `agent_profile:<name>:<project>`.
   */
  async loadAgentProfile(name: string): Promise<AgentProfile> {
    assertAgentName(name);
    return this.#cache.getOrCompute(
      `agent_profile:${name}:${this.sources.projectDir}`,
      async () => {
        const found = await this.#agents.read(name);
        return parseProfile(found.text, { path: found.path, tier: found.tier }, { strict: this.#strict });
      },
      this.#ttl.profile,
      (profile) => [fileTag(profile.source.path), agentTag(name), agentTag(profile.name)],
    );
  }

  /** Every agent the directories hold (once per name, the highest-precedence definition). */
  async listAgents(): Promise<{ name: string; fileName: string; path: string; tier: string }[]> {
    return (await this.#agents.list()).map((entry) => ({
      name: entry.declaredName ?? entry.fileName,
      fileName: entry.fileName,
      path: path.join(entry.dir, entry.relativePath),
      tier: entry.tier,
    }));
  }

  /**
   * The task prompt for `agentName`: the agent's stable prefix plus the task template rendered
   * with `context`. Cached as `task_prompt:<name>:<hash>`, the hash a stable serialization of
   * the project and the context (the same in every process). A new task of a known agent costs
   * only its suffix: the prefix is cached on its own.
   */
  async buildTaskToolPrompt(agentName: string, context: TaskContext): Promise<BuiltPrompt> {
    assertAgentName(agentName);
    const variables = taskVariables(context);
    const key = `task_prompt:${agentName}:${makeCacheKey(this.sources.projectDir, context)}`;
    return this.#cache.getOrCompute(
      key,
      () =>
        traced(TRACER, 'prompt.build', { 'gen_ai.agent.name': agentName }, async (span) => {
          const profile = await this.loadAgentProfile(agentName);
          const prefix = await this.#prefix(agentName, profile);
          const values = { ...builtIns(profile, this.sources.projectDir), ...variables.values };
          const task = await this.#component(this.#taskTemplate, variables.provided, values);
          const text = prefix.text + task.text;
          const tokenEstimate = prefix.tokens + countTokens(task.text);
          span.set({ 'prompt.tokens': tokenEstimate, 'prompt.prefix_tokens': prefix.tokens, 'prompt.sources': prefix.sources.length + 1 });
          return {
            text,
            prefix: prefix.text,
            suffix: task.text,
            prefixHash: prefix.hash,
            tokenEstimate,
            prefixTokens: prefix.tokens,
            sources: unique([...prefix.sources, task.path]),
            tags: unique([...prefix.tags, fileTag(task.path), componentTag(task.name)]),
          };
        }),
      this.#ttl.taskPrompt,
      (built) => built.tags,
    );
  }

  /**
   * A component (`components/<name>.md`, highest precedence first) rendered: its declared
   * placeholders filled (from `variables`, else its defaults), the rest verbatim.
   * @throws TemplateError naming a declared placeholder without a value
   */
  async renderComponent(name: string, variables: Readonly<Record<string, string>> = {}): Promise<string> {
    return (await this.#component(name, variables, {})).text;
  }

  /** Reads hot components ahead of use, so the first prompts that need them hit the cache. */
  async preloadComponents(components: readonly { name: string }[]): Promise<void> {
    await Promise.all(components.map(({ name }) => this.#componentSource(name)));
  }

  /**
   * Drops cached profiles and prompts of agent `name` (its profile, prefix and task prompts), or
   * everything the builder cached. Resolves the number of entries removed here.
   */
  async invalidateCache(name?: string): Promise<number> {
    if (name !== undefined) {
      assertAgentName(name);
      return this.#cache.invalidateTags([agentTag(name)]);
    }
    const removed = await Promise.all(PROMPT_BUILDER_NAMESPACES.map((ns) => this.#cache.invalidate(`${ns}:*`)));
    return removed.reduce((sum, n) => sum + n, 0);
  }

  /**
   * Watches the profile and component directories — including those that do not exist yet:
   * a directory created later is picked up. An edited, added or removed file drops exactly the
   * entries built from it (tagged with it), here and in every process sharing the cache.
   * @returns a function that stops watching
   */
  watch(): () => void {
    void this.#watcher?.close();
    const watcher = watchSources(this.sources, (change) => void this.#onSourceChange(change), this.#log);
    this.#watcher = watcher;
    return () => {
      void watcher.close();
      if (this.#watcher === watcher) this.#watcher = undefined;
    };
  }

  /** Resolves once the watcher (if any) watches every directory. */
  async watching(): Promise<void> {
    await this.#watcher?.ready;
  }

  /** Called after a watched profile or component changed and its cache entries were dropped. */
  onChange(listener: (change: SourceChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** As a service: profiles are read on demand, so starting only begins watching (with `watch: true`). */
  async start(): Promise<void> {
    if (!this.#watchWhileRunning) return;
    this.watch();
    await this.watching();
  }

  async stop(): Promise<void> {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    await watcher?.close();
  }

  async #onSourceChange(change: SourceChange): Promise<void> {
    const tags = [fileTag(change.path), ...change.names.map(change.kind === 'profile' ? agentTag : componentTag)];
    if (change.kind === 'profile') this.#agents.reset();
    const removed = await this.#cache.invalidateTags(tags);
    this.#log.debug({ ...change, removed }, 'prompt source changed; entries built from it dropped');
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        this.#log.error({ err: error }, 'a prompt source change listener threw');
      }
    }
  }

  /** Profile body, rules and components: the part of every prompt of this agent that never varies. */
  async #prefix(agentName: string, profile: AgentProfile): Promise<Prefix> {
    return this.#cache.getOrCompute(
      `prompt_prefix:${agentName}:${this.#projectKey}`,
      async () => {
        const values = builtIns(profile, this.sources.projectDir);
        const parts = [renderComponent({ template: profile.body, declared: profile.variables }, {}, values, profile.source.path)];
        if (profile.rules.length > 0) parts.push(`## Rules\n\n${profile.rules.map((rule, i) => `${i + 1}. ${rule}`).join('\n')}`);
        const components: Component[] = [];
        for (const name of profile.components) components.push(await this.#component(name, {}, values));
        parts.push(...components.map((c) => c.text.trim()));
        const text = `${parts.filter((part) => part !== '').join('\n\n')}\n\n`;
        return {
          text,
          hash: sha256(text),
          tokens: countTokens(text),
          sources: [profile.source.path, ...components.map((c) => c.path)],
          tags: unique([
            fileTag(profile.source.path),
            agentTag(agentName),
            agentTag(profile.name),
            ...components.flatMap((c) => [fileTag(c.path), componentTag(c.name)]),
          ]),
        };
      },
      this.#ttl.profile,
      (prefix) => prefix.tags,
    );
  }

  /** A component rendered with these values: its source comes from the cache, rendering is a string pass. */
  async #component(
    name: string,
    provided: Readonly<Record<string, string>>,
    values: Readonly<Record<string, string | undefined>>,
  ): Promise<Component> {
    const source = await this.#componentSource(name);
    return { text: renderComponent(source, provided, values, source.path), path: source.path, name };
  }

  /** A component's file, read and parsed; cached as `prompt_component:<name>:<project hash>`. */
  async #componentSource(name: string): Promise<ComponentSource> {
    assertComponentName(name);
    return this.#cache.getOrCompute(
      `prompt_component:${name}:${this.#projectKey}`,
      async () => {
        const found = await this.sources.readComponent(name);
        return { ...parseComponent(found.text, found.path), path: found.path };
      },
      this.#ttl.component,
      (source) => [fileTag(source.path), componentTag(name)],
    );
  }
}

/** What every template may use when it declares it: the agent, the project, the description. */
function builtIns(profile: AgentProfile, projectDir: string): Record<string, string | undefined> {
  const defaults: Record<string, string | undefined> = {
    agent: profile.name,
    description: profile.description,
    project: path.basename(projectDir),
  };
  for (const [name, value] of Object.entries(profile.variables)) if (value !== undefined) defaults[name] = value;
  return defaults;
}

/** Validates a task context: the values the task template declares, and those the caller provides. */
function taskVariables(context: TaskContext): { values: Record<string, string>; provided: Record<string, string> } {
  if (typeof context !== 'object' || (context as unknown) === null) throw new PromptBuilderError('a task context must be an object');
  if (typeof context.task !== 'string' || context.task.trim() === '')
    throw new PromptBuilderError('task context field "task" must be a non-empty string');
  for (const field of ['requirements', 'deliverables'] as const) {
    const list: unknown = context[field];
    if (list !== undefined && !(Array.isArray(list) && list.every((item) => typeof item === 'string'))) {
      throw new PromptBuilderError(`task context field "${field}" must be a list of strings`);
    }
  }
  const provided: Record<string, string> = {};
  for (const [name, value] of Object.entries(context.variables ?? {})) provided[name] = String(value);
  return {
    values: {
      task: context.task,
      requirements: bullets(context.requirements),
      deliverables: bullets(context.deliverables),
      priority: context.priority ?? 'medium',
    },
    provided,
  };
}
