/**
 * `@pm/llm/testing`: local servers that speak the providers' wire formats, for tests through
 * the official clients (no network, no mocks of the clients).
 */
export { anthropicError, AnthropicWireServer } from './anthropic-server.js';
export { openAIError, OpenAIWireServer } from './openai-server.js';
export { WireServer, type RecordedRequest, type ScriptedResponse } from './wire-server.js';
