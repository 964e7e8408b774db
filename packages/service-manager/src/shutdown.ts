import { constants as osConstants } from 'node:os';
import { parseDuration, type Duration } from './duration.js';
import { ServiceConfigError } from './errors.js';
import type { Logger } from './logger.js';
import { withTimeout } from './timing.js';
import type { StopReport } from './types.js';

export interface ShutdownHookOptions {
  /** Bound on `stopAll()` after the first signal. @default '30s' */
  timeout?: Duration;
  /** @default ['SIGTERM', 'SIGINT'] */
  signals?: readonly NodeJS.Signals[];
  /** How to exit; tests replace it. @default process.exit */
  exit?: (code: number) => void;
}

/**
 * On the first signal: `stopAll()` within `timeout`, then exit 0 (1 if the bound ran out or a
 * stop failed). A second signal exits at once with 128 + the signal's number.
 * @returns a function that removes the hooks
 */
export function installShutdownHooks(stopAll: () => Promise<StopReport>, log: Logger, options: ShutdownHookOptions = {}): () => void {
  const timeoutMs = parseDuration(options.timeout ?? '30s', 'shutdown timeout', (message) => new ServiceConfigError(message), {
    timer: true,
    finite: true,
  });
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      exit(128 + ((osConstants.signals[signal] as number | undefined) ?? 0));
      return;
    }
    stopping = true;
    log.info({ signal, timeoutMs }, 'shutting down');
    withTimeout(stopAll, timeoutMs, 'shutdown').then(
      (report) => {
        exit(report.failed.length === 0 ? 0 : 1);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown did not finish in time');
        exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
