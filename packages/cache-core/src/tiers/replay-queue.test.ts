import { describe, expect, it } from 'vitest';
import { ReplayQueue } from './replay-queue.js';

describe('ReplayQueue', () => {
  it('keeps removals in order and says which keys they cover until they are done', () => {
    const queue = new ReplayQueue(10);
    queue.push({ type: 'delete', keys: ['a'] }, true);
    queue.push({ type: 'invalidate', pattern: 'agent_profile:*' }, true);
    queue.push({ type: 'tags', tags: ['file:/x.md'] }, true);
    expect(queue.covers('a', undefined)).toBe(true);
    expect(queue.covers('agent_profile:qa', undefined)).toBe(true);
    expect(queue.covers('task_prompt:1', ['file:/x.md'])).toBe(true);
    expect(queue.covers('task_prompt:1', ['file:/y.md'])).toBe(false);
    expect(queue.head()?.removal).toEqual({ type: 'delete', keys: ['a'] });
    queue.done();
    expect(queue.covers('a', undefined)).toBe(false);
    expect(queue.head()?.removal.type).toBe('invalidate');
  });

  it('only covers reads while the removal still has to reach L2', () => {
    const queue = new ReplayQueue(10);
    queue.push({ type: 'delete', keys: ['a'] }, false); // done in L2, only the announcement waits
    expect(queue.covers('a', undefined)).toBe(false);
  });

  it('collapses into one clear when it overflows, so no removal is silently lost', () => {
    const queue = new ReplayQueue(3);
    for (const key of ['a', 'b', 'c']) queue.push({ type: 'delete', keys: [key] }, true);
    queue.push({ type: 'delete', keys: ['d'] }, true);
    expect(queue.length).toBe(1);
    expect(queue.head()).toMatchObject({ removal: { type: 'clear' }, inL2: true });
    expect(queue.covers('anything', undefined)).toBe(true);
    expect({ queued: queue.queued, dropped: queue.dropped }).toEqual({ queued: 4, dropped: 3 });
  });
});
