import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { Duration } from './duration.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** What a service's health check reports (a cache's `HealthReport` fits). */
export interface ServiceHealth {
  status: HealthStatus;
  checks?: Record<string, boolean>;
  message?: string;
}

/** A lifecycle-managed service. */
export interface Service {
  /**
   * Starts the service. `signal` aborts when the start passes its `startTimeout`: stop the work
   * under way. A start that resolves after its timeout anyway is stopped at once by the manager.
   */
  start(signal?: AbortSignal): void | Promise<void>;
  stop(): void | Promise<void>;
  /** Optional; a service without one is healthy while running. */
  healthCheck?(): ServiceHealth | Promise<ServiceHealth>;
}

/** A dependency: a service name, or `{ name, optional: true }` for one that may be missing or failed. */
export type ServiceDependency = string | { name: string; optional?: boolean };

export type ServiceState = 'registered' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface RestartPolicy {
  /** Restarts attempted after a failure before the service is left failed. */
  maxRetries: number;
  /** Delay before the first retry; doubles each retry (with jitter). @default '1s' */
  backoff?: Duration;
  /** Cap on the delay. @default '30s' */
  maxBackoff?: Duration;
  /** Consecutive failed health checks that restart a running service. @default 3 */
  unhealthyThreshold?: number;
}

interface RegistrationBase {
  /** Unique name; also a DI token (string) under which the instance resolves. */
  name: string;
  /** Another DI token for the instance, for `@inject(token)` in dependents. */
  token?: InjectionToken;
  /** A critical service that fails to start fails `startAll()`. @default true */
  critical?: boolean;
  /**
   * Services this one uses: each starts first and stops after it. A name is a hard dependency
   * (if it is not running, this one is not started); `{ name, optional: true }` only orders
   * start and stop, so this one starts even if that one failed or is not registered.
   * @default []
   */
  dependsOn?: readonly ServiceDependency[];
  /** Started by `startAll()`; otherwise only by `start(name)` or as a dependency. @default true */
  autoStart?: boolean;
  /** @default '30s' */
  startTimeout?: Duration;
  /** @default '10s' */
  stopTimeout?: Duration;
  /** @default '30s' */
  healthCheckInterval?: Duration;
  /** Bound on one health check. @default '5s' (or the interval, if shorter) */
  healthCheckTimeout?: Duration;
  /** Retry a failed start and restart a service that keeps failing its health check. */
  restart?: RestartPolicy;
}

/** A class whose constructor parameters the container injects (each with `@inject(token)`). */
export type ServiceClass = Extract<InjectionToken<Service>, new (...args: never) => unknown>;

/** How a service is provided, as in tsyringe: a class (constructed by injection), a factory or a value. */
export type ServiceRegistration =
  | (RegistrationBase & { useClass: ServiceClass; useFactory?: never; useValue?: never })
  | (RegistrationBase & { useFactory: (container: DependencyContainer) => Service; useClass?: never; useValue?: never })
  | (RegistrationBase & { useValue: Service; useClass?: never; useFactory?: never });

/** What `startAll()` resolves with. */
export interface StartReport {
  /** `running` when everything started; `degraded` when a non-critical service failed. */
  status: 'running' | 'degraded';
  started: string[];
  failed: { name: string; critical: boolean; error: string }[];
  /** Milliseconds each started service took to start (as Guava's `startupTimes()`). */
  startupTimes: Record<string, number>;
  totalMs: number;
}

export interface StopReport {
  stopped: string[];
  /** Stops that threw or hung past their bound. */
  failed: { name: string; error: string }[];
}

export interface ServiceHealthEntry {
  status: HealthStatus;
  state: ServiceState;
  critical: boolean;
  checks: Record<string, boolean>;
  message?: string;
  error?: string;
}

export interface SystemHealth {
  status: HealthStatus;
  /** Every critical service is running and the status is not `unhealthy`: what `/readyz` answers 200 to. */
  ready: boolean;
  /** Not shutting down. */
  live: boolean;
  services: Record<string, ServiceHealthEntry>;
  /** ISO-8601. */
  timestamp: string;
}

/** Events and their payloads. */
export interface ServiceEvents {
  state: { name: string; from: ServiceState; to: ServiceState };
  health: { name: string; health: ServiceHealthEntry };
  started: { name: string; durationMs: number };
  stopped: { name: string };
  failed: { name: string; critical: boolean; error: unknown };
}
