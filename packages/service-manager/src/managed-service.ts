import type { DependencyEdge } from './dependency-graph.js';
import type { Service, ServiceHealthEntry, ServiceState } from './types.js';

/** How a failed service is retried, in milliseconds. */
export interface RestartSettings {
  readonly maxRetries: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly unhealthyThreshold: number;
}

/** A registration, validated and in the units the manager works in. */
export interface ServiceSpec {
  readonly name: string;
  readonly critical: boolean;
  readonly dependsOn: readonly DependencyEdge[];
  readonly autoStart: boolean;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly healthIntervalMs: number;
  readonly healthTimeoutMs: number;
  readonly restart: RestartSettings | undefined;
}

/** A registered service: its settings and its runtime state. */
export class ManagedService {
  state: ServiceState = 'registered';
  instance: Service | undefined;
  /** The start under way, shared by every dependent waiting on it. */
  starting: Promise<void> | undefined;
  /**
   * A start that passed its timeout and may still finish: it is stopped when it does, and the
   * next start of this service waits for that first.
   */
  lateStart: Promise<void> | undefined;
  startupMs: number | undefined;
  error: unknown;
  health: ServiceHealthEntry | undefined;
  healthTimer: NodeJS.Timeout | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  retries = 0;
  unhealthyStreak = 0;

  constructor(readonly spec: ServiceSpec) {}

  get name(): string {
    return this.spec.name;
  }
}
