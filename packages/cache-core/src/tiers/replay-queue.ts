import type { InvalidationMessage } from '../bus/invalidation-bus.js';
import { compilePattern } from '../invalidation/pattern.js';

/** A removal the tiers must carry out: in L2, then announced. */
export type Removal = Extract<InvalidationMessage, { type: 'delete' | 'invalidate' | 'tags' | 'clear' }>;

/** A removal that could not be done while L2 or the bus was unreachable. */
export interface PendingRemoval {
  readonly removal: Removal;
  /** Still to be done in L2 (false once done, leaving only the announcement). */
  inL2: boolean;
  /** Failed replays while the tiers looked available; past a bound it is dropped, loudly. */
  attempts: number;
}

/**
 * Removals made during an outage, replayed in order once L2 and the bus answer again, so an
 * invalidation is never silently undone. Bounded: past `limit` the whole queue collapses into one
 * `clear`, which removes at least everything the dropped removals would have (a colder cache,
 * never a stale one); the collapse is counted in `dropped`.
 */
export class ReplayQueue {
  readonly #limit: number;
  readonly #items: PendingRemoval[] = [];
  queued = 0;
  replayed = 0;
  dropped = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get length(): number {
    return this.#items.length;
  }

  push(removal: Removal, inL2: boolean): void {
    this.queued++;
    if (this.#items.length >= this.#limit) {
      this.dropped += this.#items.length;
      const anyInL2 = inL2 || this.#items.some((item) => item.inL2);
      this.#items.length = 0;
      this.#items.push({ removal: { type: 'clear' }, inL2: anyInL2, attempts: 0 });
      return;
    }
    this.#items.push({ removal, inL2, attempts: 0 });
  }

  /**
   * Whether a removal still waiting to reach L2 covers this key (or an entry with these tags):
   * until it is replayed, what L2 returns for the key is what was removed, not a value to serve.
   */
  covers(key: string, tags: readonly string[] | undefined): boolean {
    return this.#items.some(({ removal, inL2 }) => inL2 && removalCovers(removal, key, tags));
  }

  head(): PendingRemoval | undefined {
    return this.#items[0];
  }

  /** The head was carried out. */
  done(): void {
    this.#items.shift();
    this.replayed++;
  }

  /** The head cannot be carried out at all (the store keeps refusing it): dropped and counted. */
  drop(): void {
    this.#items.shift();
    this.dropped++;
  }
}

function removalCovers(removal: Removal, key: string, tags: readonly string[] | undefined): boolean {
  switch (removal.type) {
    case 'delete':
      return removal.keys.includes(key);
    case 'invalidate':
      return compilePattern(removal.pattern).matches(key);
    case 'tags':
      return tags?.some((tag) => removal.tags.includes(tag)) === true;
    case 'clear':
      return true;
  }
}
