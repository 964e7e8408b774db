/** A pino-compatible logger: each level takes an object of fields and a message. */
export interface Logger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

const noop = (): void => undefined;

/** The default logger: says nothing. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
