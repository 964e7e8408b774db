/** Stable error codes; match on `error.code`, not on messages. */
export type ServiceErrorCode = 'E_SERVICE' | 'E_SERVICE_CONFIG' | 'E_SERVICE_DEPENDENCY' | 'E_SERVICE_START' | 'E_SERVICE_TIMEOUT';

const PREFIX = '[service-manager] ';

/** Base class of every error thrown by `@pm/service-manager`. */
export class ServiceError extends Error {
  readonly code: ServiceErrorCode;

  constructor(message: string, options?: { cause?: unknown; code?: ServiceErrorCode }) {
    super(PREFIX + message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options?.code ?? 'E_SERVICE';
  }
}

/** An invalid registration or option; raised by `register()` before anything runs. */
export class ServiceConfigError extends ServiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'E_SERVICE_CONFIG' });
  }
}

/** An unknown dependency or a dependency cycle; raised before anything starts. */
export class ServiceDependencyError extends ServiceError {
  constructor(message: string) {
    super(message, { code: 'E_SERVICE_DEPENDENCY' });
  }
}

/** A start, stop or health check that did not finish within its bound. */
export class ServiceTimeoutError extends ServiceError {
  constructor(message: string) {
    super(message, { code: 'E_SERVICE_TIMEOUT' });
  }
}

/** One service that failed to start. */
export interface StartFailure {
  name: string;
  critical: boolean;
  error: unknown;
}

/** `startAll()` rejects with this when a critical service failed; it lists every failure. */
export class ServiceStartError extends ServiceError {
  readonly failures: readonly StartFailure[];

  constructor(failures: readonly StartFailure[]) {
    const lines = failures.map((f) => `  - ${f.name} (${f.critical ? 'critical' : 'non-critical'}): ${describeError(f.error)}`);
    super(`startup failed; what had started was stopped again:\n${lines.join('\n')}`, { code: 'E_SERVICE_START' });
    this.failures = failures;
  }
}

/** The message of an error, or the value itself as text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
