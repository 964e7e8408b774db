import 'reflect-metadata';
import { Registry } from 'prom-client';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { validateDependencies, type DependencyEdge } from './dependency-graph.js';
import { describeError, ServiceStartError, type StartFailure } from './errors.js';
import { TypedEmitter } from './events.js';
import { HealthMonitor } from './health.js';
import { Lifecycle } from './lifecycle.js';
import { silentLogger, type Logger } from './logger.js';
import { ManagedService } from './managed-service.js';
import { Dashboard } from './dashboard/dashboard.js';
import { registerServiceMetrics, type ServiceSnapshot, type ServiceSnapshotSource } from './metrics.js';
import { resolveRegistration } from './registration.js';
import { installShutdownHooks, type ShutdownHookOptions } from './shutdown.js';
import type {
  Service,
  ServiceEvents,
  ServiceHealthEntry,
  ServiceRegistration,
  ServiceState,
  StartReport,
  StopReport,
  SystemHealth,
} from './types.js';

export interface ServiceManagerOptions {
  /** Parent DI container; the manager works in a child of it. @default tsyringe's root container */
  container?: DependencyContainer;
  /** pino-compatible logger. @default silent */
  logger?: Logger;
  /** Prometheus registry for `/metrics`; service metrics are registered into it. @default a new Registry */
  metricsRegistry?: Registry;
}

/**
 * Runs services resolved through a tsyringe child container: dependency-ordered start with
 * independent services in parallel, each bounded in time; critical vs non-critical failures;
 * periodic bounded health checks; restart with exponential backoff; reverse-order shutdown.
 *
 * The work is done by rooms with one job each: `registration` (validation), `lifecycle`
 * (start, stop, retry), `health` (checks and status), `shutdown` (signals), `metrics`.
 */
export class ServiceManager implements ServiceSnapshotSource {
  /** The manager's own DI container (a child of the one given). Services resolve from it. */
  readonly container: DependencyContainer;
  /** Where `/metrics` reads from; `registerCacheService` adds the cache's metrics here. */
  readonly metricsRegistry: Registry;
  /** The live dashboard `serveHealth` serves at `/dashboard`; panels (the cache's) are added to it. */
  readonly dashboard: Dashboard;
  readonly #log: Logger;
  readonly #services = new Map<string, ManagedService>();
  readonly #events: TypedEmitter<ServiceEvents>;
  readonly #lifecycle: Lifecycle;
  readonly #health: HealthMonitor;

  constructor(options: ServiceManagerOptions = {}) {
    this.container = (options.container ?? rootContainer).createChildContainer();
    this.#log = options.logger ?? silentLogger;
    this.#events = new TypedEmitter(this.#log);
    this.metricsRegistry = options.metricsRegistry ?? new Registry();
    this.#health = new HealthMonitor({
      services: this.#services,
      events: this.#events,
      log: this.#log,
      shuttingDown: () => this.#lifecycle.shuttingDown,
      restartUnhealthy: async (service, reason) => {
        await this.#lifecycle.stopOne(service, { stopped: [], failed: [] });
        // Marking it failed schedules the restart, with backoff, within the retry budget.
        this.#lifecycle.fail(service, reason);
      },
    });
    this.#lifecycle = new Lifecycle({
      services: this.#services,
      container: this.container,
      events: this.#events,
      log: this.#log,
      graph: () => this.#graph(),
      onRunning: (service) => {
        this.#health.schedule(service);
      },
      onStopping: (service) => {
        this.#health.unschedule(service);
      },
    });
    registerServiceMetrics(this, this.metricsRegistry);
    this.dashboard = new Dashboard(this);
  }

  /**
   * Registers a service; every option is validated here, before anything runs.
   * @throws ServiceConfigError naming the service and the option
   */
  register(registration: ServiceRegistration): this {
    const spec = resolveRegistration(registration, this.container, (name) => this.#services.has(name));
    this.#services.set(spec.name, new ManagedService(spec));
    return this;
  }

  /** Whether a service of that name is registered. */
  has(name: string): boolean {
    return this.#services.has(name);
  }

  /** The service's instance, resolved (once) through the DI container. */
  get<T = Service>(name: string): T {
    this.#lifecycle.service(name);
    return this.container.resolve<T>(name);
  }

  getState(name: string): ServiceState {
    return this.#lifecycle.service(name).state;
  }

  /** Names in registration order. */
  get serviceNames(): string[] {
    return [...this.#services.keys()];
  }

  /** Startup time of each running service, in ms. */
  get startupTimes(): Record<string, number> {
    const times: Record<string, number> = {};
    for (const service of this.#services.values()) if (service.startupMs !== undefined) times[service.name] = service.startupMs;
    return times;
  }

  /** Subscribes to `state`, `health`, `started`, `stopped` or `failed`; returns an unsubscribe function. */
  on<E extends keyof ServiceEvents>(event: E, listener: (payload: ServiceEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Starts every `autoStart` service (and what they depend on) in dependency order, independent
   * services in parallel, each bounded by its `startTimeout`. A critical failure stops what had
   * started, in reverse order, and rejects with a {@link ServiceStartError} listing every
   * failure; non-critical failures leave the system `degraded` and running.
   * @throws ServiceDependencyError for unknown dependencies or cycles, before anything starts
   */
  async startAll(): Promise<StartReport> {
    validateDependencies(this.#graph());
    this.#lifecycle.shuttingDown = false;
    this.#lifecycle.startingAll = true;
    const begin = performance.now();
    const targets = [...this.#services.values()].filter((s) => s.spec.autoStart);
    try {
      await Promise.allSettled(targets.map((s) => this.#lifecycle.ensureStarted(s)));
    } finally {
      this.#lifecycle.startingAll = false;
    }
    const failures: StartFailure[] = [...this.#services.values()]
      .filter((s) => s.state === 'failed')
      .map((s) => ({ name: s.name, critical: s.spec.critical, error: s.error }));
    if (failures.some((f) => f.critical)) {
      await this.#lifecycle.stopSet(new Set(this.#services.keys()));
      throw new ServiceStartError(failures);
    }
    return {
      status: failures.length === 0 ? 'running' : 'degraded',
      started: [...this.#services.values()].filter((s) => s.state === 'running').map((s) => s.name),
      failed: failures.map((f) => ({ name: f.name, critical: f.critical, error: describeError(f.error) })),
      startupTimes: this.startupTimes,
      totalMs: performance.now() - begin,
    };
  }

  /** Starts one service and, first, what it depends on. Rejects if it fails. */
  async start(name: string): Promise<void> {
    validateDependencies(this.#graph());
    this.#lifecycle.shuttingDown = false;
    const service = this.#lifecycle.service(name);
    await this.#lifecycle.ensureStarted(service);
    if (service.state !== 'running') throw service.error;
  }

  /**
   * Stops every running service in reverse dependency order (a service stops after everything
   * that depends on it), each bounded by its `stopTimeout`. A stop that throws or hangs is
   * reported and does not hold up the others. Cancels retries and health checks.
   */
  async stopAll(): Promise<StopReport> {
    this.#lifecycle.shuttingDown = true;
    return this.#lifecycle.stopSet(new Set(this.#services.keys()));
  }

  /** Stops one service, after stopping the services that depend on it. */
  async stop(name: string): Promise<StopReport> {
    this.#lifecycle.service(name);
    const closure = new Set<string>([name]);
    const graph = this.#graph();
    for (const current of closure) {
      for (const [dependent, edges] of graph) if (edges.some((edge) => edge.name === current)) closure.add(dependent);
    }
    return this.#lifecycle.stopSet(closure);
  }

  /** Stops then starts one service (its dependents keep their instance and keep running). */
  async restart(name: string): Promise<void> {
    const service = this.#lifecycle.service(name);
    await this.#lifecycle.restartOne(service);
    if (service.state !== 'running') throw service.error;
  }

  /**
   * Checks every service now (each check bounded) and aggregates: `unhealthy` if a critical
   * service is failed or unhealthy; else `degraded` if anything is degraded, failed or
   * unhealthy; else `healthy`. A check that throws or hangs reads `unhealthy`. Concurrent calls
   * share one round of checks.
   */
  health(): Promise<SystemHealth> {
    return this.#health.check();
  }

  /** Every critical service that is meant to run (autoStart) is running, and the manager is not shutting down. */
  isReady(): boolean {
    return this.#health.criticalRunning();
  }

  /** Liveness: the manager is not shutting down. */
  isLive(): boolean {
    return !this.#lifecycle.shuttingDown;
  }

  /** The last health each service reported, without running checks. */
  lastHealth(name: string): ServiceHealthEntry | undefined {
    return this.#lifecycle.service(name).health;
  }

  isCritical(name: string): boolean {
    return this.#lifecycle.service(name).spec.critical;
  }

  /** Every service's state, criticality, startup time and last health, for metrics and dashboards. */
  snapshot(): { services: ServiceSnapshot[]; ready: boolean } {
    const services = [...this.#services.values()].map((s) => ({
      name: s.name,
      state: s.state,
      critical: s.spec.critical,
      startupMs: s.startupMs,
      health: s.health,
    }));
    return { services, ready: this.isReady() };
  }

  /**
   * On SIGTERM/SIGINT: `stopAll()` within `timeout`, then exit 0 (1 if the bound ran out or a
   * stop failed). A second signal exits at once with 128 + the signal's number.
   * @returns a function that removes the hooks
   */
  installShutdownHooks(options: ShutdownHookOptions = {}): () => void {
    return installShutdownHooks(() => this.stopAll(), this.#log, options);
  }

  #graph(): Map<string, readonly DependencyEdge[]> {
    return new Map([...this.#services.values()].map((s) => [s.name, s.spec.dependsOn]));
  }
}
