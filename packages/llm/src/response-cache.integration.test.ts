/** The response cache across real processes sharing Redis: N processes × M identical concurrent calls → one model call. */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { RedisProcess, redisTestsEnabled } from '@pm/cache-core/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const tsx = createRequire(import.meta.url).resolve('tsx');
const worker = fileURLToPath(new URL('./fixtures/response-cache-worker.ts', import.meta.url));
const enabled = await redisTestsEnabled('response cache across processes');

function start(args: string[]) {
  const child = spawn(process.execPath, ['--import', tsx, worker, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) resolve();
    });
  });
  const done = new Promise<{ texts: string[]; ms: number }>((resolve, reject) => {
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').at(-1)!) as { texts: string[]; ms: number });
      else reject(new Error(`worker exited with ${String(code)}`));
    });
  });
  return { ready, done };
}

describe.runIf(enabled)('responseCache across processes on Redis', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await RedisProcess.start();
  }, 30_000);
  afterAll(async () => {
    await redis.stop();
  });

  it('4 processes × 8 identical concurrent calls make exactly one model call, and all get its answer', async () => {
    const raw = new Redis(redis.url);
    for (let round = 0; round < 3; round++) {
      const prefix = `llm-${round}`;
      const workers = Array.from({ length: 4 }, () => start([redis.url, prefix, '8', '300']));
      await Promise.all(workers.map((w) => w.ready));
      await raw.publish(`${prefix}:go`, 'go');
      const results = await Promise.all(workers.map((w) => w.done));
      expect(Number(await raw.get(`${prefix}:model-calls`))).toBe(1);
      const texts = results.flatMap((r) => r.texts);
      expect(texts).toHaveLength(32);
      expect(new Set(texts).size).toBe(1);
      // Waiters are woken by the bus, not by polling: everyone has the answer soon after the model.
      expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(300 * 2);
    }
    raw.disconnect();
  }, 120_000);
});
