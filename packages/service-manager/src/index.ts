import 'reflect-metadata';

export { ServiceManager, type ServiceManagerOptions } from './service-manager.js';
export type { ShutdownHookOptions } from './shutdown.js';
export { SERVICE_STATES, type ServiceSnapshot, type ServiceSnapshotSource } from './metrics.js';
export { createHealthHandler, serveHealth, type HealthServer, type HealthServerOptions } from './http.js';
export {
  Dashboard,
  type CachePanelData,
  type DashboardPanel,
  type DashboardSample,
  type DashboardSnapshot,
} from './dashboard/dashboard.js';
export { MAX_TIMER_MS, parseDuration, type Duration, type DurationBounds } from './duration.js';
export {
  describeError,
  ServiceConfigError,
  ServiceDependencyError,
  ServiceError,
  ServiceStartError,
  ServiceTimeoutError,
  type ServiceErrorCode,
  type StartFailure,
} from './errors.js';
export { silentLogger, type Logger } from './logger.js';
export type {
  HealthStatus,
  RestartPolicy,
  Service,
  ServiceDependency,
  ServiceEvents,
  ServiceHealth,
  ServiceHealthEntry,
  ServiceRegistration,
  ServiceState,
  StartReport,
  StopReport,
  SystemHealth,
} from './types.js';
// Re-exported so services can be written against the same tsyringe (and polyfill) as the manager.
export { inject, injectable, type DependencyContainer, type InjectionToken } from 'tsyringe';
