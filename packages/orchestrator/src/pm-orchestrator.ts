import { escapePattern, makeCacheKey, type CacheMetrics, type SharedPromptCache } from '@pm/cache-core';
import { CacheAccess, countTokens, type AgentPromptBuilder, type BuiltPrompt } from '@pm/prompt-builder';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { traced, parseDuration, silentLogger, type Duration, type Logger, type Service } from '@pm/service-manager/contract';
import { AgentPool, SUMMARY_RUNNER } from './agent-pool.js';
import { OrchestratorError } from './errors.js';
import { sharedClockMs } from './runner.js';

/** The OpenTelemetry tracer scope of delegations. */
const TRACER = '@pm/orchestrator';

/** A task to hand to an agent. */
export interface DelegationRequest {
  agentType: string;
  taskDescription: string;
  requirements?: readonly string[];
  deliverables?: readonly string[];
  priority?: 'low' | 'medium' | 'high' | 'critical';
}

export interface DelegationResult {
  agentType: string;
  output: string;
  details?: Record<string, unknown>;
  /** From the `delegate()` call to the prompt being in the agent subprocess's hands. */
  promptReadyMs: number;
  /** The runner's time inside the subprocess. */
  runMs: number;
  totalMs: number;
  pid: number;
}

export interface PMOrchestratorOptions {
  builder: AgentPromptBuilder;
  /** The shared cache; without one (or when it throws) prompts are generated uncached. */
  cache?: SharedPromptCache;
  logger?: Logger;
  /** TTL of delegation prompts. @default '15m' */
  ttl?: Duration;
  /** Agent subprocesses running at once. @default 2 */
  maxAgents?: number;
  /** Bound on one delegated task; past it the subprocess and everything it started are killed. @default '60s' */
  taskTimeout?: Duration;
  /** How long an agent gets after SIGTERM (on timeout or stop) before its whole process group gets SIGKILL. @default '2s' */
  killTimeout?: Duration;
  /** Path (relative to the working directory) or `file:` URL of a module whose default export is an `AgentRunner`. @default the summary runner */
  runner?: string | URL;
  /** Extra node flags for agent subprocesses. */
  execArgv?: readonly string[];
  /** Where agents' stdout and stderr go. @default 'inherit' */
  agentOutput?: 'inherit' | 'ignore';
}

const PRIORITIES = new Set(['low', 'medium', 'high', 'critical']);
const DELEGATION_BRIEF = '\nYou were delegated this task by the PM orchestrator. Work on it alone and end with your report.\n';
const BRIEF_TOKENS = countTokens(DELEGATION_BRIEF);
const configError = (message: string) => new OrchestratorError(message);

/**
 * Generates delegation prompts (cached as `delegation_prompt:<agent>:<hash>`) and hands tasks
 * to agent subprocesses. As a service, `start()` starts the subprocesses ahead of need and
 * `stop()` ends them.
 */
export class PMOrchestrator implements Service {
  readonly #builder: AgentPromptBuilder;
  readonly #cache: CacheAccess;
  readonly #log: Logger;
  readonly #ttl: Duration;
  readonly #timeoutMs: number;
  readonly #maxAgents: number;
  readonly #pool: AgentPool;

  constructor(options: PMOrchestratorOptions) {
    const builder: unknown = options.builder;
    if (typeof (builder as Partial<AgentPromptBuilder> | undefined)?.buildTaskToolPrompt !== 'function')
      throw new OrchestratorError('PMOrchestrator needs a prompt builder');
    this.#builder = options.builder;
    this.#log = options.logger ?? silentLogger;
    this.#cache = new CacheAccess(options.cache, this.#log, 'orchestrator');
    this.#ttl = options.ttl ?? '15m';
    parseDuration(this.#ttl, 'ttl', configError);
    this.#timeoutMs = parseDuration(options.taskTimeout ?? '60s', 'taskTimeout', configError, { timer: true, finite: true });
    const killGraceMs = parseDuration(options.killTimeout ?? '2s', 'killTimeout', configError, { timer: true, finite: true });
    const output: unknown = options.agentOutput ?? 'inherit';
    if (output !== 'inherit' && output !== 'ignore')
      throw new OrchestratorError(`agentOutput must be 'inherit' or 'ignore', got ${JSON.stringify(output)}`);
    this.#maxAgents = options.maxAgents ?? 2;
    if (!(Number.isSafeInteger(this.#maxAgents) && this.#maxAgents > 0))
      throw new OrchestratorError(`maxAgents must be a positive integer, got ${String(options.maxAgents)}`);
    this.#pool = new AgentPool({
      size: this.#maxAgents,
      runnerModule: runnerUrl(options.runner),
      execArgv: options.execArgv ?? [],
      killGraceMs,
      output,
      logger: this.#log,
    });
  }

  /** The delegation prompt for a task: the agent's task prompt plus the delegation brief. */
  async generateAgentPrompt(request: DelegationRequest): Promise<BuiltPrompt> {
    validate(request);
    const { agentType, taskDescription, requirements, deliverables, priority } = request;
    const key = `delegation_prompt:${agentType}:${makeCacheKey(this.#builder.sources.projectDir, { taskDescription, requirements, deliverables, priority })}`;
    return this.#cache.getOrCompute(
      key,
      async () => {
        const built = await this.#builder.buildTaskToolPrompt(agentType, {
          task: taskDescription,
          ...(requirements === undefined ? {} : { requirements }),
          ...(deliverables === undefined ? {} : { deliverables }),
          ...(priority === undefined ? {} : { priority }),
        });
        const suffix = `${built.suffix}${DELEGATION_BRIEF}`;
        return { ...built, suffix, text: built.prefix + suffix, tokenEstimate: built.tokenEstimate + BRIEF_TOKENS };
      },
      this.#ttl,
      // Tagged with the files it was built from: an edited profile or component drops it too, in every process.
      (prompt) => prompt.tags,
    );
  }

  /**
   * Hands a task to an agent subprocess: generates its prompt, waits for a free slot, and
   * resolves with the runner's output.
   * @throws DelegationError when the subprocess crashes, hangs past `taskTimeout` or its runner throws
   */
  async delegate(request: DelegationRequest): Promise<DelegationResult> {
    const requestedAt = sharedClockMs();
    // The GenAI conventions' agent invocation: `invoke_agent {gen_ai.agent.name}`.
    return traced(
      TRACER,
      `invoke_agent ${request.agentType}`,
      { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': request.agentType },
      async (span) => {
        const prompt = await this.generateAgentPrompt(request);
        const run = await this.#pool.run(
          {
            agentType: request.agentType,
            prompt: prompt.text,
            prefix: prompt.prefix,
            suffix: prompt.suffix,
            prefixHash: prompt.prefixHash,
            taskDescription: request.taskDescription,
          },
          requestedAt,
          this.#timeoutMs,
        );
        span.set({ 'agent.pid': run.pid, 'agent.prompt_ready_ms': run.promptReadyMs, 'agent.run_ms': run.runMs });
        return {
          agentType: request.agentType,
          output: run.result.output,
          ...(run.result.details === undefined ? {} : { details: run.result.details }),
          promptReadyMs: run.promptReadyMs,
          runMs: run.runMs,
          totalMs: sharedClockMs() - requestedAt,
          pid: run.pid,
        };
      },
    );
  }

  /** Drops cached delegation prompts (and the builder's entries) of one agent, or of all. */
  async invalidateCache(agentType?: string): Promise<number> {
    if (agentType !== undefined && (typeof agentType !== 'string' || agentType === ''))
      throw new OrchestratorError('agentType must be a non-empty string');
    const pattern = agentType === undefined ? 'delegation_prompt:*' : `delegation_prompt:${escapePattern(agentType)}:*`;
    // The builder's tag invalidation of the agent reaches its delegation prompts too (they carry the tag).
    const [own, builder] = await Promise.all([this.#cache.invalidate(pattern), this.#builder.invalidateCache(agentType)]);
    return own + builder;
  }

  /** The shared cache's metrics, or undefined when the orchestrator runs without one. */
  getCacheMetrics(): CacheMetrics | undefined {
    return this.#cache.cache?.getMetrics();
  }

  /** Subprocesses alive and delegations waiting for a slot. */
  get agents(): { processes: number; queued: number; max: number } {
    return { processes: this.#pool.processCount, queued: this.#pool.queued, max: this.#maxAgents };
  }

  async start(): Promise<void> {
    await this.#pool.prestart();
  }

  async stop(): Promise<void> {
    await this.#pool.close();
  }
}

/** The runner module as a URL; a path is turned into one by Node (`#`, `?` and spaces are file name characters there). */
function runnerUrl(runner: string | URL | undefined): URL {
  if (runner === undefined) return SUMMARY_RUNNER;
  if (runner instanceof URL) return runner;
  if (typeof runner !== 'string' || runner === '') throw new OrchestratorError('runner must be a module path or a file: URL');
  return runner.startsWith('file:') ? new URL(runner) : pathToFileURL(path.resolve(runner));
}

function validate(request: DelegationRequest): void {
  const input = request as Partial<Record<keyof DelegationRequest, unknown>> | null;
  if (typeof input !== 'object' || input === null) throw new OrchestratorError('a delegation request must be an object');
  if (typeof input.agentType !== 'string' || input.agentType === '') throw new OrchestratorError('agentType must be a non-empty string');
  if (typeof input.taskDescription !== 'string' || input.taskDescription.trim() === '')
    throw new OrchestratorError('taskDescription must be a non-empty string');
  if (input.priority !== undefined && !PRIORITIES.has(input.priority as string)) {
    throw new OrchestratorError(`priority must be one of ${[...PRIORITIES].join(', ')}, got ${JSON.stringify(input.priority)}`);
  }
}
