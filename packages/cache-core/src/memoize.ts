import { makeCacheKey } from './cache-key.js';
import type { Duration } from './duration.js';
import { CacheConfigError } from './errors.js';
import { SharedPromptCache } from './shared-prompt-cache.js';

/** Options of {@link memoize} and {@link cached}. */
export interface MemoizeOptions {
  /** The cache to use, or a function returning it. @default SharedPromptCache.getInstance() */
  cache?: SharedPromptCache | (() => SharedPromptCache);
  /** Namespace of the keys. @default 'memo' */
  namespace?: string;
  /** Identifies the function in keys. @default the function's name (`Class.method` for methods) */
  name?: string;
  /** Builds the variable part of the key from the arguments. @default makeCacheKey(...args) */
  key?: (...args: never[]) => string;
  ttl?: Duration;
  /** Stale-if-error window, as in `getOrCompute`. */
  grace?: Duration;
}

type AnyFunction = (...args: never[]) => unknown;

function resolveCache(option: MemoizeOptions['cache']): SharedPromptCache {
  if (option === undefined) return SharedPromptCache.getInstance();
  return typeof option === 'function' ? option() : option;
}

function keyOf(options: MemoizeOptions, name: string, args: unknown[]): string {
  const variable = options.key === undefined ? makeCacheKey(...args) : (options.key as (...a: unknown[]) => string)(...args);
  return `${options.namespace ?? 'memo'}:${name}:${variable}`;
}

/**
 * Wraps `fn` so calls with equal arguments (by stable serialization) share one cached result,
 * computed single-flight. The wrapped function is always async.
 */
export function memoize<F extends AnyFunction>(
  fn: F,
  options: MemoizeOptions = {},
): (...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>> {
  if (typeof fn !== 'function') throw new CacheConfigError('memoize() needs a function');
  const name = options.name ?? fn.name;
  if (name === '')
    throw new CacheConfigError('memoize() needs options.name for an anonymous function, or keys of different functions would collide');
  const ttlOptions = { ttl: options.ttl, grace: options.grace };
  return function memoized(this: unknown, ...args: Parameters<F>) {
    const compute = () => fn.apply(this, args) as Awaited<ReturnType<F>>;
    return resolveCache(options.cache).getOrCompute(keyOf(options, name, args), compute, ttlOptions);
  };
}

type AsyncMethod = (...args: never[]) => Promise<unknown>;

/**
 * Method decorator: caches the method's results like {@link memoize}, keyed by
 * `Class.method` and the arguments (not by `this`: use it on methods whose result depends only
 * on their arguments). Works as a legacy (`experimentalDecorators`) and as a standard decorator.
 *
 * The decorated method must be declared async (return a Promise): the cached version always
 * does, and a decorator cannot change the declared type.
 */
export function cached(options: MemoizeOptions = {}) {
  const wrap = (method: AnyFunction, methodName: string): AnyFunction =>
    function cachedMethod(this: object, ...args: never[]) {
      const name = options.name ?? `${this.constructor.name}.${methodName}`;
      return resolveCache(options.cache).getOrCompute(keyOf(options, name, args), () => method.apply(this, args), {
        ttl: options.ttl,
        grace: options.grace,
      });
    };

  function decorator<M extends AsyncMethod>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): TypedPropertyDescriptor<M>;
  function decorator<M extends AsyncMethod>(method: M, context: ClassMethodDecoratorContext): M;
  function decorator(
    first: object,
    second: string | symbol | ClassMethodDecoratorContext,
    descriptor?: PropertyDescriptor,
  ): PropertyDescriptor | AnyFunction {
    if (typeof second === 'object') return wrap(first as AnyFunction, String(second.name));
    if (typeof descriptor?.value !== 'function') throw new CacheConfigError('@cached() decorates methods only');
    return { ...descriptor, value: wrap(descriptor.value as AnyFunction, String(second)) };
  }
  return decorator;
}
