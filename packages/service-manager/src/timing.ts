import { MAX_TIMER_MS } from './duration.js';
import { ServiceTimeoutError } from './errors.js';

/**
 * Settles like `work`, or rejects with {@link ServiceTimeoutError} after `ms` (never, for
 * Infinity). The timer never keeps the process alive.
 */
export function withTimeout<T>(work: () => T | Promise<T>, ms: number, what: string): Promise<T> {
  let running: Promise<T>;
  try {
    running = Promise.resolve(work());
  } catch (error) {
    // A synchronous throw rejects, as from an async function.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    running = Promise.reject(error);
  }
  if (!Number.isFinite(ms)) return running;
  // One promise and one timer, no race/finally chain: this wraps every L2 call.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => {
        reject(new ServiceTimeoutError(`${what} did not finish within ${ms} ms`));
        // Validated durations never exceed a timer's range; a raw number that does waits the longest a timer can.
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    timer.unref();
    running.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        // The work's own rejection, passed through unchanged.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(error);
      },
    );
  });
}

/** Resolves after `ms` without keeping the process alive. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Exponential backoff with full jitter: attempt n (from 1) waits a random time in
 * [base·2^(n-1)/2, base·2^(n-1)], capped at `maxMs`, so restarting replicas do not retry in step.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}
