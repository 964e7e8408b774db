import type { CachePanelData, DashboardPanel } from '@pm/service-manager';
import type { CacheMetrics, InvalidationCallback } from '../types.js';

/** What the panel reads: a `SharedPromptCache` fits. */
export interface PanelSource {
  getMetrics(): CacheMetrics;
  onInvalidate(pattern: string, callback: InvalidationCallback): () => void;
}

/** Invalidations the panel keeps, most recent first. */
const RECENT_INVALIDATIONS = 20;

/**
 * The cache's panel on the service manager's dashboard: hit rate, memory, namespaces, the tiers
 * with their state (the L2 circuit, the bus connection) and the last invalidations.
 */
export function cacheDashboardPanel(cache: PanelSource, title = 'shared_prompt_cache'): DashboardPanel & { close(): void } {
  const invalidations: CachePanelData['invalidations'] = [];
  const unsubscribe = cache.onInvalidate('*', (event) => {
    invalidations.unshift({
      at: new Date().toISOString(),
      pattern: event.pattern === '' ? '(tags)' : event.pattern,
      count: event.count,
      source: event.source,
    });
    invalidations.length = Math.min(invalidations.length, RECENT_INVALIDATIONS);
  });
  return {
    title,
    close: unsubscribe,
    data: () => panelData(cache.getMetrics(), invalidations),
  };
}

function panelData(m: CacheMetrics, invalidations: CachePanelData['invalidations']): CachePanelData {
  const tiers: CachePanelData['tiers'] = [
    {
      name: 'L1 (in process)',
      kind: 'l1',
      state: m.memoryPressure ? 'memory pressure' : 'ok',
      ok: !m.memoryPressure,
      hits: m.hits - (m.l2?.hits ?? 0),
      misses: m.misses + (m.l2?.hits ?? 0),
      errors: 0,
      detail: `${m.evictions} evicted, ${m.expiredRemovals} expired`,
    },
  ];
  if (m.l2 !== undefined)
    tiers.push({
      name: `L2 (${m.l2.name})`,
      kind: 'l2',
      state: m.l2.available ? 'circuit closed' : 'circuit open',
      ok: m.l2.available,
      hits: m.l2.hits,
      misses: m.l2.misses,
      errors: m.l2.errors,
      detail: `${m.l2.circuitTrips} trips, ${m.l2.replay.pending} replays pending (${m.l2.replay.replayed} done, ${m.l2.replay.dropped} dropped), ${m.l2.corruptions} corrupt`,
    });
  if (m.bus !== undefined)
    tiers.push({
      name: `bus (${m.bus.name})`,
      kind: 'bus',
      state: m.bus.connected ? 'connected' : 'disconnected',
      ok: m.bus.connected,
      errors: m.bus.errors,
      detail: `${m.bus.published} sent, ${m.bus.received} heard, ${m.bus.resyncs} resyncs`,
    });
  return {
    hits: m.hits,
    misses: m.misses,
    entryCount: m.entryCount,
    maxEntries: m.maxEntries,
    sizeBytes: m.sizeBytes,
    maxBytes: m.maxMemoryMb * 1024 * 1024,
    namespaces: Object.entries(m.namespaces).map(([name, ns]) => ({
      name,
      entries: ns.entryCount,
      sizeBytes: ns.sizeBytes,
      hits: ns.hits,
      misses: ns.misses,
      hitRate: ns.hitRate,
    })),
    tiers,
    invalidations: [...invalidations],
  };
}
