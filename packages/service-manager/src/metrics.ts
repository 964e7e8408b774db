import { Gauge, type Registry } from 'prom-client';
import type { ServiceManager } from './service-manager.js';
import type { ServiceState } from './types.js';

const STATES: readonly ServiceState[] = ['registered', 'starting', 'running', 'stopping', 'stopped', 'failed'];
const HEALTH_VALUE = { healthy: 1, degraded: 0.5, unhealthy: 0 } as const;

/**
 * Service metrics read from the manager at scrape time: `pm_service_up`, `pm_service_state`
 * (one series per state, 1 for the current one), `pm_service_startup_seconds`,
 * `pm_service_health` (1 healthy, 0.5 degraded, 0 unhealthy, from the last check) and
 * `pm_service_ready`.
 */
export function registerServiceMetrics(manager: ServiceManager, registry: Registry): void {
  const registers = [registry];
  new Gauge({
    name: 'pm_service_up',
    help: '1 when the service is running',
    labelNames: ['service', 'critical'] as const,
    registers,
    collect() {
      this.reset();
      for (const name of manager.serviceNames) this.set({ service: name, critical: String(manager.isCritical(name)) }, manager.getState(name) === 'running' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'pm_service_state',
    help: 'Lifecycle state of each service (1 for the current state)',
    labelNames: ['service', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const name of manager.serviceNames) {
        const current = manager.getState(name);
        for (const state of STATES) this.set({ service: name, state }, state === current ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'pm_service_startup_seconds',
    help: 'How long each running service took to start',
    labelNames: ['service'] as const,
    registers,
    collect() {
      this.reset();
      for (const [name, ms] of Object.entries(manager.startupTimes)) this.set({ service: name }, ms / 1000);
    },
  });
  new Gauge({
    name: 'pm_service_health',
    help: 'Last health check per service: 1 healthy, 0.5 degraded, 0 unhealthy',
    labelNames: ['service'] as const,
    registers,
    collect() {
      this.reset();
      for (const name of manager.serviceNames) {
        const health = manager.lastHealth(name);
        if (health !== undefined) this.set({ service: name }, HEALTH_VALUE[health.status]);
      }
    },
  });
  new Gauge({
    name: 'pm_service_ready',
    help: '1 when every critical service is running',
    registers,
    collect() {
      this.set(manager.isReady() ? 1 : 0);
    },
  });
}
