import { Gauge, type Registry } from 'prom-client';
import type { ServiceHealthEntry, ServiceState } from './types.js';

/** One service as the metrics see it. */
export interface ServiceSnapshot {
  readonly name: string;
  readonly state: ServiceState;
  readonly critical: boolean;
  /** How long the running service took to start. */
  readonly startupMs: number | undefined;
  /** Its last health check, if any ran. */
  readonly health: ServiceHealthEntry | undefined;
}

/** What the metrics read at scrape time (the `ServiceManager` provides it). */
export interface ServiceSnapshotSource {
  snapshot(): { services: readonly ServiceSnapshot[]; ready: boolean };
}

export const SERVICE_STATES: readonly ServiceState[] = ['registered', 'starting', 'running', 'stopping', 'stopped', 'failed'];
const HEALTH_VALUE = { healthy: 1, degraded: 0.5, unhealthy: 0 } as const;

/**
 * Service metrics read at scrape time: `pm_service_up`, `pm_service_state` (a state set: one
 * series per state, 1 for the current one), `pm_service_startup_seconds`, `pm_service_health`
 * (1 healthy, 0.5 degraded, 0 unhealthy, from the last check) and `pm_service_ready`.
 */
export function registerServiceMetrics(source: ServiceSnapshotSource, registry: Registry): void {
  const registers = [registry];
  const services = () => source.snapshot().services;
  new Gauge({
    name: 'pm_service_up',
    help: '1 when the service is running',
    labelNames: ['service', 'critical'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of services()) this.set({ service: s.name, critical: String(s.critical) }, s.state === 'running' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'pm_service_state',
    help: 'Lifecycle state of each service as a state set: 1 for the current state, 0 for the others',
    labelNames: ['service', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of services()) for (const state of SERVICE_STATES) this.set({ service: s.name, state }, state === s.state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'pm_service_startup_seconds',
    help: 'How long each running service took to start',
    labelNames: ['service'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of services()) if (s.startupMs !== undefined) this.set({ service: s.name }, s.startupMs / 1000);
    },
  });
  new Gauge({
    name: 'pm_service_health',
    help: 'Last health check per service: 1 healthy, 0.5 degraded, 0 unhealthy',
    labelNames: ['service'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of services()) if (s.health !== undefined) this.set({ service: s.name }, HEALTH_VALUE[s.health.status]);
    },
  });
  new Gauge({
    name: 'pm_service_ready',
    help: '1 when every critical service is running',
    registers,
    collect() {
      this.set(source.snapshot().ready ? 1 : 0);
    },
  });
}
