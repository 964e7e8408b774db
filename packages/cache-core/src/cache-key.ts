import { createHash } from 'node:crypto';
import { CacheKeyError } from './errors.js';

/**
 * A deterministic JSON-like serialization: object keys sorted, Map entries sorted, Sets sorted,
 * Dates as ISO strings, BigInts tagged. The same input gives the same text in every process
 * and every run (unlike `hash()`-per-process keys of the caches this replaces).
 */
export function stableStringify(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
    case 'boolean':
      return String(value);
    case 'bigint':
      return `{"$bigint":"${value.toString()}"}`;
    case 'undefined':
      return 'null';
    case 'symbol':
    case 'function':
      throw new CacheKeyError(`cannot build a key from a ${typeof value}`);
    case 'object':
      break;
  }
  if (value === null) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (ArrayBuffer.isView(value)) return `{"$bytes":"${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}"}`;
  if (ancestors.has(value)) throw new CacheKeyError('cannot build a key from a circular value');
  ancestors.add(value);
  let out: string;
  if (Array.isArray(value)) {
    out = `[${value.map((item) => write(item, ancestors)).join(',')}]`;
  } else if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => `[${write(k, ancestors)},${write(v, ancestors)}]`).sort();
    out = `{"$map":[${entries.join(',')}]}`;
  } else if (value instanceof Set) {
    out = `{"$set":[${[...value]
      .map((item) => write(item, ancestors))
      .sort()
      .join(',')}]}`;
  } else {
    const record = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      // undefined properties are left out, as JSON.stringify does, so { a: undefined } keys as {}.
      if (record[key] === undefined) continue;
      parts.push(`${JSON.stringify(key)}:${write(record[key], ancestors)}`);
    }
    out = `{${parts.join(',')}}`;
  }
  ancestors.delete(value);
  return out;
}

/**
 * A cache key that is stable across processes and runs: the sha256 (hex) of the stable
 * serialization of `parts`. Use it for the variable part of a key:
 * `` `task_prompt:${agent}:${makeCacheKey(context)}` ``.
 */
export function makeCacheKey(...parts: unknown[]): string {
  return createHash('sha256').update(stableStringify(parts)).digest('hex');
}
