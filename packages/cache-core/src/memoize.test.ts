import { afterEach, describe, expect, it, vi } from 'vitest';
import { CacheConfigError } from './errors.js';
import { cached, memoize } from './memoize.js';
import { SharedPromptCache } from './shared-prompt-cache.js';

afterEach(async () => {
  await SharedPromptCache.resetInstance();
});

describe('memoize', () => {
  it('caches results by stable argument identity', async () => {
    const cache = new SharedPromptCache();
    let calls = 0;
    function build(agent: string, ctx: { a: number; b: number }): string {
      calls++;
      return `${agent}:${ctx.a + ctx.b}`;
    }
    const memo = memoize(build, { cache, ttl: '1m' });
    expect(await memo('eng', { a: 1, b: 2 })).toBe('eng:3');
    expect(await memo('eng', { b: 2, a: 1 })).toBe('eng:3');
    expect(await memo('qa', { a: 1, b: 2 })).toBe('qa:3');
    expect(calls).toBe(2);
    expect(cache.getCacheInfo().entries.every((e) => e.key.startsWith('memo:build:'))).toBe(true);
  });

  it('uses a custom key, namespace and the process-wide instance by default', async () => {
    const fn = vi.fn((id: number) => id * 2);
    const memo = memoize(fn, { key: (id: number) => `id-${id}`, namespace: 'calc', name: 'double' });
    expect(await memo(4)).toBe(8);
    expect(await memo(4)).toBe(8);
    expect(fn).toHaveBeenCalledOnce();
    expect(SharedPromptCache.getInstance().getSync('calc:double:id-4')).toBe(8);
  });

  it('requires a name for anonymous functions, so their keys cannot collide', () => {
    expect(() => memoize((x: number) => x)).toThrow(CacheConfigError);
    expect(() => memoize('x' as never)).toThrow(CacheConfigError);
  });
});

describe('@cached', () => {
  it('caches a method by Class.method and arguments (legacy decorators)', async () => {
    const cache = new SharedPromptCache();
    const calls = vi.fn();
    class ProfileLoader {
      prefix = 'profile of ';

      @cached({ cache, ttl: '5m' })
      async load(name: string): Promise<string> {
        calls(name);
        return this.prefix + name;
      }
    }
    const loader = new ProfileLoader();
    expect(await loader.load('qa')).toBe('profile of qa');
    expect(await new ProfileLoader().load('qa')).toBe('profile of qa');
    expect(calls).toHaveBeenCalledOnce();
    expect(cache.getCacheInfo().entries[0]!.key).toMatch(/^memo:ProfileLoader\.load:[0-9a-f]{64}$/);
  });

  it('shares one computation among concurrent calls', async () => {
    const cache = new SharedPromptCache();
    let computations = 0;
    class Slow {
      @cached({ cache })
      async value(): Promise<number> {
        computations++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return 42;
      }
    }
    const slow = new Slow();
    expect(await Promise.all([slow.value(), slow.value(), slow.value()])).toEqual([42, 42, 42]);
    expect(computations).toBe(1);
  });

  it('works as a standard (TC39) decorator too', async () => {
    const cache = new SharedPromptCache();
    const decorate = cached({ cache, name: 'std' });
    const method = vi.fn(async (x: number) => x + 1);
    const wrapped = decorate(method, { name: 'inc', kind: 'method' } as ClassMethodDecoratorContext);
    expect(await (wrapped as (x: number) => Promise<number>).call({}, 1)).toBe(2);
    expect(await (wrapped as (x: number) => Promise<number>).call({}, 1)).toBe(2);
    expect(method).toHaveBeenCalledOnce();
  });

  it('refuses to decorate something that is not a method', () => {
    expect(() => cached()({}, 'field', { value: 5 } as never)).toThrow(/methods only/);
  });
});
