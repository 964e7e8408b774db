import { describeError, ServiceError } from './errors.js';
import type { TypedEmitter } from './events.js';
import type { Logger } from './logger.js';
import type { ManagedService } from './managed-service.js';
import { withTimeout } from './timing.js';
import type { HealthStatus, Service, ServiceEvents, ServiceHealthEntry, ServiceState, SystemHealth } from './types.js';

const STATUSES: readonly HealthStatus[] = ['healthy', 'degraded', 'unhealthy'];

export interface HealthContext {
  readonly services: ReadonlyMap<string, ManagedService>;
  readonly events: TypedEmitter<ServiceEvents>;
  readonly log: Logger;
  shuttingDown(): boolean;
  /** A running service failed `unhealthyThreshold` checks in a row: stop it and mark it failed. */
  restartUnhealthy(service: ManagedService, reason: Error): Promise<void>;
}

/**
 * Health of the services: bounded checks, the system's status, periodic checks that restart a
 * service which keeps failing them. Concurrent callers of {@link check} share one round, so a
 * burst of probes runs each service's check once.
 */
export class HealthMonitor {
  readonly #ctx: HealthContext;
  #round: Promise<SystemHealth> | undefined;

  constructor(context: HealthContext) {
    this.#ctx = context;
  }

  check(): Promise<SystemHealth> {
    this.#round ??= this.#checkAll().finally(() => {
      this.#round = undefined;
    });
    return this.#round;
  }

  /** Every critical service meant to run (autoStart) is running, and the manager is not shutting down. */
  criticalRunning(): boolean {
    if (this.#ctx.shuttingDown()) return false;
    return [...this.#ctx.services.values()].every((s) => !s.spec.critical || !s.spec.autoStart || s.state === 'running');
  }

  async #checkAll(): Promise<SystemHealth> {
    const results = await Promise.all(
      [...this.#ctx.services.values()].map(async (service) => ({ service, entry: await this.probe(service) })),
    );
    const status = aggregate(results.map(({ service, entry }) => ({ critical: service.spec.critical, entry })));
    return {
      status,
      ready: this.criticalRunning() && status !== 'unhealthy',
      live: !this.#ctx.shuttingDown(),
      services: Object.fromEntries(results.map(({ service, entry }) => [service.name, entry])),
      timestamp: new Date().toISOString(),
    };
  }

  /** One service's health now; a check that throws, hangs past its bound or answers nonsense reads `unhealthy`. */
  async probe(service: ManagedService): Promise<ServiceHealthEntry> {
    const base = { state: service.state, critical: service.spec.critical, checks: {} as Record<string, boolean> };
    let entry: ServiceHealthEntry;
    if (service.state === 'running') {
      entry = await this.#runCheck(service, base);
    } else if (service.state === 'failed') {
      entry = { ...base, status: 'unhealthy', error: describeError(service.error) };
    } else if (service.state === 'starting' || service.state === 'stopping') {
      entry = { ...base, status: 'degraded', message: service.state };
    } else {
      // registered or stopped: fine for a service that is not meant to run on its own.
      entry = { ...base, status: service.spec.autoStart ? 'unhealthy' : 'healthy', message: service.state };
    }
    const previous = service.health;
    service.health = entry;
    if (previous?.status !== entry.status) this.#ctx.events.emit('health', { name: service.name, health: entry });
    return entry;
  }

  async #runCheck(service: ManagedService, base: Omit<ServiceHealthEntry, 'status'>): Promise<ServiceHealthEntry> {
    const instance = service.instance;
    if (instance?.healthCheck === undefined) return { ...base, status: 'healthy' };
    try {
      const result = await withTimeout(
        () => (instance as Required<Service>).healthCheck(),
        service.spec.healthTimeoutMs,
        `health check of "${service.name}"`,
      );
      if (!STATUSES.includes(result.status))
        return { ...base, status: 'unhealthy', error: `health check returned an invalid status ${JSON.stringify(result.status)}` };
      return {
        ...base,
        status: result.status,
        checks: { ...result.checks },
        ...(result.message === undefined ? {} : { message: result.message }),
      };
    } catch (error) {
      return { ...base, status: 'unhealthy', error: describeError(error) };
    }
  }

  schedule(service: ManagedService): void {
    clearInterval(service.healthTimer);
    service.unhealthyStreak = 0;
    service.healthTimer = setInterval(() => void this.#periodicCheck(service), service.spec.healthIntervalMs);
    service.healthTimer.unref();
  }

  unschedule(service: ManagedService): void {
    clearInterval(service.healthTimer);
    service.healthTimer = undefined;
  }

  async #periodicCheck(service: ManagedService): Promise<void> {
    if (service.state !== 'running') return;
    const entry = await this.probe(service);
    if (entry.status === 'healthy') {
      service.unhealthyStreak = 0;
      service.retries = 0;
      return;
    }
    const policy = service.spec.restart;
    if (entry.status !== 'unhealthy' || policy === undefined) return;
    service.unhealthyStreak++;
    // The state may have changed while the check ran.
    if (service.unhealthyStreak < policy.unhealthyThreshold || (service.state as ServiceState) !== 'running') return;
    this.#ctx.log.warn(
      { service: service.name, failedChecks: service.unhealthyStreak },
      'restarting a service that keeps failing its health check',
    );
    service.unhealthyStreak = 0;
    await this.#ctx.restartUnhealthy(
      service,
      new ServiceError(`"${service.name}" failed ${policy.unhealthyThreshold} health checks in a row`),
    );
  }
}

/** `unhealthy` if a critical service is failed or unhealthy; else `degraded` if anything is degraded, failed or unhealthy; else `healthy`. */
function aggregate(results: readonly { critical: boolean; entry: ServiceHealthEntry }[]): HealthStatus {
  let status: HealthStatus = 'healthy';
  for (const { critical, entry } of results) {
    const bad = entry.status === 'unhealthy' || entry.state === 'failed';
    if (critical && bad) return 'unhealthy';
    if (bad || entry.status === 'degraded') status = 'degraded';
  }
  return status;
}
