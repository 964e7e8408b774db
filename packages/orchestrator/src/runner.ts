/** What an agent subprocess's runner receives. */
export interface AgentRunInput {
  agentType: string;
  /** The full delegation prompt (stable prefix + task suffix). */
  prompt: string;
  /** The stable part of `prompt` (the agent's profile and components): what a provider caches. */
  prefix?: string;
  /** The task part of `prompt`, after the prefix. */
  suffix?: string;
  /** sha256 (hex) of `prefix`: an OpenAI `prompt_cache_key`. */
  prefixHash?: string;
  taskDescription: string;
}

/** What a runner returns; `output` is handed back to the caller of `delegate()`. */
export interface AgentRunOutput {
  output: string;
  /** Anything else worth reporting (token counts, model, ...); must be serializable. */
  details?: Record<string, unknown>;
}

/**
 * Runs one delegated task inside an agent subprocess. Plug in a real model client by writing a
 * module whose default export is an `AgentRunner`, and pass its path as the orchestrator's
 * `runner` option: it is imported in each subprocess.
 */
export interface AgentRunner {
  run(input: AgentRunInput): AgentRunOutput | Promise<AgentRunOutput>;
}

/** Messages between the orchestrator and an agent subprocess. */
export interface WorkerRequest {
  type: 'run';
  id: number;
  requestedAt: number;
  input: AgentRunInput;
}
export type WorkerReply =
  | { type: 'ready' }
  /** The task arrived: from here on it may have started, so it is never handed to another process. */
  | { type: 'accepted'; id: number }
  | { type: 'result'; id: number; promptReadyMs: number; runMs: number; result: AgentRunOutput }
  | { type: 'error'; id: number; message: string };

/**
 * A timestamp in milliseconds that processes of one host can compare: `process.hrtime` reads the
 * system's monotonic clock. (`performance.timeOrigin` is fixed per process from the wall clock
 * and can disagree between two processes by about a millisecond, as much as what is measured.)
 */
export function sharedClockMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
