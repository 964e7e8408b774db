import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SharedPromptCache } from '@pm/cache-core';
import type { DelegationRequest, PMOrchestrator } from '@pm/orchestrator';
import { workerArgs, type DemoOptions } from './options.js';
import { progress } from './progress.js';
import { steadyWorkload } from './serve.js';
import { cyclic, percentile, zipfSampler } from './workload.js';

export interface WorkerReport {
  worker: number;
  p50Ms: number;
  hitRate: number;
  l2Hits: number;
  l2Misses: number;
}

/** A worker process: asks for prompts the main process built, through the shared tier. */
export async function runAsWorker(
  index: number,
  cache: SharedPromptCache,
  orchestrator: PMOrchestrator,
  requests: DelegationRequest[],
  options: DemoOptions,
): Promise<void> {
  cache.resetMetrics();
  const draw = zipfSampler(requests.length, 1.1, 42 + index);
  const samples: number[] = [];
  for (let i = 0; i < options.requests; i++) {
    const request = cyclic(requests, draw());
    const start = performance.now();
    await orchestrator.generateAgentPrompt(request);
    samples.push(performance.now() - start);
  }
  const metrics = cache.getMetrics();
  const report: WorkerReport = {
    worker: index,
    p50Ms: percentile(samples, 50),
    hitRate: metrics.hitRate,
    l2Hits: metrics.l2?.hits ?? 0,
    l2Misses: metrics.l2?.misses ?? 0,
  };
  process.send?.(report);
  if (options.serve) {
    // Serving: keep working on the shared cache until the main process stops this one.
    const stop = new AbortController();
    process.once('SIGTERM', () => {
      stop.abort();
    });
    await steadyWorkload(orchestrator, cache, requests, 1000 + index, stop.signal);
  }
}

/** The worker processes of a run; with --serve they keep running after their report. */
export interface Workers {
  reports: WorkerReport[];
  pids: number[];
  /** Stops the workers still running (SIGTERM) and resolves once they exited. */
  stop(): Promise<void>;
}

/** Runs the other workers as real processes sharing the store; resolves once each has reported. */
export async function runWorkers(options: DemoOptions): Promise<Workers> {
  const children: ChildProcess[] = [];
  const script = fileURLToPath(new URL('./main.ts', import.meta.url));
  const bar = progress(`${options.workers - 1} worker process(es)`, options.workers - 1);
  const reports = await Promise.all(
    Array.from(
      { length: options.workers - 1 },
      (_, i) =>
        new Promise<WorkerReport>((resolve, reject) => {
          let report: WorkerReport | undefined;
          const child = fork(script, workerArgs(options, i + 1), { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
          children.push(child);
          child.on('message', (message: WorkerReport) => {
            report = message;
            // Serving workers go on after reporting; the others exit now.
            if (options.serve) {
              bar.tick();
              resolve(message);
            }
          });
          child.on('exit', (code) => {
            if (options.serve && report !== undefined) return;
            bar.tick();
            if (report !== undefined && code === 0) resolve(report);
            else reject(new Error(`worker ${i + 1} exited with code ${String(code)}`));
          });
        }),
    ),
  );
  bar.done();
  return {
    reports,
    pids: children.map((child) => child.pid ?? 0),
    stop: async () => {
      await Promise.all(
        children
          .filter((child) => child.exitCode === null && child.signalCode === null)
          .map(
            (child) =>
              new Promise<void>((resolve) =>
                child
                  .once('exit', () => {
                    resolve();
                  })
                  .kill('SIGTERM'),
              ),
          ),
      );
    },
  };
}
