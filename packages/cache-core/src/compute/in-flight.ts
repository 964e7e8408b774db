/** Work under way on a key (a computation, an L2 read) whose result may only be kept if still fresh. */
export interface Ticket {
  readonly key: string;
  /**
   * Tags the result will carry: an invalidation of any of them makes the work stale too.
   * `'dynamic'`: tags known only from the result, so any tag invalidation does.
   */
  readonly tags: readonly string[] | 'dynamic' | undefined;
  /** Set when the key was deleted, invalidated, cleared or rewritten while the work ran. */
  stale: boolean;
  /**
   * When the only change was a rewrite announced with this version, a result that *is* that
   * version is still fresh.
   */
  freshVersion: string | undefined;
}

/** Whether work that produced `version` may keep its result. */
export function stillFresh(ticket: Ticket, version: string | undefined): boolean {
  return !ticket.stale || (ticket.freshVersion !== undefined && ticket.freshVersion === version);
}

/**
 * Tracks work under way so that a removal (local or from another process) can mark it stale:
 * a computation or L2 read that overlapped a removal must not write its result into L1.
 */
export class InFlight {
  readonly #tickets = new Set<Ticket>();

  begin(key: string, tags?: readonly string[] | 'dynamic'): Ticket {
    const ticket: Ticket = { key, tags, stale: false, freshVersion: undefined };
    this.#tickets.add(ticket);
    return ticket;
  }

  end(ticket: Ticket): void {
    this.#tickets.delete(ticket);
  }

  /** `key` was removed, or (with `version`) rewritten to that version. */
  staleKey(key: string, version?: string): void {
    for (const ticket of this.#tickets) {
      if (ticket.key !== key) continue;
      // A rewrite after a removal leaves the ticket stale for anything but the newest version.
      ticket.freshVersion = version !== undefined && (!ticket.stale || ticket.freshVersion !== undefined) ? version : undefined;
      ticket.stale = true;
    }
  }

  staleMatching(matches: (key: string) => boolean): void {
    for (const ticket of this.#tickets) {
      if (!matches(ticket.key)) continue;
      ticket.stale = true;
      ticket.freshVersion = undefined;
    }
  }

  staleTagged(tags: readonly string[]): void {
    for (const ticket of this.#tickets) {
      if (ticket.tags !== 'dynamic' && ticket.tags?.some((tag) => tags.includes(tag)) !== true) continue;
      ticket.stale = true;
      ticket.freshVersion = undefined;
    }
  }

  staleAll(): void {
    for (const ticket of this.#tickets) {
      ticket.stale = true;
      ticket.freshVersion = undefined;
    }
  }
}
