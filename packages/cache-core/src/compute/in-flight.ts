/** Work under way on a key (a computation, an L2 read) whose result may only be kept if still fresh. */
export class Ticket {
  /** Set when the key was deleted, invalidated, cleared or rewritten while the work ran. */
  stale = false;
  /**
   * When the only change was a rewrite announced with this version, a result that *is* that
   * version is still fresh.
   */
  freshVersion: string | undefined = undefined;
  /** Where {@link InFlight} holds it; -1 once ended. */
  index = -1;

  constructor(
    readonly key: string,
    /**
     * Tags the result will carry: an invalidation of any of them makes the work stale too.
     * `'dynamic'`: tags known only from the result, so any tag invalidation does.
     */
    readonly tags: readonly string[] | 'dynamic' | undefined,
  ) {}
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
  /** In no order: a ticket knows its index, and the last one takes the place of one that ends (no hashing on an L2 read). */
  readonly #tickets: Ticket[] = [];

  begin(key: string, tags?: readonly string[] | 'dynamic'): Ticket {
    const ticket = new Ticket(key, tags);
    ticket.index = this.#tickets.push(ticket) - 1;
    return ticket;
  }

  /** Forgets `ticket`; ending it again does nothing. */
  end(ticket: Ticket): void {
    const index = ticket.index;
    if (index === -1) return;
    ticket.index = -1;
    const last = this.#tickets.pop();
    if (last === undefined || last === ticket) return;
    this.#tickets[index] = last;
    last.index = index;
  }

  /** `key` was removed, or (with `version`) rewritten to that version. */
  staleKey(key: string, version?: string): void {
    // Every local write calls this: nothing under way is the common case.
    if (this.#tickets.length === 0) return;
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
