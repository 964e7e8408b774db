import { instanceCachingFactory, Lifecycle, type DependencyContainer } from 'tsyringe';
import type { DependencyEdge } from './dependency-graph.js';
import { parseDuration, type DurationBounds } from './duration.js';
import { ServiceConfigError } from './errors.js';
import type { RestartSettings, ServiceSpec } from './managed-service.js';
import type { Service, ServiceRegistration } from './types.js';

const REGISTRATION_KEYS = new Set([
  'name',
  'useClass',
  'useFactory',
  'useValue',
  'token',
  'critical',
  'dependsOn',
  'autoStart',
  'startTimeout',
  'stopTimeout',
  'healthCheckInterval',
  'healthCheckTimeout',
  'restart',
]);
const configError = (message: string) => new ServiceConfigError(message);
const TIMER: DurationBounds = { timer: true, finite: true };

/**
 * Validates a registration (every option, before anything runs) and binds its provider in
 * `container` under the service's name (and `token`).
 * @throws ServiceConfigError naming the service and the option
 */
export function resolveRegistration(
  registration: ServiceRegistration,
  container: DependencyContainer,
  taken: (name: string) => boolean,
): ServiceSpec {
  const input = registration as unknown as Partial<Record<string, unknown>> | null;
  if (typeof input !== 'object' || input === null) throw configError('a registration must be an object');
  const name = input.name;
  if (typeof name !== 'string' || name.trim() === '') throw configError('a service needs a non-empty string name');
  const fail = (message: string) => new ServiceConfigError(`service "${name}": ${message}`);
  if (taken(name)) throw fail('is already registered');
  for (const key of Object.keys(input)) if (!REGISTRATION_KEYS.has(key)) throw fail(`unknown option "${key}"`);
  const providers = (['useClass', 'useFactory', 'useValue'] as const).filter((key) => input[key] !== undefined);
  if (providers.length !== 1) throw fail('needs exactly one of useClass, useFactory or useValue');
  if (registration.useClass !== undefined && typeof registration.useClass !== 'function') throw fail('useClass must be a class');
  if (registration.useFactory !== undefined && typeof registration.useFactory !== 'function') throw fail('useFactory must be a function');
  if (registration.useValue !== undefined) assertService(registration.useValue, name);
  const dependsOn = resolveDependencies(input.dependsOn, name, fail);
  for (const flag of ['critical', 'autoStart'] as const) {
    if (input[flag] !== undefined && typeof input[flag] !== 'boolean') throw fail(`${flag} must be a boolean`);
  }
  const duration = (key: string, value: unknown, fallback: string, bounds: DurationBounds) =>
    parseDuration(value ?? fallback, `service "${name}": ${key}`, configError, bounds);
  const healthIntervalMs = duration('healthCheckInterval', registration.healthCheckInterval, '30s', TIMER);
  const spec: ServiceSpec = {
    name,
    critical: registration.critical ?? true,
    dependsOn,
    autoStart: registration.autoStart ?? true,
    // Infinity: wait as long as the start takes.
    startTimeoutMs: duration('startTimeout', registration.startTimeout, '30s', { timer: true }),
    stopTimeoutMs: duration('stopTimeout', registration.stopTimeout, '10s', TIMER),
    healthIntervalMs,
    healthTimeoutMs:
      registration.healthCheckTimeout === undefined
        ? Math.min(5000, healthIntervalMs)
        : duration('healthCheckTimeout', registration.healthCheckTimeout, '5s', TIMER),
    restart: registration.restart === undefined ? undefined : resolveRestart(registration.restart, name),
  };
  if (registration.useClass !== undefined) {
    container.register(name, { useClass: registration.useClass }, { lifecycle: Lifecycle.Singleton });
  } else if (registration.useFactory !== undefined) {
    container.register(name, { useFactory: instanceCachingFactory(registration.useFactory) });
  } else {
    container.register(name, { useValue: registration.useValue });
  }
  if (registration.token !== undefined) container.register(registration.token, { useToken: name });
  return spec;
}

function resolveDependencies(value: unknown, name: string, fail: (message: string) => Error): DependencyEdge[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw fail('dependsOn must be an array of service names or { name, optional } objects');
  return value.map((item: unknown, i) => {
    const edge = typeof item === 'string' ? { name: item, optional: false } : item;
    const candidate = edge as Partial<Record<string, unknown>> | null;
    if (typeof candidate !== 'object' || candidate === null || typeof candidate.name !== 'string' || candidate.name === '') {
      throw fail(`dependsOn[${i}] must be a service name or { name, optional }`);
    }
    if (candidate.optional !== undefined && typeof candidate.optional !== 'boolean')
      throw fail(`dependsOn[${i}].optional must be a boolean`);
    if (candidate.name === name) throw fail('cannot depend on itself');
    return { name: candidate.name, optional: candidate.optional === true };
  });
}

/** Throws unless `value` has `start()` and `stop()` (and, if present, a `healthCheck()` method). */
export function assertService(value: unknown, name: string): asserts value is Service {
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
  const backoffMs = parseDuration(backoff ?? '1s', `service "${name}": restart.backoff`, configError, TIMER);
  const maxBackoffMs = parseDuration(maxBackoff ?? '30s', `service "${name}": restart.maxBackoff`, configError, TIMER);
  return { maxRetries: maxRetries as number, backoffMs, maxBackoffMs, unhealthyThreshold: threshold as number };
}
