import type { Logger } from './logger.js';

type Listener<T> = (payload: T) => void;

/**
 * A minimal typed emitter. Unlike node's EventEmitter, a throwing listener is logged and
 * skipped: an observer must never break the lifecycle it observes.
 */
export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();

  constructor(private readonly logger: Logger) {}

  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as Listener<Events[E]>)(payload);
      } catch (error) {
        this.logger.error({ event: String(event), err: error }, 'an event listener threw');
      }
    }
  }
}
