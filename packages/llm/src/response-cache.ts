import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3GenerateResult,
  LanguageModelV3Middleware,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
} from '@ai-sdk/provider';
import { escapePattern, makeCacheKey, type Duration, type SharedPromptCache } from '@pm/cache-core';
import { LlmError } from './errors.js';

export interface ResponseCacheOptions {
  /** The shared cache: with a Redis L2 and bus, every process and host shares the responses. */
  cache: SharedPromptCache;
  /** How long a response is kept. @default '1h' */
  ttl?: Duration;
  /** Tags of every cached response, or a function of the call (for `invalidateTags`). */
  tags?: readonly string[] | ((params: LanguageModelV3CallOptions, model: LanguageModelV3) => readonly string[]);
  /**
   * Cache calls that may answer differently each time: a temperature above 0 (or left to the
   * provider's default, which is above 0) without a seed. Off: such calls go to the model.
   * @default false
   */
  cacheNonDeterministic?: boolean;
  /** Hears whether each call was served from the cache, went to the model, or bypassed the cache. */
  onResult?: (event: { model: string; outcome: 'hit' | 'model' | 'bypass' }) => void;
}

/** Key namespace of the cached responses: `llm_response:<provider>:<model>:<hash>`. */
export const RESPONSE_NAMESPACE = 'llm_response';

/** A generate result as stored: what replays it, without request and response bodies or headers. */
interface StoredGenerate {
  kind: 'generate';
  content: LanguageModelV3GenerateResult['content'];
  finishReason: LanguageModelV3GenerateResult['finishReason'];
  usage: LanguageModelV3GenerateResult['usage'];
  providerMetadata: LanguageModelV3GenerateResult['providerMetadata'];
  response: { id?: string; modelId?: string; timestamp?: Date };
  warnings: LanguageModelV3GenerateResult['warnings'];
}

interface StoredStream {
  kind: 'stream';
  parts: LanguageModelV3StreamPart[];
}

/** A result that must reach its callers but not the cache (an error finish, a filtered answer). */
class NotCacheable<T> extends Error {
  constructor(readonly result: T) {
    super('not cacheable');
  }
}

/** Finishes worth replaying: a filtered, failed or otherwise cut answer is asked again next time. */
const CACHEABLE_FINISH = new Set(['stop', 'length', 'tool-calls']);

/**
 * An AI SDK language-model middleware (`wrapLanguageModel({ model, middleware: responseCache(...) })`)
 * that keeps generations in the shared cache: `generate` results and `stream` parts (replayed as
 * a stream), keyed by the provider, the model and every setting that shapes the answer. Identical
 * concurrent calls, in this process or (with a Redis L2) in any other, make one model call: the
 * others wait for its result. Errors, failed or filtered finishes and streams that end in an
 * error part are never cached; non-deterministic calls are passed through unless
 * `cacheNonDeterministic`. Drop responses with `cache.invalidate('llm_response:*')` (or a
 * provider's, a model's: see {@link responseCachePattern}) or by tag.
 *
 * A stream that misses is read to its end before it is replayed, so every waiter gets the same
 * parts; its first token comes when the model's last does.
 */
export function responseCache(options: ResponseCacheOptions): LanguageModelV3Middleware {
  const { cache } = options;
  if (typeof cache !== 'object' || typeof (cache as { getOrCompute?: unknown }).getOrCompute !== 'function')
    throw new LlmError('E_LLM_CONFIG', 'responseCache needs { cache: SharedPromptCache }');
  const ttl = options.ttl ?? '1h';
  const tagsOf = (params: LanguageModelV3CallOptions, model: LanguageModelV3) =>
    typeof options.tags === 'function' ? [...options.tags(params, model)] : options.tags === undefined ? undefined : [...options.tags];
  const report = (model: LanguageModelV3, outcome: 'hit' | 'model' | 'bypass') => options.onResult?.({ model: model.modelId, outcome });
  const usable = (params: LanguageModelV3CallOptions) => options.cacheNonDeterministic === true || deterministic(params);

  async function cached<T>(key: string, model: LanguageModelV3, params: LanguageModelV3CallOptions, compute: () => Promise<T>): Promise<T> {
    // An object, not a variable: the compute closure sets it, which a `let` would hide from the type checker.
    const call = { computed: false };
    try {
      const tags = tagsOf(params, model);
      const value = await cache.getOrCompute(
        key,
        async () => {
          call.computed = true;
          return compute();
        },
        { ttl, ...(tags === undefined ? {} : { tags }) },
      );
      report(model, call.computed ? 'model' : 'hit');
      return value;
    } catch (error) {
      if (!(error instanceof NotCacheable)) throw error;
      report(model, 'model');
      return error.result as T;
    }
  }

  return {
    specificationVersion: 'v3',
    async wrapGenerate({ doGenerate, params, model }) {
      if (!usable(params)) {
        report(model, 'bypass');
        return doGenerate();
      }
      const stored = await cached(keyOf(model, params), model, params, async (): Promise<StoredGenerate> => {
        const result = await doGenerate();
        const kept = storedGenerate(result);
        if (!CACHEABLE_FINISH.has(result.finishReason.unified)) throw new NotCacheable(kept);
        return kept;
      });
      return replayGenerate(stored);
    },
    async wrapStream({ doStream, params, model }) {
      if (!usable(params)) {
        report(model, 'bypass');
        return doStream();
      }
      const stored = await cached(keyOf(model, params), model, params, async (): Promise<StoredStream> => {
        const { stream } = await doStream();
        const parts = await readAll(stream);
        const kept: StoredStream = { kind: 'stream', parts };
        const finish = parts.find((part) => part.type === 'finish');
        const failed =
          parts.some((part) => part.type === 'error') || finish === undefined || !CACHEABLE_FINISH.has(finish.finishReason.unified);
        if (failed) throw new NotCacheable(kept);
        return kept;
      });
      return replayStream(stored);
    },
  };
}

/** The cache pattern of every response of a provider (and a model), for `cache.invalidate()`. */
export function responseCachePattern(provider?: string, modelId?: string): string {
  if (provider === undefined) return `${RESPONSE_NAMESPACE}:*`;
  return `${RESPONSE_NAMESPACE}:${escapePattern(provider)}:${modelId === undefined ? '' : `${escapePattern(modelId)}:`}*`;
}

/** A call that may answer differently each time: a temperature above 0 (or the provider's default) and no seed. */
function deterministic(params: LanguageModelV3CallOptions): boolean {
  return params.seed !== undefined || params.temperature === 0;
}

/** Everything that shapes the answer; not the abort signal, headers (credentials) or raw-chunk flag. */
const SHAPING_SETTINGS = [
  'prompt',
  'maxOutputTokens',
  'temperature',
  'stopSequences',
  'topP',
  'topK',
  'presencePenalty',
  'frequencyPenalty',
  'responseFormat',
  'seed',
  'tools',
  'toolChoice',
  'providerOptions',
] as const satisfies readonly (keyof LanguageModelV3CallOptions)[];

function keyOf(model: LanguageModelV3, params: LanguageModelV3CallOptions): string {
  const settings = Object.fromEntries(SHAPING_SETTINGS.map((name) => [name, params[name]]));
  const hash = makeCacheKey(model.provider, model.modelId, settings);
  return `${RESPONSE_NAMESPACE}:${model.provider}:${model.modelId}:${hash}`;
}

function storedGenerate(result: LanguageModelV3GenerateResult): StoredGenerate {
  const { id, modelId, timestamp } = result.response ?? {};
  return {
    kind: 'generate',
    content: result.content,
    finishReason: result.finishReason,
    usage: result.usage,
    providerMetadata: result.providerMetadata,
    response: {
      ...(id === undefined ? {} : { id }),
      ...(modelId === undefined ? {} : { modelId }),
      ...(timestamp === undefined ? {} : { timestamp }),
    },
    warnings: result.warnings,
  };
}

function replayGenerate(stored: StoredGenerate): LanguageModelV3GenerateResult {
  const { kind: _kind, ...result } = stored;
  return { ...result, providerMetadata: stored.providerMetadata };
}

function replayStream(stored: StoredStream): LanguageModelV3StreamResult {
  const parts = stored.parts;
  return {
    stream: new ReadableStream<LanguageModelV3StreamPart>({
      start(controller) {
        for (const part of parts) controller.enqueue(part);
        controller.close();
      },
    }),
  };
}

async function readAll(stream: ReadableStream<LanguageModelV3StreamPart>): Promise<LanguageModelV3StreamPart[]> {
  const parts: LanguageModelV3StreamPart[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return parts;
    parts.push(value);
  }
}
