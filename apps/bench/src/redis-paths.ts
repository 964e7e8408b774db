/** The Redis paths of one process against raw ioredis on the same server (and bentocache for reference). */
import { SharedPromptCache } from '@pm/cache-core';
import { RedisInvalidationBus, RedisStore } from '@pm/cache-core/redis';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { Redis } from 'ioredis';
import { compare, consume, type Measurement } from './harness.js';
import { makePrompt } from './workloads.js';

/** The contenders that are ours, by table. */
export const SHARED_SET = '@pm set (L1 + L2 + bus)';
export const TIERED_GET = '@pm get: L1 miss, L2 hit, decode, backfill';
export const ONE_MGET = 'one RedisStore.mget of 100';

/** The single-process Redis paths of one run. */
export interface RedisPaths {
  shared: Measurement[];
  tiered: Measurement[];
  mget: Measurement[];
}

const KEYS = Array.from({ length: 1000 }, (_, i) => `task_prompt:agent-${i % 6}:${i}`);
const PROMPTS = KEYS.map((_, i) => makePrompt(i, 2048));

/**
 * A shared `set` (L1, L2 and the bus announcement) against a raw ioredis SET of the same bytes,
 * and against SET + PUBLISH pipelined by hand.
 */
export async function sharedWrites(url: string, rounds: number): Promise<Measurement[]> {
  const prefix = `bench-set-${process.pid}`;
  const store = new RedisStore({ url, keyPrefix: `${prefix}:` });
  const cache = new SharedPromptCache({ maxEntries: 100, l2: store, bus: new RedisInvalidationBus({ url, channel: `${prefix}:bus` }) });
  await cache.start();
  const raw = new Redis(url);
  // The record our store writes for a prompt: the raw SET sends the same number of bytes.
  await store.set('probe', { value: PROMPTS[0], expiresAt: Date.now() + 1_800_000 });
  const record = (await raw.getBuffer(`${prefix}:probe`))!;
  let i = 0;
  const next = () => KEYS[(i = (i + 1) % KEYS.length)]!;
  const results = await compare(
    [
      {
        name: 'raw ioredis SET (same bytes, PX)',
        run: async (n) => {
          for (let j = 0; j < n; j++) await raw.set(`${prefix}:raw:${next()}`, record, 'PX', 1_800_000);
        },
      },
      {
        name: 'raw ioredis SET + PUBLISH, pipelined',
        run: async (n) => {
          for (let j = 0; j < n; j++)
            await raw.pipeline().set(`${prefix}:raw:${next()}`, record, 'PX', 1_800_000).publish(`${prefix}:raw-bus`, 'x').exec();
        },
      },
      {
        name: SHARED_SET,
        run: async (n) => {
          for (let j = 0; j < n; j++) await cache.set(next(), PROMPTS[i]!);
        },
      },
    ],
    { rounds, iterations: 400, baseline: 'raw ioredis SET (same bytes, PX)' },
  );
  await cache.clear();
  await Promise.all([cache.stop(), raw.quit()]);
  return results;
}

/** A get that misses L1 and hits L2 against a raw GET on the same ioredis client; mget against sequential gets. */
export async function tieredReads(url: string, rounds: number): Promise<{ tiered: Measurement[]; mget: Measurement[] }> {
  const prefix = `bench-get-${process.pid}`;
  const store = new RedisStore({ url, keyPrefix: `${prefix}:` });
  // A one-entry L1 over 1000 keys: every get misses L1, reads Redis, decodes and backfills.
  const ours = new SharedPromptCache({ maxEntries: 1, l2: store });
  await ours.start();
  for (const [i, key] of KEYS.entries()) await store.set(key, { value: PROMPTS[i], expiresAt: Infinity });
  const connection = { host: new URL(url).hostname, port: Number(new URL(url).port) };
  const bento = new BentoCache({
    default: 'tiered',
    stores: {
      tiered: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 1 }))
        .useL2Layer(redisDriver({ connection, prefix: 'bento' })),
    },
  });
  for (const [i, key] of KEYS.entries()) await bento.set({ key, value: PROMPTS[i], ttl: '1h' });
  let j = 0;
  const next = () => KEYS[(j = (j + 1) % KEYS.length)]!;
  const tiered = await compare(
    [
      {
        name: 'raw GET on the same client',
        run: async (n) => {
          for (let i = 0; i < n; i++) consume(await store.client.getBuffer(`${prefix}:${next()}`));
        },
      },
      {
        name: TIERED_GET,
        run: async (n) => {
          for (let i = 0; i < n; i++) consume(await ours.get(next()));
        },
      },
      {
        name: 'bentocache get: L1 miss, L2 hit',
        run: async (n) => {
          for (let i = 0; i < n; i++) consume(await bento.get({ key: next() }));
        },
      },
    ],
    { rounds, iterations: 500, baseline: 'raw GET on the same client' },
  );
  const batch = KEYS.slice(0, 100);
  const mget = await compare(
    [
      {
        name: '100 sequential RedisStore.get',
        run: async (n) => {
          for (let r = 0; r < n; r++) for (const key of batch) consume(await store.get(key));
        },
      },
      {
        name: ONE_MGET,
        run: async (n) => {
          for (let r = 0; r < n; r++) consume(await store.mget(batch));
        },
      },
    ],
    { rounds, iterations: 20, baseline: '100 sequential RedisStore.get' },
  );
  await bento.clear();
  await bento.disconnectAll();
  await store.clear();
  await ours.stop();
  return { tiered, mget };
}

/**
 * Reading a prompt back from Redis: ASCII and CJK, against a raw GET of the same record; the CJK
 * prompt also as an uncompressed record (`compressAbove: Infinity`: no inflate, ten times the
 * bytes in Redis).
 */
export async function promptDecoding(
  url: string,
  rounds: number,
): Promise<{ payload: string; recordBytes: number; rawUs: number; oursUs: number }[]> {
  const rows = [];
  for (const [payload, value, compressAbove] of [
    ['2 KB ASCII prompt', makePrompt(1, 2048), undefined],
    ['8 KB CJK prompt (24 KB as UTF-8)', makePrompt(2, 8192, true), undefined],
    ['8 KB CJK prompt, compressAbove: Infinity', makePrompt(2, 8192, true), Infinity],
  ] as const) {
    const store = new RedisStore({
      url,
      keyPrefix: `bench-codec-${process.pid}:`,
      ...(compressAbove === undefined ? {} : { compressAbove }),
    });
    await store.connect();
    await store.set('p', { value, expiresAt: Infinity });
    const recordBytes = (await store.client.getBuffer(`${store.keyPrefix}p`))?.length ?? 0;
    const results = await compare(
      [
        {
          name: 'raw',
          run: async (n) => {
            for (let i = 0; i < n; i++) consume(await store.client.getBuffer(`${store.keyPrefix}p`));
          },
        },
        {
          name: 'ours',
          run: async (n) => {
            for (let i = 0; i < n; i++) consume(await store.get('p'));
          },
        },
      ],
      { rounds, iterations: 200, baseline: 'raw' },
    );
    rows.push({ payload, recordBytes, rawUs: results[0]!.medianNs / 1000, oursUs: results[1]!.medianNs / 1000 });
    await store.clear();
    await store.close();
  }
  return rows;
}
