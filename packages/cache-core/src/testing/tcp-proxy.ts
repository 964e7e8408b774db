import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server (Redis), for partition tests: `cut()` severs one process from
 * the server while others keep talking to it directly; `heal()` lets it through again.
 *
 * - `cut('reset')` closes every connection and refuses new ones at once (a crashed link).
 * - `cut('blackhole')` keeps connections open but forwards nothing (a silent partition: only
 *   timeouts notice it).
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #mode: 'open' | 'reset' | 'blackhole' = 'open';

  private constructor(
    server: Server,
    readonly port: number,
  ) {
    this.#server = server;
  }

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const pending: Socket[] = [];
    const holder: { proxy?: TcpProxy } = {};
    const server = createServer((client) => {
      if (holder.proxy === undefined) pending.push(client);
      else holder.proxy.#accept(client, targetPort, targetHost);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    const made = new TcpProxy(server, typeof address === 'object' && address !== null ? address.port : 0);
    holder.proxy = made;
    for (const client of pending) made.#accept(client, targetPort, targetHost);
    return made;
  }

  /** `redis://127.0.0.1:<proxy port>`, with optional credentials. */
  url(credentials = ''): string {
    return `redis://${credentials === '' ? '' : `${credentials}@`}127.0.0.1:${this.port}`;
  }

  cut(mode: 'reset' | 'blackhole' = 'reset'): void {
    this.#mode = mode;
    if (mode === 'reset') for (const socket of this.#sockets) socket.destroy();
  }

  heal(): void {
    this.#mode = 'open';
    // Connections held in a black hole are dropped: their streams lost bytes and cannot resume.
    for (const socket of this.#sockets) if (socket.isPaused()) socket.destroy();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.#server.close(() => {
        resolve();
      }),
    );
  }

  #accept(client: Socket, targetPort: number, targetHost: string): void {
    if (this.#mode === 'reset') {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('close', () => {
        this.#sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      socket.on('error', () => undefined);
    }
    const forward = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (this.#mode === 'open') to.write(chunk);
        else from.pause(); // black hole: bytes go nowhere, and nothing more is read
      });
    };
    forward(client, upstream);
    forward(upstream, client);
  }
}
