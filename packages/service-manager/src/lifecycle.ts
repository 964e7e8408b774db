import type { DependencyContainer } from 'tsyringe';
import { dependentsOf, liveEdges, type DependencyEdge } from './dependency-graph.js';
import { describeError, ServiceError, ServiceTimeoutError } from './errors.js';
import type { TypedEmitter } from './events.js';
import type { Logger } from './logger.js';
import type { ManagedService } from './managed-service.js';
import { assertService } from './registration.js';
import { backoffDelay, withTimeout } from './timing.js';
import type { Service, ServiceEvents, ServiceState, StopReport } from './types.js';

/** What the lifecycle needs from the manager that owns it. */
export interface LifecycleContext {
  readonly services: ReadonlyMap<string, ManagedService>;
  readonly container: DependencyContainer;
  readonly events: TypedEmitter<ServiceEvents>;
  readonly log: Logger;
  graph(): Map<string, readonly DependencyEdge[]>;
  /** A service is running: its health checks begin. */
  onRunning(service: ManagedService): void;
  /** A service is about to stop: its health checks end. */
  onStopping(service: ManagedService): void;
}

/**
 * Starting, stopping and retrying services: dependency order, every step bounded in time, and
 * nothing the manager reports as failed left running behind its back.
 */
export class Lifecycle {
  shuttingDown = false;
  /** Set while `startAll()` runs: a critical failure then aborts startup instead of retrying. */
  startingAll = false;
  readonly #ctx: LifecycleContext;

  constructor(context: LifecycleContext) {
    this.#ctx = context;
  }

  service(name: string): ManagedService {
    const service = this.#ctx.services.get(name);
    if (service === undefined) throw new ServiceError(`no service named "${name}" is registered`);
    return service;
  }

  /** Starts `service` after its dependencies; resolves when it is running or failed. */
  ensureStarted(service: ManagedService): Promise<void> {
    if (service.state === 'running') return Promise.resolve();
    service.starting ??= (async () => {
      try {
        const edges = liveEdges(this.#ctx.graph(), service.name);
        await Promise.allSettled(edges.map((edge) => this.ensureStarted(this.service(edge.name))));
        const down = edges.filter((edge) => this.service(edge.name).state !== 'running');
        const hard = down.find((edge) => !edge.optional);
        if (hard !== undefined) {
          this.fail(service, new ServiceError(`cannot start "${service.name}": its dependency "${hard.name}" is not running`));
          return;
        }
        if (down.length > 0)
          this.#ctx.log.warn(
            { service: service.name, missing: down.map((edge) => edge.name) },
            'starting without optional dependencies that are not running',
          );
        await this.#startOne(service);
      } finally {
        service.starting = undefined;
      }
    })();
    return service.starting;
  }

  async #startOne(service: ManagedService): Promise<void> {
    clearTimeout(service.retryTimer);
    const { name, startTimeoutMs } = service.spec;
    if (service.lateStart !== undefined) {
      // Two starts of one instance must never overlap: wait for the next retry.
      this.fail(service, new ServiceError(`cannot start "${name}" yet: its previous start timed out and has not finished`));
      return;
    }
    this.#setState(service, 'starting');
    const begin = performance.now();
    const controller = new AbortController();
    let attempt: Promise<void> | undefined;
    try {
      const instance = (service.instance ??= this.#resolve(service));
      attempt = Promise.resolve().then(() => instance.start(controller.signal));
      const started = attempt;
      await withTimeout(() => started, startTimeoutMs, `start of "${name}"`);
    } catch (error) {
      if (error instanceof ServiceTimeoutError && attempt !== undefined) {
        controller.abort(error);
        this.#stopWhenFinished(service, attempt);
      }
      this.fail(service, error);
      return;
    }
    service.startupMs = performance.now() - begin;
    service.error = undefined;
    if (service.instance.healthCheck === undefined) service.retries = 0;
    this.#setState(service, 'running');
    this.#ctx.events.emit('started', { name, durationMs: service.startupMs });
    this.#ctx.log.info({ service: name, startupMs: Math.round(service.startupMs) }, 'service started');
    this.#ctx.onRunning(service);
  }

  #resolve(service: ManagedService): Service {
    const instance = this.#ctx.container.resolve<Service>(service.name);
    assertService(instance, service.name);
    return instance;
  }

  /** A start that timed out and then succeeds anyway is stopped at once: the manager reported it failed. */
  #stopWhenFinished(service: ManagedService, attempt: Promise<void>): void {
    const { instance } = service;
    if (instance === undefined) return;
    const cleanup: Promise<void> = attempt
      .then(
        async () => {
          this.#ctx.log.warn({ service: service.name }, 'a start finished after its timeout; stopping it');
          await withTimeout(() => instance.stop(), service.spec.stopTimeoutMs, `stop of "${service.name}"`).catch((error: unknown) => {
            this.#ctx.log.error({ service: service.name, err: error }, 'stopping a service whose start finished late failed');
          });
        },
        // It failed on its own: nothing is left running.
        () => undefined,
      )
      .finally(() => {
        if (service.lateStart === cleanup) service.lateStart = undefined;
      });
    service.lateStart = cleanup;
  }

  fail(service: ManagedService, error: unknown): void {
    service.error = error;
    service.startupMs = undefined;
    this.#setState(service, 'failed');
    this.#ctx.events.emit('failed', { name: service.name, critical: service.spec.critical, error });
    this.#ctx.log.error({ service: service.name, critical: service.spec.critical, err: error }, 'service failed');
    if (!(service.spec.critical && this.startingAll)) this.#scheduleRetry(service);
  }

  #scheduleRetry(service: ManagedService): void {
    const policy = service.spec.restart;
    if (policy === undefined || this.shuttingDown) return;
    if (service.retries >= policy.maxRetries) {
      this.#ctx.log.error({ service: service.name, retries: service.retries }, 'service left failed: no retries left');
      return;
    }
    service.retries++;
    const delayMs = backoffDelay(service.retries, policy.backoffMs, policy.maxBackoffMs);
    this.#ctx.log.warn({ service: service.name, attempt: service.retries, delayMs: Math.round(delayMs) }, 'retrying service');
    clearTimeout(service.retryTimer);
    service.retryTimer = setTimeout(() => {
      if (!this.shuttingDown) void this.restartOne(service);
    }, delayMs);
    service.retryTimer.unref();
  }

  async restartOne(service: ManagedService): Promise<void> {
    if (service.state === 'running') await this.stopOne(service, { stopped: [], failed: [] });
    await this.ensureStarted(service);
  }

  /** Stops the named services, each after every service in the set that depends on it. */
  async stopSet(names: ReadonlySet<string>): Promise<StopReport> {
    const report: StopReport = { stopped: [], failed: [] };
    const dependents = dependentsOf(this.#ctx.graph());
    const stops = new Map<string, Promise<void>>();
    const stopAfterDependents = (name: string): Promise<void> => {
      let promise = stops.get(name);
      if (promise === undefined) {
        promise = (async () => {
          await Promise.all((dependents.get(name) ?? []).filter((d) => names.has(d)).map(stopAfterDependents));
          const service = this.service(name);
          clearTimeout(service.retryTimer);
          if (service.state === 'running') await this.stopOne(service, report);
        })();
        stops.set(name, promise);
      }
      return promise;
    };
    await Promise.all([...names].map(stopAfterDependents));
    return report;
  }

  async stopOne(service: ManagedService, report: StopReport): Promise<void> {
    this.#ctx.onStopping(service);
    this.#setState(service, 'stopping');
    try {
      const instance = service.instance;
      if (instance !== undefined) await withTimeout(() => instance.stop(), service.spec.stopTimeoutMs, `stop of "${service.name}"`);
    } catch (error) {
      service.error = error;
      report.failed.push({ name: service.name, error: describeError(error) });
      this.#ctx.log.error({ service: service.name, err: error }, 'service did not stop cleanly');
      this.#setState(service, 'failed');
      return;
    }
    service.startupMs = undefined;
    report.stopped.push(service.name);
    this.#setState(service, 'stopped');
    this.#ctx.events.emit('stopped', { name: service.name });
  }

  #setState(service: ManagedService, to: ServiceState): void {
    const from = service.state;
    if (from === to) return;
    service.state = to;
    this.#ctx.events.emit('state', { name: service.name, from, to });
  }
}
