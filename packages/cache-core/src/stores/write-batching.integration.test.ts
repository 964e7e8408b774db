import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisInvalidationBus } from '../bus/redis-bus.js';
import type { InvalidationMessage } from '../bus/invalidation-bus.js';
import { CacheStoreError } from '../errors.js';
import { RedisProcess, redisTestsEnabled } from '../testing/redis-server.js';
import { TcpProxy } from '../testing/tcp-proxy.js';
import type { StoredEntry } from './cache-store.js';
import { RedisStore } from './redis-store.js';

const enabled = await redisTestsEnabled('RedisStore write batching');
let server: RedisProcess;
let admin: Redis;
let prefixes = 0;

beforeAll(async () => {
  if (!enabled) return;
  server = await RedisProcess.start();
  admin = new Redis(server.url);
}, 30_000);

afterAll(async () => {
  if (!enabled) return;
  await admin.quit();
  await server.stop();
});

const entry = (value: string): StoredEntry => ({ value, expiresAt: Infinity });

async function connectedStore(commandTimeoutMs = 2000): Promise<{ store: RedisStore; socket: Redis['stream'] }> {
  const store = new RedisStore({ url: server.url, keyPrefix: `batching-${++prefixes}:`, commandTimeoutMs });
  await store.connect();
  return { store, socket: (store.client as Redis).stream };
}

/** Read events the server has handled so far: one per chunk it took off some client's socket. */
async function serverReads(): Promise<number> {
  const info = await admin.info('stats');
  return Number(/total_reads_processed:(\d+)/.exec(info)?.[1]);
}

describe.runIf(enabled)('RedisStore write batching', () => {
  it('sends the commands of one tick in one write while a reply is awaited, and each caller gets its own reply', async () => {
    const { store } = await connectedStore();
    const keys = Array.from({ length: 200 }, (_, i) => `agent:${i}`);
    await Promise.all(keys.map((key) => store.set(key, entry(`prompt of ${key}`))));

    const before = await serverReads();
    const lone = store.get('agent:0');
    const burst = keys.map((key) => store.get(key));
    const values = await Promise.all([lone, ...burst]);
    // The admin's own INFO is one read; the lone GET another; the burst of 200 one or two more
    // (a large write may reach the server in two chunks). Unbatched: one read per command or so.
    expect((await serverReads()) - before).toBeLessThanOrEqual(6);
    expect(values.map((found) => found?.value)).toEqual(['prompt of agent:0', ...keys.map((key) => `prompt of ${key}`)]);
    await store.close();
  });

  it('writes a caller alone at once, and keeps the order of a write and a read of one key within a tick', async () => {
    const { store, socket } = await connectedStore();
    const lone = store.get('nothing');
    // Nothing awaited: no batching, so no wait for the end of the tick.
    expect(socket.writableCorked).toBe(0);
    expect(socket.writableLength).toBe(0);
    await lone;

    const first = store.set('k', entry('v1'));
    const written = store.set('k', entry('v2'));
    const read = store.get('k');
    expect(socket.writableCorked).toBe(1);
    await Promise.all([first, written]);
    expect((await read)?.value).toBe('v2');
    expect(socket.writableCorked).toBe(0);
    await store.close();
  });

  it("batches a client you own with the store's commands of the same tick, and leaves it open", async () => {
    const client = new Redis(server.url);
    const store = new RedisStore({ client, keyPrefix: `batching-${++prefixes}:` });
    await store.connect();
    await client.ping();
    const lone = store.get('k');
    const stored = store.set('k', entry('v'));
    const yours = client.set('yours', 'mine');
    expect(client.stream.writableCorked).toBe(1);
    expect(await yours).toBe('OK');
    await Promise.all([lone, stored]);
    expect((await store.get('k'))?.value).toBe('v');
    await store.close();
    expect(await client.get('yours')).toBe('mine');
    await client.quit();
  });

  it('fails every batched command of a hung server within the command timeout, and works once it answers again', async () => {
    const { store } = await connectedStore(300);
    await store.set('k', entry('kept'));
    // Sent at once (its reply may beat the SIGSTOP); the 50 after it wait for the end of the tick.
    const lone = store.get('k');
    const burst = Array.from({ length: 50 }, () => store.get('k'));
    // SIGSTOP before the end of the tick: the batch goes out to a server that answers nothing.
    server.pause();
    const started = Date.now();
    const [, outcomes] = await Promise.all([lone.catch(() => undefined), Promise.allSettled(burst)]);
    server.resume();
    expect(Date.now() - started).toBeLessThan(2000);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason: unknown = outcome.status === 'rejected' ? outcome.reason : undefined;
      expect(reason).toBeInstanceOf(CacheStoreError);
      expect((reason as CacheStoreError).reason).toBe('unreachable');
    }
    await expect.poll(async () => (await store.get('k').catch(() => undefined))?.value, { timeout: 5000 }).toBe('kept');
    await store.close();
  });

  it('fails a batch whose link is reset, and serves again once the link is back', async () => {
    const proxy = await TcpProxy.start(server.port);
    const store = new RedisStore({ url: proxy.url(), keyPrefix: `batching-${++prefixes}:`, commandTimeoutMs: 1000 });
    await store.connect();
    await store.set('k', entry('kept'));
    const lone = store.get('k').catch(() => undefined);
    const burst = Array.from({ length: 50 }, () => store.get('k'));
    proxy.cut('reset');
    const outcomes = await Promise.allSettled(burst);
    await lone;
    for (const outcome of outcomes) {
      const reason: unknown = outcome.status === 'rejected' ? outcome.reason : undefined;
      expect(reason).toBeInstanceOf(CacheStoreError);
      expect((reason as CacheStoreError).reason).toBe('unreachable');
    }
    proxy.heal();
    await expect.poll(async () => (await store.get('k').catch(() => undefined))?.value, { timeout: 5000 }).toBe('kept');
    await store.close();
    await proxy.close();
  });

  it('publishes the bus messages of one tick in one write, heard in order by another process', async () => {
    const channel = `batching-bus-${++prefixes}`;
    const sender = new RedisInvalidationBus({ url: server.url, channel });
    const receiver = new RedisInvalidationBus({ url: server.url, channel });
    const heard: InvalidationMessage[] = [];
    receiver.subscribe({ onMessage: (message) => heard.push(message), onReconnect: () => undefined });
    await Promise.all([sender.connect(), receiver.connect()]);
    const messages: InvalidationMessage[] = Array.from({ length: 100 }, (_, i) => ({ type: 'delete', keys: [`agent:${i}`] }));
    const before = await serverReads();
    await Promise.all(messages.map((message) => sender.publish(message)));
    expect((await serverReads()) - before).toBeLessThanOrEqual(6);
    await expect.poll(() => heard.length).toBe(100);
    expect(heard).toEqual(messages);
    await Promise.all([sender.close(), receiver.close()]);
  });
});
