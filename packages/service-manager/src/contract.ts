/**
 * The service contract without the DI runtime: what a package needs to *be* a service, to parse
 * durations and to log like the manager, with no tsyringe and no reflect-metadata polyfill.
 */
export { MAX_TIMER_MS, parseDuration, type Duration, type DurationBounds } from './duration.js';
export { silentLogger, type Logger } from './logger.js';
export { TimeLimit, withTimeout } from './timing.js';
export { SpanKind, traced, tracingInstalled, type TracedSpan } from './tracing.js';
export { ServiceTimeoutError } from './errors.js';
export type { HealthStatus, Service, ServiceHealth, ServiceState } from './types.js';
