import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const USAGE = `usage: pnpm demo [--contexts N] [--requests N] [--delegations N] [--agents DIR]
                 [--store memory|file|redis] [--redis-url URL] [--dir DIR] [--workers N] [--json]
                 [--serve [--port N]]

  --contexts N     task contexts per agent (default 50)
  --requests N     requests in the warm phase (default 3000)
  --delegations N  tasks handed to agent subprocesses in each phase (default 30)
  --agents DIR     run on the agents of DIR (Claude Code subagents, say) instead of the demo's six
  --store S        memory (L1 only, default), file (a FileStore shared on this host) or redis
  --redis-url URL  with --store redis (default redis://127.0.0.1:6379, or PM_REDIS_URL)
  --dir DIR        with --store file (default .cache/prompts in the demo directory)
  --workers N      also run N-1 more processes sharing the cache (needs --store file or redis)
  --json           print one JSON summary object as the last line
  --serve          keep running afterwards (the workers too), with /dashboard, /metrics and the
                   probes on 127.0.0.1; prints the dashboard's URL; Ctrl-C stops
  --port N         with --serve (default: a free port)`;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** The demo's options, validated. */
export function parseOptions(argv: readonly string[]) {
  const { values } = parseArgs({
    // `pnpm demo -- --json` forwards the separator itself; it carries no meaning here.
    args: argv.filter((arg) => arg !== '--'),
    options: {
      contexts: { type: 'string' },
      requests: { type: 'string' },
      delegations: { type: 'string' },
      agents: { type: 'string' },
      store: { type: 'string', default: 'memory' },
      'redis-url': { type: 'string' },
      dir: { type: 'string' },
      workers: { type: 'string' },
      worker: { type: 'string' },
      json: { type: 'boolean', default: false },
      serve: { type: 'boolean', default: false },
      port: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const store = values.store;
  if (store !== 'memory' && store !== 'file' && store !== 'redis')
    throw new Error(`--store must be memory, file or redis, got ${JSON.stringify(store)}`);
  const workers = positiveInt('workers', values.workers, 1);
  if (workers > 1 && store === 'memory') throw new Error('--workers needs a cache the processes can share: --store file or --store redis');
  return {
    help: values.help,
    contexts: positiveInt('contexts', values.contexts, 50),
    requests: positiveInt('requests', values.requests, 3000),
    delegations: positiveInt('delegations', values.delegations, 30),
    agentsDir: values.agents === undefined ? undefined : path.resolve(values.agents),
    store,
    redisUrl: values['redis-url'] ?? process.env.PM_REDIS_URL ?? 'redis://127.0.0.1:6379',
    dir: values.dir ?? fileURLToPath(new URL('../.cache/prompts', import.meta.url)),
    workers,
    worker: values.worker,
    json: values.json,
    serve: values.serve,
    port: values.port === undefined ? 0 : positiveInt('port', values.port, 0),
  };
}

export type DemoOptions = ReturnType<typeof parseOptions>;

/** The command line of a worker process: the same options, one worker's role. */
export function workerArgs(options: DemoOptions, index: number): string[] {
  return [
    '--worker',
    String(index),
    '--contexts',
    String(options.contexts),
    '--requests',
    String(options.requests),
    '--store',
    options.store,
    '--redis-url',
    options.redisUrl,
    '--dir',
    options.dir,
    ...(options.agentsDir === undefined ? [] : ['--agents', options.agentsDir]),
    ...(options.serve ? ['--serve'] : []),
  ];
}
