/**
 * pm-cache: inspect and manage a shared prompt cache tier (a FileStore directory or a Redis).
 * Writes go through the same shared-tier code as the cache: into the store first, then
 * announced on the invalidation bus, so running processes drop their L1 copies. Arguments (and a
 * whole warm file) are checked before anything connects.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CacheError } from '../errors.js';
import { redactUrl } from '../redact.js';
import { COMMANDS, type Io } from './commands.js';
import { EXIT, InputError, UsageError, type Flags } from './errors.js';
import { closeTarget, openTarget, targetSpec, type Target } from './target.js';

export { EXIT };

const OPTIONS = {
  store: { type: 'string' },
  dir: { type: 'string' },
  'redis-url': { type: 'string' },
  'key-prefix': { type: 'string' },
  channel: { type: 'string' },
  ttl: { type: 'string' },
  tag: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  'json-value': { type: 'boolean' },
  yes: { type: 'boolean' },
  watch: { type: 'boolean' },
  interval: { type: 'string' },
  limit: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

function usage(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  return `usage: pm-cache <command> [arguments] (--store file --dir DIR | --redis-url URL) [options]

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`)
  .join('\n')}

options:
  --store file|redis   the tier (redis is implied by --redis-url)
  --dir DIR            file store directory (default .cache/prompts)
  --redis-url URL      redis://[user:password@]host:port (default: PM_REDIS_URL with --store redis)
  --key-prefix P       Redis key prefix (default pm:)
  --channel C          invalidation bus channel (default pm:invalidation)
  --json               machine-readable output
  --watch, --interval  stats: refresh every 2s (or the interval) until Ctrl-C
  --limit N            keys: list at most N (default 1000)
  --version, -h/--help

exit codes: 0 done, 1 not found, 2 usage error, 3 store unreachable or failing, 4 bad input file`;
}

/** This package's version: its package.json is found upward from this module (src/cli or dist). */
function version(): string {
  for (let dir = new URL('.', import.meta.url); dir.pathname !== '/'; dir = new URL('..', dir)) {
    try {
      const manifest = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === '@pm/cache-core' && manifest.version !== undefined) return manifest.version;
    } catch {
      // not here; look one level up
    }
  }
  return 'unknown';
}

const defaultIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') || text.startsWith('\u001b') ? text : `${text}\n`),
  tty: process.stderr.isTTY,
};

/** Runs one CLI invocation; resolves the exit code. Never prints a credential. */
export async function main(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  let target: Target | undefined;
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: [...argv], allowPositionals: true, options: OPTIONS });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const flags = parsed.values as Flags & { help?: boolean; version?: boolean };
    const [name, ...args] = parsed.positionals;
    if (flags.version === true) {
      io.out(version());
      return EXIT.ok;
    }
    if (flags.help === true) {
      io.out(usage());
      return EXIT.ok;
    }
    if (name === undefined) throw new UsageError('no command given');
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (command === undefined) throw new UsageError(`unknown command "${name}"`);
    const run = await command.prepare(args, flags);
    const spec = targetSpec(flags);
    target = await openTarget(spec);
    return await run(target, io);
  } catch (error) {
    const message = redactUrl(error instanceof Error ? error.message : String(error)).replace(/^\[cache-core\] /, '');
    if (error instanceof UsageError) {
      io.err(`pm-cache: ${message}\n\n${usage()}`);
      return EXIT.usage;
    }
    if (error instanceof InputError) {
      io.err(`pm-cache: ${message}`);
      return EXIT.input;
    }
    // Keys, patterns, TTLs and values are checked before connecting: those are usage errors.
    const usageError =
      error instanceof CacheError &&
      ['E_CACHE_KEY', 'E_CACHE_CONFIG', 'E_CACHE_SERIALIZATION', 'E_CACHE_ENTRY_TOO_LARGE'].includes(error.code);
    io.err(`pm-cache: ${message}`);
    return usageError ? EXIT.usage : EXIT.store;
  } finally {
    if (target !== undefined) await closeTarget(target);
  }
}
