import { parseTtl } from '../duration.js';
import { quoteKey } from '../errors.js';
import { compilePattern } from '../invalidation/pattern.js';
import { normalizeTags } from '../invalidation/tag-index.js';
import { assertKey } from '../keys.js';
import { measureValue } from '../l1/size.js';
import type { StoredEntry } from '../stores/cache-store.js';
import type { SharedWrite, WriteOutcome } from '../tiers/shared-tiers.js';
import { EXIT, UsageError, type Flags } from './errors.js';
import type { Target } from './target.js';
import { readWarmFile, type WarmEntry } from './warm-file.js';

/** Where a command writes. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether stdout is a terminal (progress redraws in place) or a pipe (plain lines). */
  tty: boolean;
}

/** A command after its arguments were checked: what runs once the store is open. */
export type Run = (target: Target, io: Io) => Promise<number>;

/** One entry of the command table. */
export interface Command {
  /** `get <key>`: the usage line. */
  readonly usage: string;
  readonly summary: string;
  /** Checks the arguments (exit 2 or 4 before connecting) and returns what to run. */
  prepare(args: readonly string[], flags: Flags): Promise<Run>;
}

const print = (io: Io, flags: Flags, human: string, data: unknown): void => {
  io.out(
    flags.json === true ? JSON.stringify(data, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)) : human,
  );
};

function arity(args: readonly string[], count: number, what: string, name: string): void {
  if (args.length !== count) throw new UsageError(`${name} takes ${what}`);
}

function oneKey(args: readonly string[], name: string): string {
  arity(args, 1, 'one key', name);
  const [key = ''] = args;
  assertKey(key);
  return key;
}

function failedWrite(io: Io, target: Target, outcome: WriteOutcome): number {
  io.err(
    `pm-cache: ${outcome.failed} entr${outcome.failed === 1 ? 'y was' : 'ies were'} not stored in the ${target.describe}${outcome.queued ? '; running processes were not told' : ''}`,
  );
  return EXIT.store;
}

async function share(target: Target, entries: readonly WarmEntry[], onProgress?: (done: number) => void): Promise<WriteOutcome> {
  const total: WriteOutcome = { stored: 0, failed: 0, queued: false };
  const BATCH = 100;
  for (let i = 0; i < entries.length; i += BATCH) {
    const writes: SharedWrite[] = entries.slice(i, i + BATCH).map(({ key, value, ttlMs, tags }) => {
      const entry: StoredEntry = {
        value,
        expiresAt: Date.now() + ttlMs,
        version: target.tiers.version(),
        ...(tags === undefined ? {} : { tags: [...tags] }),
      };
      return { key, entry };
    });
    const outcome = await target.tiers.write(writes);
    total.stored += outcome.stored;
    total.failed += outcome.failed;
    total.queued ||= outcome.queued;
    onProgress?.(Math.min(i + BATCH, entries.length));
  }
  return total;
}

/** Progress on a terminal (one line redrawn), plain lines when piped; nothing with --json. */
function progress(io: Io, flags: Flags, total: number): (done: number) => void {
  if (flags.json === true || total < 200) return () => undefined;
  let last = -1;
  return (done) => {
    const percent = Math.floor((done / total) * 100);
    if (io.tty) io.err(`\u001b[2K\rwarming: ${done}/${total} (${percent}%)${done === total ? '\n' : ''}`);
    else if (percent >= last + 10 || done === total) io.err(`warming: ${done}/${total} (${percent}%)`);
    last = percent;
  };
}

/** Rows under a header, columns padded to their widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const formatBytes = (n: number): string =>
  n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`;

function formatTtl(ms: number): string {
  if (!Number.isFinite(ms)) return 'never expires';
  const s = Math.round(ms / 1000);
  return s >= 86_400
    ? `${(s / 86_400).toFixed(1)}d`
    : s >= 3600
      ? `${(s / 3600).toFixed(1)}h`
      : s >= 60
        ? `${Math.floor(s / 60)}m${s % 60}s`
        : `${s}s`;
}

/** Calls `tick` every `intervalMs` until SIGINT or SIGTERM, then resolves (the command exits 0). */
async function everyUntilInterrupted(intervalMs: number, tick: () => Promise<void>): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => void tick().catch(stop), intervalMs);
    function stop(): void {
      clearInterval(timer);
      process.off('SIGINT', stop).off('SIGTERM', stop);
      resolve();
    }
    process.once('SIGINT', stop).once('SIGTERM', stop);
  });
}

/** The commands of `pm-cache`, one small function each. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  stats: {
    usage: 'stats [--watch [--interval D]]',
    summary: 'what the store holds, as a table; --watch refreshes it (every 2s) until interrupted',
    async prepare(args, flags) {
      arity(args, 0, 'no arguments', 'stats');
      const intervalMs = flags.interval === undefined ? 2000 : parseTtl(flags.interval, '--interval');
      if (flags.interval !== undefined && flags.watch !== true) throw new UsageError('--interval goes with --watch');
      return async (target, io) => {
        const show = async (): Promise<void> => {
          const stats = (await target.store.stats?.()) ?? { store: target.store.name };
          const table = formatTable(
            ['figure', 'value'],
            Object.entries(stats).map(([k, v]) => [k, String(v)]),
          );
          // On a terminal the table is redrawn in place; piped, each refresh is a block of its own.
          const header = flags.watch === true ? `${io.tty ? '\u001b[H\u001b[2J' : ''}${new Date().toISOString()}  (Ctrl-C to stop)\n` : '';
          print(io, flags, header + table, stats);
        };
        await show();
        if (flags.watch === true) await everyUntilInterrupted(intervalMs, show);
        return EXIT.ok;
      };
    },
  },
  keys: {
    usage: 'keys [pattern] [--limit N]',
    summary: 'live keys matching a glob (default *), with size and remaining TTL; at most --limit (default 1000)',
    async prepare(args, flags) {
      if (args.length > 1) throw new UsageError('keys takes at most one pattern');
      const [pattern = '*'] = args;
      compilePattern(pattern);
      const limit = flags.limit === undefined ? 1000 : Number(flags.limit);
      if (!Number.isSafeInteger(limit) || limit <= 0)
        throw new UsageError(`--limit must be a positive integer, got ${JSON.stringify(flags.limit)}`);
      return async (target, io) => {
        if (target.store.keys === undefined) throw new UsageError(`the ${target.store.name} store cannot list its keys`);
        const listed = (await target.store.keys(pattern, limit)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        const human =
          listed.length === 0
            ? `no keys match ${JSON.stringify(pattern)}`
            : formatTable(
                ['key', 'size', 'ttl'],
                listed.map((k) => [quoteKey(k.key).slice(1, -1), formatBytes(k.sizeBytes), formatTtl(k.ttlMs)]),
              ) + (listed.length === limit ? `\n(first ${limit}; raise --limit for more)` : '');
        print(
          io,
          flags,
          human,
          listed.map((k) => ({ ...k, ttlMs: Number.isFinite(k.ttlMs) ? k.ttlMs : null })),
        );
        return EXIT.ok;
      };
    },
  },
  get: {
    usage: 'get <key>',
    summary: 'print a value (exit 1 if absent)',
    async prepare(args, flags) {
      const key = oneKey(args, 'get');
      return async (target, io) => {
        const entry = await target.store.get(key);
        if (entry === undefined) {
          print(io, flags, `not found: ${key}`, { key, found: false });
          return EXIT.notFound;
        }
        const ttlMs = Number.isFinite(entry.expiresAt) ? Math.max(0, entry.expiresAt - Date.now()) : null;
        const human =
          typeof entry.value === 'string'
            ? entry.value
            : JSON.stringify(entry.value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
        print(io, flags, human, { key, found: true, value: entry.value, ttlMs, metadata: entry.metadata ?? {}, tags: entry.tags ?? [] });
        return EXIT.ok;
      };
    },
  },
  set: {
    usage: 'set <key> <value> [--ttl D] [--tag T]...',
    summary: 'store a string (or JSON with --json-value); --ttl like 30s, 10m (default 30m)',
    async prepare(args, flags) {
      arity(args, 2, 'a key and a value', 'set');
      const [key, raw] = args as [string, string];
      assertKey(key);
      let value: unknown = raw;
      if (flags['json-value'] === true) {
        try {
          value = JSON.parse(raw);
        } catch (error) {
          throw new UsageError(`--json-value: ${(error as Error).message}`);
        }
      }
      measureValue(key, value, true);
      const entry: WarmEntry = {
        key,
        value,
        ttlMs: parseTtl(flags.ttl ?? '30m', 'ttl'),
        tags: normalizeTags(flags.tag, (message) => new UsageError(message)),
      };
      return async (target, io) => {
        const outcome = await share(target, [entry]);
        if (outcome.failed > 0) return failedWrite(io, target, outcome);
        print(io, flags, `stored ${key}`, {
          key,
          stored: true,
          expiresAt: Number.isFinite(entry.ttlMs) ? new Date(Date.now() + entry.ttlMs).toISOString() : null,
        });
        return EXIT.ok;
      };
    },
  },
  delete: {
    usage: 'delete <key>',
    summary: 'remove a key (exit 1 if absent)',
    async prepare(args, flags) {
      const key = oneKey(args, 'delete');
      return async (target, io) => {
        const { removed, queued } = await target.tiers.remove({ type: 'delete', keys: [key] });
        if (queued) throw new Error(`the ${target.describe} did not take the delete of ${quoteKey(key)}`);
        print(io, flags, removed > 0 ? `deleted ${key}` : `not found: ${key}`, { key, deleted: removed > 0 });
        return removed > 0 ? EXIT.ok : EXIT.notFound;
      };
    },
  },
  invalidate: {
    usage: 'invalidate <pattern>',
    summary: 'remove keys matching a glob (* ? [abc], over whole keys)',
    async prepare(args, flags) {
      arity(args, 1, 'one pattern', 'invalidate');
      const [pattern = ''] = args;
      compilePattern(pattern);
      return async (target, io) => {
        const { removed, queued } = await target.tiers.remove({ type: 'invalidate', pattern });
        if (queued) throw new Error(`the ${target.describe} did not take the invalidation of ${pattern}`);
        print(io, flags, `removed ${removed} key(s) matching ${pattern}`, { pattern, removed });
        return EXIT.ok;
      };
    },
  },
  'invalidate-tags': {
    usage: 'invalidate-tags <tag>...',
    summary: 'remove every key carrying any of the tags',
    async prepare(args, flags) {
      if (args.length === 0) throw new UsageError('invalidate-tags takes one or more tags');
      const tags = normalizeTags(args, (message) => new UsageError(message)) ?? [];
      return async (target, io) => {
        const { removed, queued } = await target.tiers.remove({ type: 'tags', tags: [...tags] });
        if (queued) throw new Error(`the ${target.describe} did not take the tag invalidation`);
        print(io, flags, `removed ${removed} key(s) tagged ${tags.join(', ')}`, { tags, removed });
        return EXIT.ok;
      };
    },
  },
  clear: {
    usage: 'clear --yes',
    summary: 'remove every key of this store',
    async prepare(args, flags) {
      arity(args, 0, 'no arguments', 'clear');
      if (flags.yes !== true) throw new UsageError('clear removes every key of this store; add --yes to confirm');
      return async (target, io) => {
        const { queued } = await target.tiers.remove({ type: 'clear' });
        if (queued) throw new Error(`the ${target.describe} did not take the clear`);
        print(io, flags, 'cleared', { cleared: true });
        return EXIT.ok;
      };
    },
  },
  cleanup: {
    usage: 'cleanup',
    summary: 'remove expired and damaged records (file store)',
    async prepare(args, flags) {
      arity(args, 0, 'no arguments', 'cleanup');
      return async (target, io) => {
        const removed = (await target.store.cleanup?.()) ?? 0;
        print(io, flags, `removed ${removed} expired or damaged record(s)`, { removed });
        return EXIT.ok;
      };
    },
  },
  warm: {
    usage: 'warm <file>',
    summary: 'load entries from a JSON array or JSON Lines of {"key","value","ttl"?,"tags"?}; all validated first',
    async prepare(args, flags) {
      arity(args, 1, 'one file', 'warm');
      const [file = ''] = args;
      const entries = await readWarmFile(file);
      return async (target, io) => {
        const outcome = await share(target, entries, progress(io, flags, entries.length));
        if (outcome.failed > 0) return failedWrite(io, target, outcome);
        print(io, flags, `loaded ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`, { loaded: entries.length });
        return EXIT.ok;
      };
    },
  },
};
