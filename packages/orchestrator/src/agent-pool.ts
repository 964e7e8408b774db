import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { silentLogger, type Logger } from '@pm/service-manager/contract';
import { DelegationError } from './errors.js';
import type { AgentRunInput, AgentRunOutput, WorkerReply, WorkerRequest } from './runner.js';

export interface AgentPoolOptions {
  /** Most agent subprocesses alive at once: the number of slots. */
  size: number;
  /** URL of the runner module each subprocess imports. */
  runnerModule: URL;
  /** Extra node flags for the subprocesses. */
  execArgv?: readonly string[];
  logger?: Logger;
}

export interface AgentRunResult {
  result: AgentRunOutput;
  /** From the orchestrator's request to the prompt being in the subprocess's hands. */
  promptReadyMs: number;
  runMs: number;
  pid: number;
}

/** A module next to this one: `.ts` when running from source (tests), `.js` when built. */
function sibling(name: string): URL {
  return new URL(`./${name}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
}

/** The built-in runner, which summarises the prompt instead of calling a model. */
export const SUMMARY_RUNNER = sibling('summary-runner');

interface Pending {
  id: number;
  agentType: string;
  resolve: (result: AgentRunResult) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** One agent subprocess: runs one task at a time. */
class AgentProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  #pending: Pending | undefined;
  /** Exited, or killed and about to: never handed another task. */
  #dead = false;

  constructor(workerFile: URL, runnerModule: URL, execArgv: readonly string[]) {
    this.child = fork(fileURLToPath(workerFile), [runnerModule.href], { execArgv: [...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      const onReady = (message: WorkerReply) => {
        if (message.type === 'ready') resolve();
      };
      this.child.on('message', onReady);
      this.child.once('exit', (code, signal) => {
        reject(new Error(`the agent process exited before it was ready (${signal ?? `code ${String(code)}`})`));
      });
    });
    // A rejection nobody awaits yet (an idle process dying) must not crash the orchestrator.
    this.ready.catch(() => undefined);
    this.child.on('message', (message: WorkerReply) => {
      this.#onReply(message);
    });
    this.child.once('exit', (code, signal) => {
      this.#dead = true;
      const pending = this.#pending;
      if (pending === undefined) return;
      this.#settle();
      pending.reject(new DelegationError('crashed', pending.agentType, `the agent process exited (${signal ?? `code ${String(code)}`}) while running the task`));
    });
  }

  get alive(): boolean {
    return !this.#dead;
  }

  run(id: number, input: AgentRunInput, requestedAt: number, timeoutMs: number): Promise<AgentRunResult> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#settle();
        // A hung agent cannot be trusted with the next task: end it; the pool replaces it.
        this.#dead = true;
        this.child.kill('SIGKILL');
        reject(new DelegationError('timeout', input.agentType, `no result within ${timeoutMs} ms; the agent process was killed`));
      }, timeoutMs);
      this.#pending = { id, agentType: input.agentType, resolve, reject, timer };
      const request: WorkerRequest = { type: 'run', id, requestedAt, input };
      this.child.send(request);
    });
  }

  kill(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.child.kill('SIGTERM');
  }

  #onReply(message: WorkerReply): void {
    const pending = this.#pending;
    if (message.type === 'ready' || message.id !== pending?.id) return;
    this.#settle();
    if (message.type === 'error') {
      pending.reject(new DelegationError('runner-error', pending.agentType, message.message));
    } else {
      pending.resolve({ result: message.result, promptReadyMs: message.promptReadyMs, runMs: message.runMs, pid: this.child.pid ?? -1 });
    }
  }

  #settle(): void {
    if (this.#pending !== undefined) clearTimeout(this.#pending.timer);
    this.#pending = undefined;
  }
}

/**
 * A bounded pool of agent subprocesses. Each delegation takes a slot; a subprocess that crashes
 * or hangs is replaced and its slot is given back, so failures never leak capacity.
 */
export class AgentPool {
  readonly #options: Required<Omit<AgentPoolOptions, 'logger'>>;
  readonly #log: Logger;
  readonly #workerFile = sibling('agent-worker');
  readonly #all = new Set<AgentProcess>();
  readonly #idle: AgentProcess[] = [];
  readonly #waiting: ((process: AgentProcess | undefined) => void)[] = [];
  #nextId = 1;
  #closed = false;

  constructor(options: AgentPoolOptions) {
    const execArgv = [...(options.execArgv ?? [])];
    // Running from source (tests), the worker is TypeScript: load it through tsx.
    if (this.#workerFile.pathname.endsWith('.ts') && !execArgv.some((arg) => arg.includes('tsx'))) {
      execArgv.push('--import', createRequire(import.meta.url).resolve('tsx'));
    }
    this.#options = { size: options.size, runnerModule: options.runnerModule, execArgv };
    this.#log = options.logger ?? silentLogger;
  }

  /** Subprocesses alive now, busy or idle. */
  get processCount(): number {
    return this.#all.size;
  }

  /** Delegations waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  /** Starts subprocesses ahead of need (up to `size`), so the first delegations do not pay for a process start. */
  async prestart(count = this.#options.size): Promise<void> {
    const started: AgentProcess[] = [];
    while (this.#all.size < Math.min(count, this.#options.size)) started.push(this.#spawn());
    await Promise.all(started.map(async (process) => {
      await process.ready;
      this.#release(process);
    }));
  }

  /** Runs one task in a free subprocess, waiting for a slot if all are busy. */
  async run(input: AgentRunInput, requestedAt: number, timeoutMs: number): Promise<AgentRunResult> {
    if (this.#closed) throw new DelegationError('closed', input.agentType, 'the orchestrator is stopped');
    const process = await this.#acquire(input.agentType);
    try {
      await process.ready.catch((error: unknown) => {
        throw new DelegationError('crashed', input.agentType, (error as Error).message);
      });
      return await process.run(this.#nextId++, input, requestedAt, timeoutMs);
    } finally {
      this.#release(process);
    }
  }

  /** Ends every subprocess; delegations still waiting for a slot are rejected. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const resolve of this.#waiting.splice(0)) resolve(undefined);
    const exits = [...this.#all].map((process) => new Promise<void>((resolve) => {
      const { exitCode, signalCode } = process.child;
      if (exitCode !== null || signalCode !== null) resolve();
      else process.child.once('exit', () => { resolve(); });
      process.kill();
    }));
    this.#idle.length = 0;
    await Promise.all(exits);
    this.#all.clear();
  }

  async #acquire(agentType: string): Promise<AgentProcess> {
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    if (this.#all.size < this.#options.size) return this.#spawn();
    const process = await new Promise<AgentProcess | undefined>((resolve) => this.#waiting.push(resolve));
    if (process === undefined) throw new DelegationError('closed', agentType, 'the orchestrator stopped while the task waited for a slot');
    return process;
  }

  #release(process: AgentProcess): void {
    if (!process.alive) {
      this.#all.delete(process);
      this.#log.warn({ pid: process.child.pid }, 'replacing an agent process that exited');
      // Its slot is free again: hand a fresh process to whoever waits.
      if (this.#waiting.length > 0 && !this.#closed) this.#waiting.shift()?.(this.#spawn());
      return;
    }
    if (this.#closed) {
      process.kill();
      return;
    }
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter(process);
    else this.#idle.push(process);
  }

  #spawn(): AgentProcess {
    const process = new AgentProcess(this.#workerFile, this.#options.runnerModule, this.#options.execArgv);
    this.#all.add(process);
    process.child.once('exit', () => {
      // An idle process that dies is dropped; the next delegation starts a new one.
      const index = this.#idle.indexOf(process);
      if (index !== -1) {
        this.#idle.splice(index, 1);
        this.#all.delete(process);
      }
    });
    return process;
  }
}
