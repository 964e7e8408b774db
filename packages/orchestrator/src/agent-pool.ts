import { createRequire } from 'node:module';
import { silentLogger, type Logger } from '@pm/service-manager/contract';
import { AgentProcess, type AgentRunResult } from './agent-process.js';
import { DelegationError } from './errors.js';
import type { AgentRunInput } from './runner.js';

export interface AgentPoolOptions {
  /** Most agent subprocesses alive at once: the number of slots. */
  size: number;
  /** URL of the runner module each subprocess imports. */
  runnerModule: URL;
  /** Extra node flags for the subprocesses. */
  execArgv?: readonly string[];
  /** How long an agent gets to exit after SIGTERM before SIGKILL. */
  killGraceMs: number;
  /** Where agents' stdout and stderr go. */
  output: 'inherit' | 'ignore';
  logger?: Logger;
}

export type { AgentRunResult };

/** A module next to this one: `.ts` when running from source (tests), `.js` when built. */
function sibling(name: string): URL {
  return new URL(`./${name}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
}

/** The built-in runner, which summarises the prompt instead of calling a model. */
export const SUMMARY_RUNNER = sibling('summary-runner');

/**
 * A bounded pool of agent subprocesses. Each delegation takes a slot; a subprocess that crashes
 * or hangs is replaced and its slot is given back, so failures never leak capacity. An idle
 * process that died is dropped when it is next picked, never handed the task.
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
    this.#options = {
      size: options.size,
      runnerModule: options.runnerModule,
      execArgv,
      killGraceMs: options.killGraceMs,
      output: options.output,
    };
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
    await Promise.all(
      started.map(async (process) => {
        await process.ready.catch(() => undefined);
        this.#release(process);
      }),
    );
  }

  /**
   * Runs one task in a free subprocess, waiting for a slot if all are busy. A process found dead
   * at handover (it died while idle) is replaced and the task handed to the new one: the task
   * never started, so it is safe to hand over again.
   */
  async run(input: AgentRunInput, requestedAt: number, timeoutMs: number): Promise<AgentRunResult> {
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw new DelegationError('closed', input.agentType, 'the orchestrator is stopped');
      const process = await this.#acquire(input.agentType);
      try {
        await process.ready.catch((error: unknown) => {
          throw new DelegationError('crashed', input.agentType, (error as Error).message);
        });
        return await process.run(this.#nextId++, input, requestedAt, timeoutMs);
      } catch (error) {
        const handover =
          error instanceof DelegationError &&
          error.reason === 'crashed' &&
          /could not be handed over|is not running|before it was ready/.test(error.message);
        if (!handover || attempt >= 1) throw error;
        this.#log.warn({ pid: process.pid, err: error }, 'an idle agent process had died; handing the task to a new one');
      } finally {
        this.#release(process);
      }
    }
  }

  /** Ends every subprocess (and what each started), within the kill grace; tasks waiting for a slot are rejected. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const resolve of this.#waiting.splice(0)) resolve(undefined);
    this.#idle.length = 0;
    await Promise.all([...this.#all].map((process) => process.end()));
    this.#all.clear();
  }

  async #acquire(agentType: string): Promise<AgentProcess> {
    for (let idle = this.#idle.pop(); idle !== undefined; idle = this.#idle.pop()) {
      if (idle.alive) return idle;
      this.#all.delete(idle); // died while idle: never handed a task
    }
    if (this.#all.size < this.#options.size) return this.#spawn();
    const process = await new Promise<AgentProcess | undefined>((resolve) => this.#waiting.push(resolve));
    if (process === undefined) throw new DelegationError('closed', agentType, 'the orchestrator stopped while the task waited for a slot');
    return process;
  }

  #release(process: AgentProcess): void {
    if (!process.alive) {
      this.#all.delete(process);
      void process.end(); // whatever it left in its group goes too
      this.#log.warn({ pid: process.pid }, 'replacing an agent process that exited');
      // Its slot is free again: hand a fresh process to whoever waits.
      if (this.#waiting.length > 0 && !this.#closed) this.#waiting.shift()?.(this.#spawn());
      return;
    }
    if (this.#closed) {
      void process.end();
      return;
    }
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter(process);
    else this.#idle.push(process);
  }

  #spawn(): AgentProcess {
    const process = new AgentProcess(this.#workerFile, this.#options.runnerModule, {
      execArgv: this.#options.execArgv,
      killGraceMs: this.#options.killGraceMs,
      output: this.#options.output,
    });
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
