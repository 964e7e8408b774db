import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServiceManager } from './service-manager.js';

/**
 * Handles `/healthz` (liveness), `/readyz` (readiness: 200, or 503 with the JSON health body)
 * and `/metrics` (Prometheus text from the manager's registry). Resolves false for any other
 * path, so it can sit in front of an existing server's handler.
 */
export function createHealthHandler(manager: ServiceManager): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    try {
      if (path === '/healthz') {
        const live = manager.isLive();
        send(res, live ? 200 : 503, 'application/json', JSON.stringify({ status: live ? 'ok' : 'shutting down' }));
      } else if (path === '/readyz') {
        const health = await manager.health();
        send(res, health.ready ? 200 : 503, 'application/json', JSON.stringify(health));
      } else {
        send(res, 200, manager.metricsRegistry.contentType, await manager.metricsRegistry.metrics());
      }
    } catch (error) {
      send(res, 500, 'application/json', JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
    }
    return true;
  };
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' }).end(res.req.method === 'HEAD' ? undefined : body);
}

export interface HealthServerOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1': reachable from this host only unless told otherwise */
  host?: string;
}

export interface HealthServer {
  /** e.g. `http://127.0.0.1:41234` */
  readonly url: string;
  close(): Promise<void>;
}

/** Runs the health endpoints on their own HTTP server; other paths answer 404. */
export async function serveHealth(manager: ServiceManager, options: HealthServerOptions = {}): Promise<HealthServer> {
  const handle = createHealthHandler(manager);
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
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}
