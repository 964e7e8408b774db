/**
 * pm-cache: inspect and manage a shared prompt cache tier (a FileStore directory or a Redis).
 * On Redis, changes are announced on the invalidation bus, so running processes drop their L1
 * copies. Exit codes: 0 done, 1 not found, 2 usage error, 3 store unreachable or failing,
 * 4 bad input file.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseDuration } from './duration.js';
import { CacheError } from './errors.js';
import { assertKey } from './keys.js';
import { compilePattern } from './pattern.js';
import type { CacheStore, InvalidationBus, InvalidationMessage, StoredEntry } from './stores/cache-store.js';
import { FileStore } from './stores/file-store.js';
import { RedisInvalidationBus } from './stores/redis-invalidation-bus.js';
import { RedisStore } from './stores/redis-store.js';

export const EXIT = { ok: 0, notFound: 1, usage: 2, store: 3, input: 4 } as const;

const USAGE = `usage: pm-cache <command> [arguments] (--store file --dir DIR | --redis-url URL) [options]

commands:
  stats                        what the store holds
  get <key>                    print a value (exit 1 if absent)
  set <key> <value> [--ttl D]  store a string (or JSON with --json-value); --ttl like 30s, 10m (default 30m)
  delete <key>                 remove a key (exit 1 if absent)
  invalidate <pattern>         remove keys matching a glob (* ? [abc], over whole keys)
  clear --yes                  remove every key of this store
  cleanup                      remove expired and damaged records (file store)
  warm <file>                  load entries from a JSON array or JSON Lines of {"key","value","ttl"?}

options:
  --store file|redis   the tier (redis is implied by --redis-url)
  --dir DIR            file store directory (default .cache/prompts)
  --redis-url URL      e.g. redis://127.0.0.1:6379
  --key-prefix P       Redis key prefix (default pm:)
  --channel C          invalidation bus channel (default pm:invalidation)
  --json               machine-readable output
  -h, --help`;

class UsageError extends Error {}
class InputError extends Error {}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

interface Target {
  store: CacheStore;
  bus: InvalidationBus | undefined;
  describe: string;
}

function openTarget(values: Record<string, string | boolean | undefined>): Target {
  const redisUrl = values['redis-url'] as string | undefined;
  const kind = (values.store as string | undefined) ?? (redisUrl === undefined ? undefined : 'redis');
  if (kind === 'file') {
    const dir = (values.dir as string | undefined) ?? '.cache/prompts';
    return { store: new FileStore({ dir }), bus: undefined, describe: `file store ${dir}` };
  }
  if (kind === 'redis') {
    if (redisUrl === undefined) throw new UsageError('--store redis needs --redis-url');
    const keyPrefix = (values['key-prefix'] as string | undefined) ?? 'pm:';
    return {
      store: new RedisStore({ url: redisUrl, keyPrefix }),
      bus: new RedisInvalidationBus({ url: redisUrl, ...(values.channel === undefined ? {} : { channel: values.channel as string }) }),
      describe: `redis ${redisUrl}`,
    };
  }
  throw new UsageError(kind === undefined ? 'choose a store: --store file --dir DIR, or --redis-url URL' : `unknown store "${kind}"; use file or redis`);
}

const version = () => randomBytes(8).toString('hex');

async function announce(target: Target, message: InvalidationMessage): Promise<void> {
  await target.bus?.publish(message);
}

async function readWarmFile(file: string): Promise<{ key: string; value: unknown; ttl?: string | number }[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const trimmed = text.trim();
  let items: unknown[];
  try {
    items = trimmed.startsWith('[') ? (JSON.parse(trimmed) as unknown[]) : trimmed.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
  } catch (error) {
    throw new InputError(`${file} is neither a JSON array nor JSON Lines: ${(error as Error).message}`);
  }
  return items.map((item, i) => {
    const entry = item as { key?: unknown; value?: unknown; ttl?: unknown } | null;
    if (typeof entry?.key !== 'string' || entry.key === '') throw new InputError(`${file}: item ${i + 1} has no "key" string`);
    if (entry.value === undefined) throw new InputError(`${file}: item ${i + 1} ("${entry.key}") has no "value"`);
    if (entry.ttl !== undefined && typeof entry.ttl !== 'string' && typeof entry.ttl !== 'number') throw new InputError(`${file}: item ${i + 1} has an invalid "ttl"`);
    return { key: entry.key, value: entry.value, ...(entry.ttl === undefined ? {} : { ttl: entry.ttl }) };
  });
}

function expiry(ttl: unknown): number {
  return Date.now() + parseDuration(ttl ?? '30m', 'ttl');
}

/** Runs one CLI invocation; resolves the exit code. */
export async function main(argv: readonly string[], io: Io = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        store: { type: 'string' },
        dir: { type: 'string' },
        'redis-url': { type: 'string' },
        'key-prefix': { type: 'string' },
        channel: { type: 'string' },
        ttl: { type: 'string' },
        json: { type: 'boolean', default: false },
        'json-value': { type: 'boolean', default: false },
        yes: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    io.err(`pm-cache: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help || command === undefined) {
    (values.help ? io.out : io.err)(USAGE);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const print = (human: string, data: unknown) => {
    io.out(values.json ? JSON.stringify(data) : human);
  };
  const need = (count: number, names: string) => {
    if (args.length !== count) throw new UsageError(`${command} takes ${names}`);
  };
  const oneKey = (): string => {
    need(1, 'one key');
    const [key] = args as [string];
    assertKey(key);
    return key;
  };

  let target: Target | undefined;
  try {
    if (!['stats', 'get', 'set', 'delete', 'invalidate', 'clear', 'cleanup', 'warm'].includes(command)) throw new UsageError(`unknown command "${command}"`);
    target = openTarget(values);
    const { store } = target;
    try {
      await store.connect?.();
    } catch (error) {
      throw new CacheError(`cannot reach the ${target.describe}: ${(error as Error).message}`);
    }
    const health = await store.health();
    if (!health.ok) throw new CacheError(`the ${target.describe} is not usable: ${health.error ?? 'unknown error'}`);
    if (target.bus !== undefined) await target.bus.connect();

    switch (command) {
      case 'stats': {
        need(0, 'no arguments');
        const stats = (await store.stats?.()) ?? { store: store.name };
        print(Object.entries(stats).map(([k, v]) => `${k}: ${String(v)}`).join('\n'), stats);
        return EXIT.ok;
      }
      case 'get': {
        const key = oneKey();
        const entry = await store.get(key);
        if (entry === undefined) {
          print(`not found: ${key}`, { key, found: false });
          return EXIT.notFound;
        }
        const ttlMs = Number.isFinite(entry.expiresAt) ? Math.max(0, entry.expiresAt - Date.now()) : null;
        print(typeof entry.value === 'string' ? entry.value : JSON.stringify(entry.value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2), { key, found: true, value: entry.value, ttlMs, metadata: entry.metadata ?? {} });
        return EXIT.ok;
      }
      case 'set': {
        need(2, 'a key and a value');
        const [key, raw] = args as [string, string];
        assertKey(key);
        let value: unknown = raw;
        if (values['json-value']) {
          try {
            value = JSON.parse(raw);
          } catch (error) {
            throw new UsageError(`--json-value: ${(error as Error).message}`);
          }
        }
        const entry: StoredEntry = { value, expiresAt: expiry(values.ttl), version: version() };
        await store.set(key, entry);
        await announce(target, { type: 'delete', keys: [key], versions: [entry.version ?? ''] });
        print(`stored ${key}`, { key, stored: true, expiresAt: new Date(entry.expiresAt).toISOString() });
        return EXIT.ok;
      }
      case 'delete': {
        const key = oneKey();
        const existed = await store.delete(key);
        await announce(target, { type: 'delete', keys: [key] });
        print(existed ? `deleted ${key}` : `not found: ${key}`, { key, deleted: existed });
        return existed ? EXIT.ok : EXIT.notFound;
      }
      case 'invalidate': {
        need(1, 'one pattern');
        const [pattern] = args as [string];
        compilePattern(pattern);
        const removed = await store.invalidate(pattern);
        await announce(target, { type: 'invalidate', pattern });
        print(`removed ${removed} key(s) matching ${pattern}`, { pattern, removed });
        return EXIT.ok;
      }
      case 'clear': {
        need(0, 'no arguments');
        if (!values.yes) throw new UsageError('clear removes every key of this store; add --yes to confirm');
        await store.clear();
        await announce(target, { type: 'clear' });
        print('cleared', { cleared: true });
        return EXIT.ok;
      }
      case 'cleanup': {
        need(0, 'no arguments');
        const removed = (await store.cleanup?.()) ?? 0;
        print(`removed ${removed} expired or damaged record(s)`, { removed });
        return EXIT.ok;
      }
      default: {
        need(1, 'one file');
        const [file] = args as [string];
        const items = await readWarmFile(file);
        const versions = items.map(() => version());
        for (const [i, item] of items.entries()) await store.set(item.key, { value: item.value, expiresAt: expiry(item.ttl), version: versions[i] ?? '' });
        if (items.length > 0) await announce(target, { type: 'delete', keys: items.map((item) => item.key), versions });
        print(`loaded ${items.length} entr${items.length === 1 ? 'y' : 'ies'}`, { loaded: items.length });
        return EXIT.ok;
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`pm-cache: ${error.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (error instanceof InputError) {
      io.err(`pm-cache: ${error.message}`);
      return EXIT.input;
    }
    const code = error instanceof CacheError && (error.code === 'E_CACHE_KEY' || error.code === 'E_CACHE_CONFIG') ? EXIT.usage : EXIT.store;
    io.err(`pm-cache: ${(error as Error).message.replace(/^\[cache-core\] /, '')}`);
    return code;
  } finally {
    await target?.bus?.close();
    await target?.store.close?.();
  }
}
