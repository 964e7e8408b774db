import { readFile } from 'node:fs/promises';
import { parseTtl } from '../duration.js';
import { CacheError, quoteKey } from '../errors.js';
import { normalizeTags } from '../invalidation/tag-index.js';
import { assertKey } from '../keys.js';
import { measureValue } from '../l1/size.js';
import { InputError } from './errors.js';

/** One validated line of a warm file. */
export interface WarmEntry {
  key: string;
  value: unknown;
  ttlMs: number;
  tags: readonly string[] | undefined;
}

const DEFAULT_TTL = '30m';

/**
 * Reads a warm file (a JSON array, or JSON Lines, of `{ "key", "value", "ttl"?, "tags"? }`) and
 * validates every item — key, value, TTL, tags — before anything is stored: a bad item anywhere
 * is an {@link InputError} naming it, and nothing is written.
 */
export async function readWarmFile(file: string): Promise<WarmEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const trimmed = text.trim();
  let items: unknown[];
  try {
    items = trimmed.startsWith('[')
      ? (JSON.parse(trimmed) as unknown[])
      : trimmed
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as unknown);
  } catch (error) {
    throw new InputError(`${file} is neither a JSON array nor JSON Lines: ${(error as Error).message}`);
  }
  if (!Array.isArray(items)) throw new InputError(`${file} must hold a JSON array or JSON Lines of { "key", "value" } objects`);
  const seen = new Set<string>();
  return items.map((item, i) => {
    const where = `${file}: item ${i + 1}`;
    const entry = item as { key?: unknown; value?: unknown; ttl?: unknown; tags?: unknown } | null;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new InputError(`${where} is not an object`);
    if (typeof entry.key !== 'string' || entry.key === '') throw new InputError(`${where} has no "key" string`);
    const key = entry.key;
    try {
      assertKey(key);
      if (entry.value === undefined) throw new InputError(`${where} (${quoteKey(key)}) has no "value"`);
      if (entry.ttl !== undefined && typeof entry.ttl !== 'string' && typeof entry.ttl !== 'number')
        throw new InputError(`${where} (${quoteKey(key)}) has an invalid "ttl"`);
      const ttlMs = parseTtl(entry.ttl ?? DEFAULT_TTL, 'ttl');
      const tags = normalizeTags(entry.tags, (message) => new InputError(message));
      measureValue(key, entry.value, true);
      if (seen.has(key)) throw new InputError(`${where} repeats the key ${quoteKey(key)}`);
      seen.add(key);
      return { key, value: entry.value, ttlMs, tags };
    } catch (error) {
      if (error instanceof InputError) throw error;
      if (error instanceof CacheError) throw new InputError(`${where}: ${error.message.replace(/^\[cache-core\] /, '')}`);
      throw error;
    }
  });
}
