/** Benchmarks across real processes sharing one Redis: a cold key, and a Zipf mix at saturation. */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { median } from './harness.js';

const tsx = createRequire(import.meta.url).resolve('tsx');
const worker = fileURLToPath(new URL('./redis-worker.ts', import.meta.url));

interface Child {
  ready: Promise<void>;
  result: Promise<Record<string, number>>;
}

function startWorker(args: string[]): Child {
  const child = spawn(process.execPath, ['--import', tsx, worker, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const result = new Promise<Record<string, number>>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) markReady();
    });
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0) resolve(JSON.parse(last) as Record<string, number>);
      else reject(new Error(`worker ${args.join(' ')} exited with ${String(code)}`));
    });
  });
  return { ready, result };
}

export interface ColdKeyResult {
  processes: number;
  rounds: number;
  computeMs: number;
  computes: number[];
  /** Slowest process's call, over the compute time: median over the rounds. */
  slowestOverCompute: number;
}

/** `processes` processes ask for one cold key at the same moment; how many computes, how long. */
export async function coldKey(url: string, processes: number, rounds: number, computeMs = 200): Promise<ColdKeyResult> {
  const redis = new Redis(url);
  const computes: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const prefix = `bench-cold-${process.pid}-${round}`;
    const children = Array.from({ length: processes }, () => startWorker(['cold', url, prefix, 'task_prompt:cold', String(computeMs)]));
    await Promise.all(children.map((c) => c.ready));
    await redis.publish(`${prefix}:go`, 'go');
    const results = await Promise.all(children.map((c) => c.result));
    computes.push(Number(await redis.get(`${prefix}:computes`)));
    ratios.push(Math.max(...results.map((r) => r.ms!)) / computeMs);
  }
  await redis.quit();
  return { processes, rounds, computeMs, computes, slowestOverCompute: median(ratios) };
}

export interface ZipfRow {
  processes: number;
  /** Default options: distributed single-flight on (a lock round trip per miss). */
  pmOpsPerSecond: number;
  /** `distributedLock: false`: one compute per process, as bentocache does. */
  pmNoLockOpsPerSecond: number;
  bentoOpsPerSecond: number;
  ratio: number;
  noLockRatio: number;
}

/** Throughput of the Zipf mix in 1 to 4 processes: ours (with and without the distributed lock), then bentocache's, each on a flushed Redis. */
export async function zipfThroughput(url: string, processCounts: readonly number[], seconds: number): Promise<ZipfRow[]> {
  const redis = new Redis(url);
  const rows: ZipfRow[] = [];
  const run = async (contender: string, processes: number): Promise<number> => {
    await redis.flushall();
    const prefix = `bench-zipf-${contender}`;
    const children = Array.from({ length: processes }, (_, i) =>
      startWorker(['zipf', url, prefix, contender, String(seconds), String(i + 1)]),
    );
    const results = await Promise.all(children.map((c) => c.result));
    return results.reduce((sum, r) => sum + r.operations!, 0) / seconds;
  };
  for (const processes of processCounts) {
    const pm = await run('pm', processes);
    const pmNoLock = await run('pm-nolock', processes);
    const bento = await run('bentocache', processes);
    rows.push({
      processes,
      pmOpsPerSecond: pm,
      pmNoLockOpsPerSecond: pmNoLock,
      bentoOpsPerSecond: bento,
      ratio: pm / bento,
      noLockRatio: pmNoLock / bento,
    });
  }
  await redis.quit();
  return rows;
}
