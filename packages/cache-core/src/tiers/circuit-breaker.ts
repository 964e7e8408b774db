/** After this many consecutive failures a tier is taken out and probed until it answers again. */
export const FAILURE_THRESHOLD = 3;
const PROBE_INTERVAL_MS = 1000;

export interface CircuitBreakerOptions {
  /** Asks the tier whether it answers again (its health check). */
  probe: () => Promise<boolean>;
  onOpen: () => void;
  onClose: () => void;
  threshold?: number;
  probeIntervalMs?: number;
}

/**
 * Closed while the tier answers; open after `threshold` consecutive failures, when calls are
 * skipped outright and the tier is probed every second until it answers again.
 */
export class CircuitBreaker {
  readonly #options: CircuitBreakerOptions;
  #failures = 0;
  #open = false;
  #probe: NodeJS.Timeout | undefined;
  /** Times the circuit opened. */
  trips = 0;

  constructor(options: CircuitBreakerOptions) {
    this.#options = options;
  }

  get open(): boolean {
    return this.#open;
  }

  succeeded(): void {
    this.#failures = 0;
  }

  failed(): void {
    this.#failures++;
    if (this.#failures >= (this.#options.threshold ?? FAILURE_THRESHOLD)) this.#trip();
  }

  /** Stops probing (the tier is closed). */
  stop(): void {
    clearInterval(this.#probe);
    this.#probe = undefined;
  }

  #trip(): void {
    if (this.#open) return;
    this.#open = true;
    this.trips++;
    this.#options.onOpen();
    this.#probe = setInterval(() => {
      void this.#options.probe().then((ok) => {
        if (!ok || !this.#open) return;
        this.#open = false;
        this.#failures = 0;
        this.stop();
        this.#options.onClose();
      });
    }, this.#options.probeIntervalMs ?? PROBE_INTERVAL_MS);
    this.#probe.unref();
  }
}
