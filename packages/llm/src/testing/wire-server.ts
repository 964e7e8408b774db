import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server received: method, path, headers (credentials redacted) and body. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The body exactly as sent. */
  raw: string;
  /** The body parsed as JSON. */
  body: unknown;
}

/** A scripted answer: status, headers and a JSON body. */
export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** Headers that carry credentials: recorded as `***`, so a test can check they were sent without keeping them. */
const SECRET_HEADERS = new Set(['x-api-key', 'authorization']);

/**
 * A local HTTP server speaking one provider's wire format, for tests through the provider's
 * official client: it records every request and answers with `answer(request)`, unless answers
 * were scripted with `failNext` (rate limits, overload, invalid requests).
 */
export class WireServer {
  readonly requests: RecordedRequest[] = [];
  readonly #scripted: ScriptedResponse[] = [];
  readonly #server: Server;
  #url = '';

  constructor(readonly answer: (request: RecordedRequest) => ScriptedResponse) {
    this.#server = createServer((req, res) => {
      void this.#handle(req, res);
    });
  }

  /** e.g. `http://127.0.0.1:41234` */
  get url(): string {
    return this.#url;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
  }

  /** The next requests get these answers, in order, instead of the normal one. */
  failNext(...responses: ScriptedResponse[]): void {
    this.#scripted.push(...responses);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers[name] = SECRET_HEADERS.has(name) ? '***' : value;
    }
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const request: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers, raw, body };
    this.requests.push(request);
    const response = this.#scripted.shift() ?? this.answer(request);
    res.writeHead(response.status, { 'content-type': 'application/json', ...response.headers }).end(JSON.stringify(response.body));
  }
}
