import type { Writable } from 'node:stream';

/**
 * Socket writes batched by tick while replies are awaited.
 *
 * ioredis writes each command to its socket the moment it is sent: one system call per command.
 * Under load (many callers, their replies arriving in one chunk, each caller then sending its next
 * command) those calls cost a client more CPU than anything else it does per command: a quarter of
 * a busy benchmark worker's time. So while another command still awaits its reply, a command corks
 * the connection's sockets, and they are uncorked once the tick's promise jobs have run
 * (`process.nextTick`): every command sent in between leaves in one write.
 *
 * A caller alone (no reply awaited) is written at once, as before: batching would only delay it.
 */
export class WriteBatching {
  readonly #sockets: () => readonly (Writable | undefined)[];
  /** Commands sent and not yet answered. */
  #awaiting = 0;
  /** The sockets corked for this tick, if any. */
  #corked: Writable[] | undefined;
  readonly #uncork = (): void => {
    const corked = this.#corked;
    this.#corked = undefined;
    if (corked !== undefined) for (const socket of corked) socket.uncork();
  };

  /** `sockets`: where the connection's commands are written (one per node of a Cluster). */
  constructor(sockets: () => readonly (Writable | undefined)[]) {
    this.#sockets = sockets;
  }

  /** A command is about to be written: batched with this tick's others if a reply is awaited. */
  sending(): void {
    if (this.#awaiting++ > 0 && this.#corked === undefined) this.#cork();
  }

  /** A command sent through `sending` was answered, or failed. */
  settled(): void {
    this.#awaiting--;
  }

  #cork(): void {
    const corked: Writable[] = [];
    for (const socket of this.#sockets()) {
      if (socket?.writable !== true) continue;
      socket.cork();
      corked.push(socket);
    }
    if (corked.length === 0) return;
    this.#corked = corked;
    process.nextTick(this.#uncork);
  }
}
