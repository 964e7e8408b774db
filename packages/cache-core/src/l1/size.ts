import { CacheSerializationError } from '../errors.js';

/**
 * Estimated V8 heap costs (64-bit, no pointer compression, as Node 20 ships), in bytes,
 * measured with `process.memoryUsage()` on objects built by `JSON.parse` (see BENCHMARKS.md).
 * JSON length is a poor proxy: a small object costs ~8 bytes a property (JSON spends ~17), but
 * from 128 properties on V8 keeps an object as a hash table at ~56 bytes a property, so JSON
 * length undercounts profile-like objects about 2-3x.
 */
const HEAP = {
  /** Header of a sequential string (map, hash, length); strings are 8-byte aligned. */
  string: 16,
  /** A JSObject: map, properties and elements pointers, plus the allocation's slack. */
  object: 32,
  /** One in-object (fast-mode) property slot. */
  fastProperty: 8,
  /** One property of a dictionary-mode object: key, value and details in a hash table at ~50% load. */
  dictionaryProperty: 56,
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

/** From this many properties on, V8 stores an object's properties in a dictionary. */
const DICTIONARY_MODE_PROPERTIES = 128;

const align8 = (bytes: number): number => (bytes + 7) & ~7;

/**
 * Bookkeeping that every entry costs beyond its key and value: lru-cache's map and list slots
 * (~60 bytes), the entry table's fields (~54) and the key's string header; measured against
 * real heap growth at 1k to 1M entries (within a few percent, see BENCHMARKS.md).
 */
export const ENTRY_OVERHEAD_BYTES = 144;

const SMI_MAX = 2 ** 30 - 1;

/** UTF-8 length of a string, the unit the cache accounts strings in. */
export function utf8Bytes(value: string): number {
  // UTF-8 is the default: naming it costs an encoding lookup per call.
  return Buffer.byteLength(value);
}

/**
 * Validates `value` for caching and estimates the bytes it holds on the heap.
 *
 * In L1 alone (values held by reference) it accepts what a structured serializer can carry:
 * primitives except symbols, plain objects and class instances (own enumerable properties),
 * arrays, Map, Set, Date, RegExp, Buffers and typed arrays. With `roundTrip` (an L2 is
 * configured) it accepts only what comes back from L2 as the same value: primitives except
 * symbols, plain objects, dense arrays, Map, Set, Date, Buffers, typed arrays and DataViews;
 * RegExp, ArrayBuffer, Error and class instances would come back as plain objects, so they are
 * refused up front. Rejects `undefined` at the top level, functions, symbols, promises, weak
 * collections and circular graphs with a {@link CacheSerializationError} naming `key` and the
 * path of the offending part.
 */
export function measureValue(key: string, value: unknown, roundTrip = false): number {
  if (typeof value === 'string') return HEAP.string + utf8Bytes(value);
  if (value === undefined) {
    throw new CacheSerializationError(key, 'undefined is not a cacheable value (use null to cache "nothing")');
  }
  try {
    return new ValueMeasurer(key, roundTrip).measure(value, '$');
  } catch (error) {
    if (error instanceof CacheSerializationError) throw error;
    // A RangeError from a graph too deep to walk lands here.
    throw new CacheSerializationError(key, `the value could not be walked: ${(error as Error).message}`, { cause: error });
  }
}

/** What comes back from L2 as the same value (with `roundTrip`). */
const ROUND_TRIP_PROTOTYPES = new Set<unknown>([Object.prototype, null, Array.prototype, Map.prototype, Set.prototype, Date.prototype]);

class ValueMeasurer {
  readonly #key: string;
  readonly #roundTrip: boolean;
  readonly #ancestors = new Set<object>();

  constructor(key: string, roundTrip: boolean) {
    this.#key = key;
    this.#roundTrip = roundTrip;
  }

  measure(value: unknown, path: string): number {
    switch (typeof value) {
      case 'string':
        return align8(HEAP.string + utf8Bytes(value));
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
    if (value instanceof Promise) throw this.#reject(path, 'promises cannot be cached; await the value first');
    if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
      throw this.#reject(path, `${value.constructor.name} cannot be serialized`);
    }
    if (this.#roundTrip && !ROUND_TRIP_PROTOTYPES.has(Object.getPrototypeOf(value))) throw this.#notRoundTrip(value, path);
    if (value instanceof ArrayBuffer) return HEAP.binary + value.byteLength;
    if (value instanceof Date) return HEAP.date;
    if (value instanceof RegExp) return HEAP.object + HEAP.string + utf8Bytes(value.source);
    if (this.#ancestors.has(value)) throw this.#reject(path, 'circular reference');
    this.#ancestors.add(value);
    let size: number;
    if (Array.isArray(value)) {
      size = HEAP.array;
      for (let i = 0; i < value.length; i++) {
        if (this.#roundTrip && !(i in value))
          throw this.#reject(`${path}[${i}]`, 'a hole in a sparse array reads back from L2 as undefined; fill it (null) first');
        size += HEAP.element + this.measure(value[i], `${path}[${i}]`);
      }
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
      let properties = 0;
      size = HEAP.object;
      for (const prop in value) {
        if (!Object.hasOwn(value, prop)) continue;
        properties++;
        size += this.measure((value as Record<string, unknown>)[prop], `${path}.${prop}`);
      }
      size += properties * (properties < DICTIONARY_MODE_PROPERTIES ? HEAP.fastProperty : HEAP.dictionaryProperty);
    }
    this.#ancestors.delete(value);
    return size;
  }

  #notRoundTrip(value: object, path: string): CacheSerializationError {
    const kind = (value as { constructor?: { name?: unknown } }).constructor?.name;
    const name = typeof kind === 'string' && kind !== '' ? kind : 'an object with a custom prototype';
    return this.#reject(
      path,
      `${name} does not come back from the L2 tier as the same value (it would read back as a plain object); store plain data instead`,
    );
  }

  #reject(path: string, why: string): CacheSerializationError {
    return new CacheSerializationError(this.#key, `${why} (at ${path})`);
  }
}
