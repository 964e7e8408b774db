import type { Logger } from '@pm/service-manager/contract';
import { CacheConfigError, CacheError, quoteKey } from '../errors.js';
import type { SetOptions, WarmItem, WarmOptions } from '../types.js';

const DEFAULT_WARM_CONCURRENCY = 8;

/**
 * Loads many entries with bounded concurrency through `set`. A failing load is logged and
 * counted, never thrown; the others go on.
 */
export async function warm(
  items: Iterable<WarmItem>,
  options: WarmOptions,
  set: (key: string, value: unknown, options: SetOptions) => Promise<void>,
  log: Logger,
): Promise<{ loaded: number; failed: number }> {
  const concurrency = options.concurrency ?? DEFAULT_WARM_CONCURRENCY;
  if (!(Number.isSafeInteger(concurrency) && concurrency > 0))
    throw new CacheConfigError(`warm() concurrency must be a positive integer, got ${String(concurrency)}`);
  const list = [...items];
  // Every worker pulls from the same iterator, so each item is loaded exactly once.
  const queue = list.values();
  let loaded = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    for (const item of queue) {
      try {
        if (typeof item.load !== 'function') throw new CacheError(`warm item ${quoteKey(item.key)} has no load function`);
        await set(item.key, await item.load(), {
          ...(item.ttl === undefined ? {} : { ttl: item.ttl }),
          ...(item.tags === undefined ? {} : { tags: item.tags }),
        });
        loaded++;
      } catch (error) {
        failed++;
        log.warn({ key: item.key, err: error }, 'warm: loading an item failed');
      }
      try {
        options.onProgress?.(loaded + failed, list.length);
      } catch (error) {
        log.warn({ err: error }, 'warm: onProgress threw');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
  return { loaded, failed };
}
