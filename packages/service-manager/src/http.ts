import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Dashboard } from './dashboard/dashboard.js';
import type { SystemHealth } from './types.js';

/** What the probes read: the `ServiceManager` fits. */
export interface ProbeSource {
  readonly metricsRegistry: Registry;
  health(): Promise<SystemHealth>;
  isLive(): boolean;
  /** Served at `/dashboard` when present (the `ServiceManager` has one). */
  readonly dashboard?: Dashboard;
}

type Route = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => Promise<void>;

/** A readiness answer with Kubernetes semantics: 200 when healthy or degraded, 503 when unhealthy, starting or stopping. */
async function readiness(source: ProbeSource, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const health = await source.health();
  const status = health.ready ? 200 : 503;
  if (!query.has('verbose')) {
    send(res, status, 'application/json', JSON.stringify(health));
    return;
  }
  // `?verbose`: one line per check, as the Kubernetes API server answers its own probes.
  const lines: string[] = [];
  for (const [name, entry] of Object.entries(health.services)) {
    const bad = entry.status === 'unhealthy' || entry.state === 'failed';
    const detail = entry.error ?? entry.message ?? entry.status;
    lines.push(
      `[${bad ? '-' : '+'}]${name} ${entry.status} (${entry.state}${entry.critical ? ', critical' : ''})${detail === entry.status ? '' : `: ${detail}`}`,
    );
    for (const [check, ok] of Object.entries(entry.checks)) lines.push(`[${ok ? '+' : '-'}]${name}/${check} ${ok ? 'ok' : 'failed'}`);
  }
  lines.push(`readyz check ${health.ready ? 'passed' : 'failed'}: ${health.status}`);
  send(res, status, 'text/plain; charset=utf-8', `${lines.join('\n')}\n`);
}

/**
 * The probe routes: `/livez` (the process answers and is not shutting down), `/readyz` (200 when
 * `healthy` or `degraded`, 503 when `unhealthy` or a critical service is not running;
 * `?verbose` lists every check), `/healthz` (an alias of `/readyz`), `/metrics` (Prometheus
 * text). Extra routes (a dashboard) can be added by path.
 */
export function createHealthHandler(
  source: ProbeSource,
  extraRoutes: Readonly<Record<string, Route>> = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const routes: Record<string, Route> = {
    '/livez': async (_req, res) => {
      const live = source.isLive();
      send(res, live ? 200 : 503, 'application/json', JSON.stringify({ status: live ? 'ok' : 'shutting down' }));
    },
    '/readyz': async (_req, res, query) => readiness(source, res, query),
    '/healthz': async (_req, res, query) => readiness(source, res, query),
    '/metrics': async (_req, res) => {
      send(res, 200, source.metricsRegistry.contentType, await source.metricsRegistry.metrics());
    },
    ...extraRoutes,
  };
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
    if (route === undefined) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    try {
      await route(req, res, url.searchParams);
    } catch (error) {
      if (!res.headersSent)
        send(res, 500, 'application/json', JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
      else res.destroy();
    }
    return true;
  };
}

/** Writes a whole response; HEAD gets the headers only. */
export function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' }).end(res.req.method === 'HEAD' ? undefined : body);
}

export interface HealthServerOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1': reachable from this host only unless told otherwise */
  host?: string;
  /** Serve the source's dashboard at `/dashboard` (with `/dashboard/data` and `/dashboard/events`). @default true */
  dashboard?: boolean;
}

export interface HealthServer {
  /** e.g. `http://127.0.0.1:41234` */
  readonly url: string;
  close(): Promise<void>;
}

/** Runs the probe endpoints (and the dashboard) on their own HTTP server; other paths answer 404. */
export async function serveHealth(
  source: ProbeSource,
  options: HealthServerOptions = {},
  extraRoutes: Readonly<Record<string, Route>> = {},
): Promise<HealthServer> {
  const dashboard = options.dashboard === false ? undefined : source.dashboard;
  const handle = createHealthHandler(source, { ...dashboard?.routes(), ...extraRoutes });
  const server = createServer((req, res) => {
    void handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const detach = dashboard?.attach();
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        detach?.();
        server.closeAllConnections();
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}
