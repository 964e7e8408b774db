import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServiceSnapshotSource } from '../metrics.js';
import type { HealthStatus, ServiceState } from '../types.js';
import { DASHBOARD_PAGE } from './page.js';

/** What a cache shows on the dashboard (`@pm/cache-core` provides it for `SharedPromptCache`). */
export interface CachePanelData {
  hits: number;
  misses: number;
  entryCount: number;
  maxEntries: number;
  sizeBytes: number;
  maxBytes: number;
  namespaces: { name: string; entries: number; sizeBytes: number; hits: number; misses: number; hitRate: number }[];
  /** L1, L2 and the bus, each with what state it is in. */
  tiers: {
    name: string;
    kind: 'l1' | 'l2' | 'bus';
    state: string;
    ok: boolean;
    hits?: number;
    misses?: number;
    errors: number;
    detail?: string;
  }[];
  /** Most recent first. */
  invalidations: { at: string; pattern: string; count: number; source: 'local' | 'remote' }[];
}

/** A panel: a titled source of cache figures, read once a second while the dashboard is served. */
export interface DashboardPanel {
  readonly title: string;
  data(): CachePanelData | Promise<CachePanelData>;
}

/** One sample of a panel's history. */
export interface DashboardSample {
  /** Epoch ms. */
  t: number;
  /** Hit rate over the last interval (null when no reads happened in it). */
  hitRate: number | null;
  sizeBytes: number;
}

/** What `/dashboard/data` answers and `/dashboard/events` streams. */
export interface DashboardSnapshot {
  at: string;
  services: { name: string; state: ServiceState; critical: boolean; health: HealthStatus | null; message: string | null }[];
  panels: { title: string; data: CachePanelData; history: DashboardSample[] }[];
}

const SAMPLE_EVERY_MS = 1000;
/** Five minutes of one-second samples. */
const HISTORY = 300;

type Route = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => Promise<void>;

/**
 * The live dashboard: services with their state and health, and panels (the cache: hit rate and
 * memory over the last five minutes, namespaces, tiers with their circuit state, recent
 * invalidations). Sampled once a second while served; the page is one HTML file, no framework.
 */
export class Dashboard {
  readonly #source: ServiceSnapshotSource;
  readonly #panels: { panel: DashboardPanel; history: DashboardSample[]; last?: { hits: number; misses: number } }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #attached = 0;

  constructor(source: ServiceSnapshotSource) {
    this.#source = source;
  }

  /** Adds a panel (the cache service adds its own). */
  addPanel(panel: DashboardPanel): void {
    this.#panels.push({ panel, history: [] });
  }

  async snapshot(): Promise<DashboardSnapshot> {
    const services = this.#source.snapshot().services.map((s) => ({
      name: s.name,
      state: s.state,
      critical: s.critical,
      health: s.health?.status ?? null,
      message: s.health?.error ?? s.health?.message ?? null,
    }));
    const panels = await Promise.all(
      this.#panels.map(async ({ panel, history }) => ({ title: panel.title, data: await panel.data(), history: [...history] })),
    );
    return { at: new Date().toISOString(), services, panels };
  }

  /** Routes for the HTTP server; sampling runs while at least one server serves them. */
  routes(): Record<string, Route> {
    return {
      '/dashboard': async (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(DASHBOARD_PAGE);
      },
      '/dashboard/data': async (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(await this.snapshot()));
      },
      '/dashboard/events': async (req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        const push = async (): Promise<void> => {
          if (!res.writableEnded) res.write(`data: ${JSON.stringify(await this.snapshot())}\n\n`);
        };
        await push();
        const timer = setInterval(() => void push().catch(() => res.destroy()), SAMPLE_EVERY_MS);
        req.on('close', () => {
          clearInterval(timer);
        });
      },
    };
  }

  /** A server began serving the routes: sample once a second (unref'd) until every one detached. */
  attach(): () => void {
    if (this.#attached++ === 0) {
      void this.#sample();
      this.#timer = setInterval(() => void this.#sample(), SAMPLE_EVERY_MS);
      this.#timer.unref();
    }
    let detached = false;
    return () => {
      if (detached) return;
      detached = true;
      if (--this.#attached === 0) clearInterval(this.#timer);
    };
  }

  async #sample(): Promise<void> {
    const t = Date.now();
    for (const entry of this.#panels) {
      try {
        const data = await entry.panel.data();
        const reads = entry.last === undefined ? 0 : data.hits - entry.last.hits + (data.misses - entry.last.misses);
        const hitRate = entry.last === undefined || reads <= 0 ? null : (data.hits - entry.last.hits) / reads;
        entry.last = { hits: data.hits, misses: data.misses };
        entry.history.push({ t, hitRate, sizeBytes: data.sizeBytes });
        if (entry.history.length > HISTORY) entry.history.shift();
      } catch {
        // A panel that cannot answer now is sampled again in a second.
      }
    }
  }
}
