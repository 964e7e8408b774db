import { countTokens } from '@pm/prompt-builder';
import { WireServer, type RecordedRequest, type ScriptedResponse } from './wire-server.js';

interface MessagesBody {
  model?: string;
  system?: string | { type: string; text: string; cache_control?: unknown }[];
  messages?: { role: string; content: string | { type: string; text?: string }[] }[];
}

const textOf = (content: string | { type: string; text?: string }[]): string =>
  typeof content === 'string' ? content : content.map((block) => block.text ?? '').join('');

/**
 * A local server for Anthropic's Messages API (`POST /v1/messages`), as the official SDK talks to
 * it. It answers like Claude would, and prices the prompt like Anthropic's cache does: the text
 * up to a `cache_control` block is written to its cache on first sight (`cache_creation_input_tokens`)
 * and read from it after (`cache_read_input_tokens`), when at least `minCacheableTokens` long.
 * Tokens are counted with o200k_base. Errors in Anthropic's shape: see {@link anthropicError}.
 */
export class AnthropicWireServer extends WireServer {
  readonly #cached = new Set<string>();

  constructor(readonly minCacheableTokens = 1024) {
    super((request) => this.#reply(request));
  }

  #reply(request: RecordedRequest): ScriptedResponse {
    if (request.method !== 'POST' || request.path !== '/v1/messages')
      return anthropicError(404, 'not_found_error', `no route ${request.method} ${request.path}`);
    const body = request.body as MessagesBody | undefined;
    if (body?.model === undefined || body.messages === undefined || body.messages.length === 0)
      return anthropicError(400, 'invalid_request_error', 'model and messages are required');
    const blocks = typeof body.system === 'string' ? [{ type: 'text', text: body.system }] : (body.system ?? []);
    // The cached prefix: everything up to the last block with cache_control.
    const last = blocks.map((b) => b.cache_control !== undefined).lastIndexOf(true);
    const prefix =
      last === -1
        ? ''
        : blocks
            .slice(0, last + 1)
            .map((b) => b.text)
            .join('');
    const rest =
      blocks
        .slice(last + 1)
        .map((b) => b.text)
        .join('') + body.messages.map((m) => textOf(m.content)).join('');
    const prefixTokens = countTokens(prefix);
    let creation = 0;
    let read = 0;
    let input = countTokens(rest);
    if (prefixTokens >= this.minCacheableTokens) {
      if (this.#cached.has(prefix)) read = prefixTokens;
      else {
        creation = prefixTokens;
        this.#cached.add(prefix);
      }
    } else input += prefixTokens;
    const task = textOf(body.messages.at(-1)?.content ?? '');
    return {
      status: 200,
      headers: { 'request-id': `req_${this.requests.length}` },
      body: {
        id: `msg_${this.requests.length}`,
        type: 'message',
        role: 'assistant',
        model: body.model,
        content: [{ type: 'text', text: `Done: ${task.slice(0, 60)}` }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: input, cache_creation_input_tokens: creation, cache_read_input_tokens: read, output_tokens: 12 },
      },
    };
  }
}

/** An error answer as Anthropic sends it (`{ type: 'error', error: { type, message } }`). */
export function anthropicError(status: number, type: string, message: string, headers: Record<string, string> = {}): ScriptedResponse {
  return { status, headers, body: { type: 'error', error: { type, message } } };
}
