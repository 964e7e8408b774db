import { CacheSerializationError } from './errors.js';

/**
 * Estimated V8 heap costs (64-bit, no pointer compression, as Node 20 ships), in bytes.
 * They were calibrated against measured heap growth by `apps/bench` (see BENCHMARKS.md):
 * counting objects by their JSON length undercounts their heap by about 2x, because every
 * property is a pointer slot and every small string or non-integer number is its own heap object.
 */
const HEAP = {
  /** Header of a sequential string (map, hash, length). */
  string: 16,
  /** A JSObject (map, properties, elements) plus its share of property storage. */
  object: 56,
  /** One property: its slot plus descriptor/backing-store share. */
  property: 16,
  /** JSArray plus FixedArray header. */
  array: 48,
  /** One array element slot. */
  element: 8,
  /** A HeapNumber (doubles and integers beyond the small-integer range). */
  heapNumber: 16,
  /** One Map/Set entry in V8's ordered hash table, slots and bucket share included. */
  collectionEntry: 40,
  date: 48,
  bigint: 24,
  /** ArrayBuffer + view objects around the bytes of a Buffer or TypedArray. */
  binary: 128,
} as const;

/**
 * Bookkeeping that every entry costs beyond its key and value: the lru-cache slots, our
 * entry record, and the key's string header.
 */
export const ENTRY_OVERHEAD_BYTES = 200;

const SMI_MAX = 2 ** 30 - 1;

/** UTF-8 length of a string, the unit the cache accounts strings in. */
export function utf8Bytes(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/**
 * Validates `value` for caching and estimates the bytes it holds on the heap.
 *
 * Accepts what a structured serializer (JSON, msgpack) can carry: primitives except symbols,
 * plain objects and class instances (own enumerable properties), arrays, Map, Set, Date,
 * RegExp, Buffers and typed arrays. Rejects `undefined` at the top level, functions, symbols,
 * promises, weak collections and circular graphs with a {@link CacheSerializationError}
 * naming `key` and the path of the offending part.
 */
export function measureValue(key: string, value: unknown): number {
  if (typeof value === 'string') return HEAP.string + utf8Bytes(value);
  if (value === undefined) {
    throw new CacheSerializationError(key, 'undefined is not a cacheable value (use null to cache "nothing")');
  }
  try {
    return new ValueMeasurer(key).measure(value, '$');
  } catch (error) {
    if (error instanceof CacheSerializationError) throw error;
    // A RangeError from a graph too deep to walk lands here.
    throw new CacheSerializationError(key, `the value could not be walked: ${(error as Error).message}`, { cause: error });
  }
}

class ValueMeasurer {
  readonly #key: string;
  readonly #ancestors = new Set<object>();

  constructor(key: string) {
    this.#key = key;
  }

  measure(value: unknown, path: string): number {
    switch (typeof value) {
      case 'string':
        return HEAP.string + utf8Bytes(value);
      case 'number':
        return Number.isInteger(value) && Math.abs(value) <= SMI_MAX ? 0 : HEAP.heapNumber;
      case 'boolean':
      case 'undefined':
        return 0;
      case 'bigint':
        return HEAP.bigint + Math.ceil(value.toString(16).length / 16) * 8;
      case 'symbol':
        throw this.#reject(path, 'symbols cannot be serialized');
      case 'function':
        throw this.#reject(path, 'functions cannot be serialized');
      case 'object':
        return value === null ? 0 : this.#measureObject(value, path);
    }
  }

  #measureObject(value: object, path: string): number {
    if (ArrayBuffer.isView(value)) return HEAP.binary + value.byteLength;
    if (value instanceof ArrayBuffer) return HEAP.binary + value.byteLength;
    if (value instanceof Date) return HEAP.date;
    if (value instanceof RegExp) return HEAP.object + HEAP.string + utf8Bytes(value.source);
    if (value instanceof Promise) throw this.#reject(path, 'promises cannot be cached; await the value first');
    if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
      throw this.#reject(path, `${value.constructor.name} cannot be serialized`);
    }
    if (this.#ancestors.has(value)) throw this.#reject(path, 'circular reference');
    this.#ancestors.add(value);
    let size: number;
    if (Array.isArray(value)) {
      size = HEAP.array;
      for (let i = 0; i < value.length; i++) size += HEAP.element + this.measure(value[i], `${path}[${i}]`);
    } else if (value instanceof Map) {
      size = HEAP.object;
      let i = 0;
      for (const [k, v] of value) {
        size += HEAP.collectionEntry + this.measure(k, `${path}.<key ${i}>`) + this.measure(v, `${path}.get(${i})`);
        i++;
      }
    } else if (value instanceof Set) {
      size = HEAP.object;
      let i = 0;
      for (const v of value) size += HEAP.collectionEntry + this.measure(v, `${path}.<item ${i++}>`);
    } else {
      size = HEAP.object;
      for (const prop in value) {
        if (!Object.hasOwn(value, prop)) continue;
        size += HEAP.property + this.measure((value as Record<string, unknown>)[prop], `${path}.${prop}`);
      }
    }
    this.#ancestors.delete(value);
    return size;
  }

  #reject(path: string, why: string): CacheSerializationError {
    return new CacheSerializationError(this.#key, `${why} (at ${path})`);
  }
}
