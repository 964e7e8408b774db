import { countTokens } from '@pm/prompt-builder';
import { WireServer, type RecordedRequest, type ScriptedResponse } from './wire-server.js';

interface ChatBody {
  model?: string;
  messages?: { role: string; content: string }[];
  prompt_cache_key?: string;
}

/**
 * A local server for OpenAI's Chat Completions (`POST /v1/chat/completions`), as the official SDK
 * and the AI SDK's OpenAI provider talk to it. Like OpenAI's automatic prompt caching, a prompt
 * of 1024 tokens or more whose leading messages were seen before with the same
 * `prompt_cache_key` reports them as `cached_tokens`.
 */
export class OpenAIWireServer extends WireServer {
  readonly #seen = new Set<string>();

  constructor() {
    super((request) => this.#reply(request));
  }

  #reply(request: RecordedRequest): ScriptedResponse {
    if (request.method !== 'POST' || request.path !== '/v1/chat/completions')
      return openAIError(404, 'not_found', `no route ${request.path}`);
    const body = request.body as ChatBody | undefined;
    if (body?.model === undefined || body.messages === undefined || body.messages.length === 0)
      return openAIError(400, 'invalid_request_error', 'model and messages are required');
    const total = body.messages.reduce((sum, m) => sum + countTokens(m.content), 0);
    const head = `${body.prompt_cache_key ?? ''}\u0000${body.messages[0]?.content ?? ''}`;
    const headTokens = countTokens(body.messages[0]?.content ?? '');
    const cached = total >= 1024 && this.#seen.has(head) ? Math.floor(headTokens / 128) * 128 : 0;
    this.#seen.add(head);
    return {
      status: 200,
      body: {
        id: `chatcmpl-${this.requests.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'Done.', refusal: null }, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: total, completion_tokens: 2, total_tokens: total + 2, prompt_tokens_details: { cached_tokens: cached } },
      },
    };
  }
}

/** An error answer as OpenAI sends it (`{ error: { message, type, code } }`). */
export function openAIError(status: number, type: string, message: string, headers: Record<string, string> = {}): ScriptedResponse {
  return { status, headers, body: { error: { message, type, param: null, code: type } } };
}
