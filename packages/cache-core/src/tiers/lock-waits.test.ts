import { describe, expect, it } from 'vitest';
import type { InvalidationMessage } from '../bus/invalidation-bus.js';
import { LockWaits } from './lock-waits.js';

const after = (ms: number) =>
  new Promise<'asleep'>((resolve) => {
    setTimeout(() => {
      resolve('asleep');
    }, ms);
  });
const woken = async (wait: Promise<void>, withinMs = 200) => Promise.race([wait.then(() => 'woken' as const), after(withinMs)]);

describe('LockWaits', () => {
  it('keeps a message that comes before the wait: the holder can finish before this process hears the lock is taken', async () => {
    const waits = new LockWaits();
    const watch = waits.watch('agent:qa');
    waits.wake({ type: 'set', keys: ['agent:qa'], versions: ['v1'] });
    expect(await woken(watch.next(60_000))).toBe('woken');
    // Taken once: the next wait sleeps until its own message or its timeout.
    const start = performance.now();
    await watch.next(60);
    expect(performance.now() - start).toBeGreaterThanOrEqual(55);
    watch.close();
    expect(waits.metrics().waits).toBe(2);
  });

  it('wakes a wait under way on a message about its key only (a value, a removal, an unlock, a matching pattern, a clear)', async () => {
    const waits = new LockWaits();
    const watch = waits.watch('agent:qa');
    const wakers: InvalidationMessage[] = [
      { type: 'set', keys: ['agent:qa'], versions: ['v2'] },
      { type: 'delete', keys: ['agent:qa'] },
      { type: 'unlock', keys: ['agent:qa'] },
      { type: 'invalidate', pattern: 'agent:*' },
      { type: 'tags', tags: ['t'] },
      { type: 'clear' },
    ];
    for (const message of wakers) {
      const wait = watch.next(60_000);
      waits.wake({ type: 'set', keys: ['agent:eng'], versions: ['v1'] });
      waits.wake({ type: 'invalidate', pattern: 'task:*' });
      expect(await woken(wait, 30)).toBe('asleep');
      waits.wake(message);
      expect(await woken(wait)).toBe('woken');
    }
    watch.close();
  });

  it('ends a wait when its watch is closed, and a closed watch hears nothing', async () => {
    const waits = new LockWaits();
    const watch = waits.watch('agent:qa');
    const wait = watch.next(60_000);
    watch.close();
    expect(await woken(wait)).toBe('woken');
    waits.wake({ type: 'unlock', keys: ['agent:qa'] });
    const other = waits.watch('agent:qa');
    expect(await woken(other.next(40), 20)).toBe('asleep');
    other.close();
  });
});
