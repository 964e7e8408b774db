import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DelegationError } from './errors.js';
import type { AgentRunInput, AgentRunOutput, WorkerReply, WorkerRequest } from './runner.js';

export interface AgentRunResult {
  result: AgentRunOutput;
  /** From the orchestrator's request to the prompt being in the subprocess's hands. */
  promptReadyMs: number;
  runMs: number;
  pid: number;
}

export interface AgentProcessOptions {
  readonly execArgv: readonly string[];
  /** How long an agent gets to exit after SIGTERM before its whole group gets SIGKILL. */
  readonly killGraceMs: number;
  /** Where the agent's stdout and stderr go. */
  readonly output: 'inherit' | 'ignore';
}

interface Pending {
  id: number;
  /** The agent confirmed it has the task (before that, a dead agent never started it). */
  accepted: boolean;
  agentType: string;
  resolve: (result: AgentRunResult) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const GROUP_POLL_MS = 25;

/** Sends `signal` to every process of the group led by `pid`; false once none is left. */
function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone
  }
}

/**
 * One agent subprocess, running one task at a time. It leads its own process group, so a
 * timeout or a stop ends everything it started (its own children too): SIGTERM to the group,
 * then SIGKILL once `killGraceMs` has passed. A dead process is never handed a task, and a
 * broken pipe is a {@link DelegationError}, never a crash of the host.
 */
export class AgentProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly #options: AgentProcessOptions;
  #pending: Pending | undefined;
  /** Exited, or being ended: never handed another task. */
  #dead = false;
  #ending: Promise<void> | undefined;
  readonly #exited: Promise<void>;

  constructor(workerFile: URL, runnerModule: URL, options: AgentProcessOptions) {
    this.#options = options;
    const out = options.output === 'inherit' ? 'inherit' : 'ignore';
    // detached: a new session and process group, led by the agent.
    this.child = fork(fileURLToPath(workerFile), [runnerModule.href], {
      execArgv: [...options.execArgv],
      stdio: ['ignore', out, out, 'ipc'],
      detached: true,
    });
    this.#exited = new Promise((resolve) =>
      this.child.once('exit', () => {
        resolve();
      }),
    );
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (message: WorkerReply) => {
        if (message.type === 'ready') resolve();
      });
      this.child.once('exit', (code, signal) => {
        reject(new Error(`the agent process exited before it was ready (${signal ?? `code ${String(code)}`})`));
      });
      this.child.once('error', reject);
    });
    // A rejection nobody awaits yet (an idle process dying) must not crash the orchestrator.
    this.ready.catch(() => undefined);
    this.child.on('message', (message: WorkerReply) => {
      this.#onReply(message);
    });
    // EPIPE and friends arrive here; without a listener they would crash the host.
    this.child.on('error', (error) => {
      this.#dead = true;
      this.#fail('crashed', `the agent process failed: ${error.message}`);
    });
    this.child.once('exit', (code, signal) => {
      this.#dead = true;
      const how = signal ?? `code ${String(code)}`;
      this.#fail(
        'crashed',
        this.#pending?.accepted === false
          ? `the task could not be handed over: the agent process exited (${how})`
          : `the agent process exited (${how}) while running the task`,
      );
    });
  }

  /** Alive and connected: safe to hand a task. */
  get alive(): boolean {
    return !this.#dead && this.child.connected && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  run(id: number, input: AgentRunInput, requestedAt: number, timeoutMs: number): Promise<AgentRunResult> {
    return new Promise((resolve, reject) => {
      if (!this.alive) {
        reject(new DelegationError('crashed', input.agentType, 'the agent process is not running'));
        return;
      }
      const timer = setTimeout(() => {
        this.#settle();
        // A hung agent cannot be trusted with the next task: end it (and what it started); the pool replaces it.
        void this.end();
        reject(new DelegationError('timeout', input.agentType, `no result within ${timeoutMs} ms; the agent process was killed`));
      }, timeoutMs);
      this.#pending = { id, accepted: false, agentType: input.agentType, resolve, reject, timer };
      const request: WorkerRequest = { type: 'run', id, requestedAt, input };
      try {
        this.child.send(request, (error) => {
          if (error === null) return;
          this.#dead = true;
          this.#fail('crashed', `the task could not be handed over: ${error.message}`);
        });
      } catch (error) {
        this.#dead = true;
        this.#fail('crashed', `the task could not be handed over: ${(error as Error).message}`);
      }
    });
  }

  /**
   * Ends the agent and everything in its process group: SIGTERM, then SIGKILL after the grace
   * bound for whatever is left (an agent that ignores SIGTERM, or a child it started). Resolves
   * once the group is gone.
   */
  end(): Promise<void> {
    this.#dead = true;
    this.#ending ??= this.#endGroup();
    return this.#ending;
  }

  async #endGroup(): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) return;
    if (!signalGroup(pid, 'SIGTERM')) return;
    const deadline = Date.now() + this.#options.killGraceMs;
    while (Date.now() < deadline && signalGroup(pid, 0)) await new Promise((resolve) => setTimeout(resolve, GROUP_POLL_MS));
    signalGroup(pid, 'SIGKILL');
    // The leader's 'exit' may lag behind the signal; do not wait for it past a second.
    await Promise.race([this.#exited, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  }

  #onReply(message: WorkerReply): void {
    const pending = this.#pending;
    if (message.type === 'ready' || message.id !== pending?.id) return;
    if (message.type === 'accepted') {
      pending.accepted = true;
      return;
    }
    this.#settle();
    if (message.type === 'error') pending.reject(new DelegationError('runner-error', pending.agentType, message.message));
    else pending.resolve({ result: message.result, promptReadyMs: message.promptReadyMs, runMs: message.runMs, pid: this.pid });
  }

  #fail(reason: 'crashed', message: string): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#settle();
    pending.reject(new DelegationError(reason, pending.agentType, message));
  }

  #settle(): void {
    if (this.#pending !== undefined) clearTimeout(this.#pending.timer);
    this.#pending = undefined;
  }
}
