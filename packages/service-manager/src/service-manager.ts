import 'reflect-metadata';
import { constants as osConstants } from 'node:os';
import { Registry } from 'prom-client';
import { container as rootContainer, instanceCachingFactory, Lifecycle, type DependencyContainer } from 'tsyringe';
import { dependentsOf, validateDependencies } from './dependency-graph.js';
import { parseDuration } from './duration.js';
import { describeError, ServiceConfigError, ServiceError, ServiceStartError, ServiceTimeoutError, type StartFailure } from './errors.js';
import { TypedEmitter } from './events.js';
import { silentLogger, type Logger } from './logger.js';
import { registerServiceMetrics } from './metrics.js';
import { backoffDelay, withTimeout } from './timing.js';
import type {
  HealthStatus,
  Service,
  ServiceEvents,
  ServiceHealthEntry,
  ServiceRegistration,
  ServiceState,
  StartReport,
  StopReport,
  SystemHealth,
} from './types.js';

interface RestartSettings {
  maxRetries: number;
  backoffMs: number;
  maxBackoffMs: number;
  unhealthyThreshold: number;
}

/** A registered service: its validated settings and its runtime state. */
class ManagedService {
  state: ServiceState = 'registered';
  instance: Service | undefined;
  /** The start under way, shared by every dependent waiting on it. */
  starting: Promise<void> | undefined;
  startupMs: number | undefined;
  error: unknown;
  health: ServiceHealthEntry | undefined;
  healthTimer: NodeJS.Timeout | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  retries = 0;
  unhealthyStreak = 0;

  constructor(
    readonly name: string,
    readonly critical: boolean,
    readonly dependsOn: readonly string[],
    readonly autoStart: boolean,
    readonly startTimeoutMs: number,
    readonly stopTimeoutMs: number,
    readonly healthIntervalMs: number,
    readonly healthTimeoutMs: number,
    readonly restart: RestartSettings | undefined,
  ) {}
}

export interface ServiceManagerOptions {
  /** Parent DI container; the manager works in a child of it. @default tsyringe's root container */
  container?: DependencyContainer;
  /** pino-compatible logger. @default silent */
  logger?: Logger;
  /** Prometheus registry for `/metrics`; service metrics are registered into it. @default a new Registry */
  metricsRegistry?: Registry;
}

export interface ShutdownHookOptions {
  /** Bound on `stopAll()` after the first signal. @default '30s' */
  timeout?: number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;
  /** @default ['SIGTERM', 'SIGINT'] */
  signals?: readonly NodeJS.Signals[];
  /** How to exit; tests replace it. @default process.exit */
  exit?: (code: number) => void;
}

const configError = (message: string) => new ServiceConfigError(message);
const REGISTRATION_KEYS = new Set([
  'name', 'useClass', 'useFactory', 'useValue', 'token', 'critical', 'dependsOn', 'autoStart',
  'startTimeout', 'stopTimeout', 'healthCheckInterval', 'healthCheckTimeout', 'restart',
]);

/**
 * Runs services resolved through a tsyringe child container: dependency-ordered start with
 * independent services in parallel, each bounded in time; critical vs non-critical failures;
 * periodic bounded health checks; restart with exponential backoff; reverse-order shutdown.
 */
export class ServiceManager {
  /** The manager's own DI container (a child of the one given). Services resolve from it. */
  readonly container: DependencyContainer;
  /** Where `/metrics` reads from; `registerCacheService` adds the cache's metrics here. */
  readonly metricsRegistry: Registry;
  readonly #log: Logger;
  readonly #services = new Map<string, ManagedService>();
  readonly #events: TypedEmitter<ServiceEvents>;
  #shuttingDown = false;
  /** Set while `startAll()` runs: a critical failure then aborts startup instead of retrying. */
  #startingAll = false;

  constructor(options: ServiceManagerOptions = {}) {
    this.container = (options.container ?? rootContainer).createChildContainer();
    this.#log = options.logger ?? silentLogger;
    this.#events = new TypedEmitter(this.#log);
    this.metricsRegistry = options.metricsRegistry ?? new Registry();
    registerServiceMetrics(this, this.metricsRegistry);
  }

  /**
   * Registers a service; every option is validated here, before anything runs.
   * @throws ServiceConfigError naming the service and the option
   */
  register(registration: ServiceRegistration): this {
    const input = registration as unknown as Partial<Record<string, unknown>>;
    const name = input.name;
    if (typeof name !== 'string' || name.trim() === '') throw configError('a service needs a non-empty string name');
    const fail = (message: string) => new ServiceConfigError(`service "${name}": ${message}`);
    if (this.#services.has(name)) throw fail('is already registered');
    for (const key of Object.keys(input)) if (!REGISTRATION_KEYS.has(key)) throw fail(`unknown option "${key}"`);
    const providers = (['useClass', 'useFactory', 'useValue'] as const).filter((key) => input[key] !== undefined);
    if (providers.length !== 1) throw fail('needs exactly one of useClass, useFactory or useValue');
    if (registration.useClass !== undefined && typeof registration.useClass !== 'function') throw fail('useClass must be a class');
    if (registration.useFactory !== undefined && typeof registration.useFactory !== 'function') throw fail('useFactory must be a function');
    if (registration.useValue !== undefined) assertService(registration.useValue, name);
    const dependsOn = registration.dependsOn ?? [];
    if (!Array.isArray(dependsOn) || !dependsOn.every((d) => typeof d === 'string')) throw fail('dependsOn must be an array of service names');
    if (dependsOn.includes(name)) throw fail('cannot depend on itself');
    for (const flag of ['critical', 'autoStart'] as const) {
      if (input[flag] !== undefined && typeof input[flag] !== 'boolean') throw fail(`${flag} must be a boolean`);
    }
    const duration = (key: string, value: unknown, fallback: string) => parseDuration(value ?? fallback, `service "${name}": ${key}`, configError);
    const healthIntervalMs = duration('healthCheckInterval', registration.healthCheckInterval, '30s');
    const healthTimeoutMs = registration.healthCheckTimeout === undefined ? Math.min(5000, healthIntervalMs) : duration('healthCheckTimeout', registration.healthCheckTimeout, '5s');
    if (!Number.isFinite(healthIntervalMs)) throw fail('healthCheckInterval must be finite');

    const service = new ManagedService(
      name,
      registration.critical ?? true,
      [...dependsOn],
      registration.autoStart ?? true,
      duration('startTimeout', registration.startTimeout, '30s'),
      duration('stopTimeout', registration.stopTimeout, '10s'),
      healthIntervalMs,
      healthTimeoutMs,
      registration.restart === undefined ? undefined : resolveRestart(registration.restart, name),
    );
    if (registration.useClass !== undefined) {
      this.container.register(name, { useClass: registration.useClass }, { lifecycle: Lifecycle.Singleton });
    } else if (registration.useFactory !== undefined) {
      this.container.register(name, { useFactory: instanceCachingFactory(registration.useFactory) });
    } else {
      this.container.register(name, { useValue: registration.useValue });
    }
    if (registration.token !== undefined) this.container.register(registration.token, { useToken: name });
    this.#services.set(name, service);
    return this;
  }

  /** The service's instance, resolved (once) through the DI container. */
  get<T = Service>(name: string): T {
    this.#service(name);
    return this.container.resolve<T>(name);
  }

  getState(name: string): ServiceState {
    return this.#service(name).state;
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

  // ---------------------------------------------------------------- start

  /**
   * Starts every `autoStart` service (and what they depend on) in dependency order, independent
   * services in parallel, each bounded by its `startTimeout`. A critical failure stops what had
   * started, in reverse order, and rejects with a {@link ServiceStartError} listing every
   * failure; non-critical failures leave the system `degraded` and running.
   * @throws ServiceDependencyError for unknown dependencies or cycles, before anything starts
   */
  async startAll(): Promise<StartReport> {
    this.#validateGraph();
    this.#shuttingDown = false;
    this.#startingAll = true;
    const begin = performance.now();
    const targets = [...this.#services.values()].filter((s) => s.autoStart);
    try {
      await Promise.allSettled(targets.map((s) => this.#ensureStarted(s)));
    } finally {
      this.#startingAll = false;
    }
    const failures: StartFailure[] = [...this.#services.values()]
      .filter((s) => s.state === 'failed')
      .map((s) => ({ name: s.name, critical: s.critical, error: s.error }));
    if (failures.some((f) => f.critical)) {
      await this.#stopSet(new Set(this.#services.keys()));
      throw new ServiceStartError(failures);
    }
    const started = [...this.#services.values()].filter((s) => s.state === 'running').map((s) => s.name);
    const startupTimes = this.startupTimes;
    return {
      status: failures.length === 0 ? 'running' : 'degraded',
      started,
      failed: failures.map((f) => ({ name: f.name, critical: f.critical, error: describeError(f.error) })),
      startupTimes,
      totalMs: performance.now() - begin,
    };
  }

  /** Starts one service and, first, what it depends on. Rejects if it fails. */
  async start(name: string): Promise<void> {
    this.#validateGraph();
    this.#shuttingDown = false;
    const service = this.#service(name);
    await this.#ensureStarted(service);
    if (service.state !== 'running') throw service.error;
  }

  #ensureStarted(service: ManagedService): Promise<void> {
    if (service.state === 'running') return Promise.resolve();
    service.starting ??= (async () => {
      try {
        const dependencies = service.dependsOn.map((d) => this.#service(d));
        await Promise.allSettled(dependencies.map((d) => this.#ensureStarted(d)));
        const down = dependencies.find((d) => d.state !== 'running');
        if (down !== undefined) {
          this.#fail(service, new ServiceError(`cannot start "${service.name}": its dependency "${down.name}" is not running`));
          return;
        }
        await this.#startOne(service);
      } finally {
        service.starting = undefined;
      }
    })();
    return service.starting;
  }

  async #startOne(service: ManagedService): Promise<void> {
    clearTimeout(service.retryTimer);
    this.#setState(service, 'starting');
    const begin = performance.now();
    try {
      await withTimeout(
        async () => {
          service.instance ??= this.#resolve(service);
          await service.instance.start();
        },
        service.startTimeoutMs,
        `start of "${service.name}"`,
      );
    } catch (error) {
      if (error instanceof ServiceTimeoutError) this.#stopInBackground(service);
      this.#fail(service, error);
      return;
    }
    service.startupMs = performance.now() - begin;
    service.error = undefined;
    if (service.instance?.healthCheck === undefined) service.retries = 0;
    this.#setState(service, 'running');
    this.#events.emit('started', { name: service.name, durationMs: service.startupMs });
    this.#log.info({ service: service.name, startupMs: Math.round(service.startupMs) }, 'service started');
    this.#scheduleHealthChecks(service);
  }

  #resolve(service: ManagedService): Service {
    const instance = this.container.resolve<Service>(service.name);
    assertService(instance, service.name);
    return instance;
  }

  /** A start that timed out may still be running: ask it to stop, without waiting for it. */
  #stopInBackground(service: ManagedService): void {
    const instance = service.instance;
    if (instance === undefined) return;
    withTimeout(() => instance.stop(), service.stopTimeoutMs, `stop of "${service.name}"`).catch((error: unknown) => {
      this.#log.warn({ service: service.name, err: error }, 'stopping a service whose start timed out failed');
    });
  }

  #fail(service: ManagedService, error: unknown): void {
    service.error = error;
    service.startupMs = undefined;
    this.#setState(service, 'failed');
    this.#events.emit('failed', { name: service.name, critical: service.critical, error });
    this.#log.error({ service: service.name, critical: service.critical, err: error }, 'service failed');
    // During startAll a critical failure aborts startup; anything else may be retried.
    if (!(service.critical && this.#startingAll)) this.#scheduleRetry(service);
  }

  #scheduleRetry(service: ManagedService): void {
    const policy = service.restart;
    if (policy === undefined || this.#shuttingDown) return;
    if (service.retries >= policy.maxRetries) {
      this.#log.error({ service: service.name, retries: service.retries }, 'service left failed: no retries left');
      return;
    }
    service.retries++;
    const delayMs = backoffDelay(service.retries, policy.backoffMs, policy.maxBackoffMs);
    this.#log.warn({ service: service.name, attempt: service.retries, delayMs: Math.round(delayMs) }, 'retrying service');
    clearTimeout(service.retryTimer);
    service.retryTimer = setTimeout(() => {
      if (this.#shuttingDown) return;
      void this.#restartOne(service);
    }, delayMs);
    service.retryTimer.unref();
  }

  async #restartOne(service: ManagedService): Promise<void> {
    if (service.state === 'running') await this.#stopOne(service, { stopped: [], failed: [] });
    await this.#ensureStarted(service);
  }

  // ---------------------------------------------------------------- stop

  /**
   * Stops every running service in reverse dependency order (a service stops after everything
   * that depends on it), each bounded by its `stopTimeout`. A stop that throws or hangs is
   * reported and does not hold up the others. Cancels retries and health checks.
   */
  async stopAll(): Promise<StopReport> {
    this.#shuttingDown = true;
    return this.#stopSet(new Set(this.#services.keys()));
  }

  /** Stops one service, after stopping the services that depend on it. */
  async stop(name: string): Promise<StopReport> {
    const closure = new Set<string>([name]);
    const dependents = dependentsOf(this.#dependencyMap());
    for (const current of closure) for (const dependent of dependents.get(current) ?? []) closure.add(dependent);
    return this.#stopSet(closure);
  }

  /** Stops then starts one service (its dependents keep their instance and keep running). */
  async restart(name: string): Promise<void> {
    const service = this.#service(name);
    await this.#restartOne(service);
    if (service.state !== 'running') throw service.error;
  }

  async #stopSet(names: ReadonlySet<string>): Promise<StopReport> {
    const report: StopReport = { stopped: [], failed: [] };
    const dependents = dependentsOf(this.#dependencyMap());
    const stops = new Map<string, Promise<void>>();
    const stopAfterDependents = (name: string): Promise<void> => {
      let promise = stops.get(name);
      if (promise === undefined) {
        promise = (async () => {
          await Promise.all((dependents.get(name) ?? []).filter((d) => names.has(d)).map(stopAfterDependents));
          const service = this.#service(name);
          clearTimeout(service.retryTimer);
          if (service.state === 'running') await this.#stopOne(service, report);
        })();
        stops.set(name, promise);
      }
      return promise;
    };
    await Promise.all([...names].map(stopAfterDependents));
    return report;
  }

  async #stopOne(service: ManagedService, report: StopReport): Promise<void> {
    clearInterval(service.healthTimer);
    service.healthTimer = undefined;
    this.#setState(service, 'stopping');
    try {
      const instance = service.instance;
      if (instance !== undefined) await withTimeout(() => instance.stop(), service.stopTimeoutMs, `stop of "${service.name}"`);
    } catch (error) {
      service.error = error;
      report.failed.push({ name: service.name, error: describeError(error) });
      this.#log.error({ service: service.name, err: error }, 'service did not stop cleanly');
      this.#setState(service, 'failed');
      return;
    }
    service.startupMs = undefined;
    report.stopped.push(service.name);
    this.#setState(service, 'stopped');
    this.#events.emit('stopped', { name: service.name });
  }

  // ---------------------------------------------------------------- health

  /**
   * Checks every service now (each check bounded) and aggregates: `unhealthy` if a critical
   * service is failed or unhealthy; else `degraded` if anything is degraded, failed or
   * unhealthy; else `healthy`. A check that throws or hangs reads `unhealthy`.
   */
  async health(): Promise<SystemHealth> {
    const entries = await Promise.all([...this.#services.values()].map(async (s) => [s.name, await this.#probe(s)] as const));
    const services = Object.fromEntries(entries);
    let status: HealthStatus = 'healthy';
    for (const [name, entry] of entries) {
      const critical = this.#service(name).critical;
      const bad = entry.status === 'unhealthy' || entry.state === 'failed';
      if (critical && bad) status = 'unhealthy';
      else if (status === 'healthy' && (bad || entry.status === 'degraded')) status = 'degraded';
    }
    return { status, ready: this.isReady(), live: this.isLive(), services, timestamp: new Date().toISOString() };
  }

  /** Readiness: every critical service that is meant to run (autoStart) is running. */
  isReady(): boolean {
    if (this.#shuttingDown) return false;
    return [...this.#services.values()].every((s) => !s.critical || !s.autoStart || s.state === 'running');
  }

  /** Liveness: the manager is not shutting down. */
  isLive(): boolean {
    return !this.#shuttingDown;
  }

  /** The last health each service reported, without running checks (for metrics). */
  lastHealth(name: string): ServiceHealthEntry | undefined {
    return this.#service(name).health;
  }

  isCritical(name: string): boolean {
    return this.#service(name).critical;
  }

  #scheduleHealthChecks(service: ManagedService): void {
    clearInterval(service.healthTimer);
    service.unhealthyStreak = 0;
    service.healthTimer = setInterval(() => void this.#periodicCheck(service), service.healthIntervalMs);
    service.healthTimer.unref();
  }

  async #periodicCheck(service: ManagedService): Promise<void> {
    if (service.state !== 'running') return;
    const entry = await this.#probe(service);
    if (entry.status === 'healthy') {
      service.unhealthyStreak = 0;
      service.retries = 0;
      return;
    }
    if (entry.status !== 'unhealthy' || service.restart === undefined) return;
    service.unhealthyStreak++;
    // The state may have changed while the check ran.
    if (service.unhealthyStreak < service.restart.unhealthyThreshold || (service.state as ServiceState) !== 'running') return;
    this.#log.warn({ service: service.name, failedChecks: service.unhealthyStreak }, 'restarting a service that keeps failing its health check');
    service.unhealthyStreak = 0;
    await this.#stopOne(service, { stopped: [], failed: [] });
    // Marking it failed schedules the restart, with backoff, within the retry budget.
    this.#fail(service, new ServiceError(`"${service.name}" failed ${service.restart.unhealthyThreshold} health checks in a row`));
  }

  async #probe(service: ManagedService): Promise<ServiceHealthEntry> {
    const base = { state: service.state, critical: service.critical, checks: {} as Record<string, boolean> };
    let entry: ServiceHealthEntry;
    if (service.state === 'running') {
      const instance = service.instance;
      if (instance?.healthCheck === undefined) {
        entry = { ...base, status: 'healthy' };
      } else {
        try {
          const result = await withTimeout(() => (instance as Required<Service>).healthCheck(), service.healthTimeoutMs, `health check of "${service.name}"`);
          entry = { ...base, status: result.status, checks: { ...result.checks }, ...(result.message === undefined ? {} : { message: result.message }) };
          if (!['healthy', 'degraded', 'unhealthy'].includes(entry.status)) {
            entry = { ...base, status: 'unhealthy', error: `health check returned an invalid status ${JSON.stringify(result.status)}` };
          }
        } catch (error) {
          entry = { ...base, status: 'unhealthy', error: describeError(error) };
        }
      }
    } else if (service.state === 'failed') {
      entry = { ...base, status: 'unhealthy', error: describeError(service.error) };
    } else if (service.state === 'starting' || service.state === 'stopping') {
      entry = { ...base, status: 'degraded', message: service.state };
    } else {
      // registered or stopped: fine for a service that is not meant to run on its own.
      entry = { ...base, status: service.autoStart ? 'unhealthy' : 'healthy', message: service.state };
    }
    const previous = service.health;
    service.health = entry;
    if (previous?.status !== entry.status) this.#events.emit('health', { name: service.name, health: entry });
    return entry;
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * On SIGTERM/SIGINT: `stopAll()` within `timeout`, then exit 0 (1 if the bound ran out or a
   * stop failed). A second signal exits at once with 128 + the signal's number.
   * @returns a function that removes the hooks
   */
  installShutdownHooks(options: ShutdownHookOptions = {}): () => void {
    const timeoutMs = parseDuration(options.timeout ?? '30s', 'shutdown timeout', configError);
    const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
    const exit = options.exit ?? ((code: number) => process.exit(code));
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        this.#log.warn({ signal }, 'second signal: exiting now');
        exit(128 + (osConstants.signals[signal] as number | undefined ?? 0));
        return;
      }
      stopping = true;
      this.#log.info({ signal, timeoutMs }, 'shutting down');
      withTimeout(() => this.stopAll(), timeoutMs, 'shutdown').then(
        (report) => {
          exit(report.failed.length === 0 ? 0 : 1);
        },
        (error: unknown) => {
          this.#log.error({ err: error }, 'shutdown did not finish in time');
          exit(1);
        },
      );
    };
    for (const signal of signals) process.on(signal, onSignal);
    return () => {
      for (const signal of signals) process.off(signal, onSignal);
    };
  }

  // ---------------------------------------------------------------- internals

  #service(name: string): ManagedService {
    const service = this.#services.get(name);
    if (service === undefined) throw new ServiceConfigError(`no service named "${name}" is registered`);
    return service;
  }

  #dependencyMap(): Map<string, readonly string[]> {
    return new Map([...this.#services.values()].map((s) => [s.name, s.dependsOn]));
  }

  #validateGraph(): void {
    validateDependencies(this.#dependencyMap());
  }

  #setState(service: ManagedService, to: ServiceState): void {
    const from = service.state;
    if (from === to) return;
    service.state = to;
    this.#events.emit('state', { name: service.name, from, to });
  }
}

function assertService(value: unknown, name: string): asserts value is Service {
  const candidate = value as Partial<Service> | null | undefined;
  if (typeof candidate?.start !== 'function' || typeof candidate.stop !== 'function') {
    throw new ServiceConfigError(`service "${name}": the instance must have start() and stop() methods`);
  }
  if (candidate.healthCheck !== undefined && typeof candidate.healthCheck !== 'function') {
    throw new ServiceConfigError(`service "${name}": healthCheck must be a method`);
  }
}

function resolveRestart(policy: unknown, name: string): RestartSettings {
  const fail = (message: string) => new ServiceConfigError(`service "${name}": restart.${message}`);
  if (typeof policy !== 'object' || policy === null) throw new ServiceConfigError(`service "${name}": restart must be an object`);
  const { maxRetries, backoff, maxBackoff, unhealthyThreshold } = policy as Record<string, unknown>;
  if (!(Number.isSafeInteger(maxRetries) && (maxRetries as number) >= 0)) throw fail('maxRetries must be a non-negative integer');
  const threshold = unhealthyThreshold ?? 3;
  if (!(Number.isSafeInteger(threshold) && (threshold as number) > 0)) throw fail('unhealthyThreshold must be a positive integer');
  const backoffMs = parseDuration(backoff ?? '1s', `service "${name}": restart.backoff`, configError);
  const maxBackoffMs = parseDuration(maxBackoff ?? '30s', `service "${name}": restart.maxBackoff`, configError);
  if (!Number.isFinite(backoffMs) || !Number.isFinite(maxBackoffMs)) throw fail('backoff and maxBackoff must be finite');
  return { maxRetries: maxRetries as number, backoffMs, maxBackoffMs, unhealthyThreshold: threshold as number };
}

