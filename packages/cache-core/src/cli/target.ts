import { silentLogger } from '@pm/service-manager/contract';
import type { InvalidationBus } from '../bus/invalidation-bus.js';
import { CacheStoreError } from '../errors.js';
import type { CacheStore } from '../stores/cache-store.js';
import { FileStore } from '../stores/file-store.js';
import { redactUrl } from '../redact.js';
import { SharedTiers } from '../tiers/shared-tiers.js';
import { UsageError, type Flags } from './errors.js';

/** The tier a command works on, with the bus that tells running processes about changes. */
export interface Target {
  readonly store: CacheStore;
  readonly bus: InvalidationBus | undefined;
  /** The same shared-tier code the cache writes through: L2 first, announced once L2 holds it. */
  readonly tiers: SharedTiers;
  /** What to call it in messages; credentials redacted. */
  readonly describe: string;
}

export interface TargetSpec {
  readonly kind: 'file' | 'redis';
  readonly dir: string;
  readonly redisUrl: string | undefined;
  readonly keyPrefix: string;
  readonly channel: string | undefined;
}

/** Reads which store the flags name, without connecting (so usage errors come first). */
export function targetSpec(flags: Flags): TargetSpec {
  const redisUrl = flags['redis-url'] ?? (flags.store === 'redis' ? process.env.PM_REDIS_URL : undefined);
  const kind = flags.store ?? (redisUrl === undefined ? undefined : 'redis');
  if (kind !== 'file' && kind !== 'redis') {
    throw new UsageError(
      kind === undefined
        ? 'choose a store: --store file --dir DIR, or --redis-url URL (or --store redis with PM_REDIS_URL set)'
        : `unknown store "${kind}"; use file or redis`,
    );
  }
  if (kind === 'redis') {
    if (redisUrl === undefined) throw new UsageError('--store redis needs --redis-url URL (or PM_REDIS_URL in the environment)');
    if (!/^rediss?:\/\//.test(redisUrl) || !URL.canParse(redisUrl))
      throw new UsageError(`--redis-url must look like redis://[user:password@]host:port, got ${JSON.stringify(redactUrl(redisUrl))}`);
  }
  return { kind, dir: flags.dir ?? '.cache/prompts', redisUrl, keyPrefix: flags['key-prefix'] ?? 'pm:', channel: flags.channel };
}

/** Connects to the store (and the bus), failing with a CacheStoreError that says why. */
export async function openTarget(spec: TargetSpec): Promise<Target> {
  let store: CacheStore;
  let bus: InvalidationBus | undefined;
  let describe: string;
  if (spec.kind === 'file') {
    store = new FileStore({ dir: spec.dir });
    describe = `file store ${spec.dir}`;
  } else {
    // Loaded only for Redis: ioredis is an optional peer, and the file store works without it.
    const { RedisStore, RedisInvalidationBus } = await import('../redis.js');
    const url = spec.redisUrl ?? '';
    store = new RedisStore({ url, keyPrefix: spec.keyPrefix });
    bus = new RedisInvalidationBus({ url, ...(spec.channel === undefined ? {} : { channel: spec.channel }) });
    describe = `redis ${redactUrl(url)}`;
  }
  const tiers = new SharedTiers({ l2: store, bus, timeoutMs: 5000, log: silentLogger });
  const target = { store, bus, tiers, describe };
  try {
    await store.connect?.();
    const health = await store.health();
    if (!health.ok) throw new CacheStoreError(health.error ?? `the ${describe} is not usable`);
    await bus?.connect();
  } catch (error) {
    await closeTarget(target);
    throw error;
  }
  return target;
}

export async function closeTarget(target: Target): Promise<void> {
  await target.tiers.close();
}
