import { ProxyTracerProvider, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';

/** What a traced function may say about its outcome. */
export interface TracedSpan {
  set(attributes: Attributes): void;
  failed(error: unknown): void;
}

/**
 * The provider the API hands out while no SDK is installed (a fresh proxy has no delegate).
 * ProxyTracerProvider is deprecated for removal in API 2.0; `@opentelemetry/api` is pinned to 1.x.
 */
// eslint-disable-next-line @typescript-eslint/no-deprecated
const NO_SDK = new ProxyTracerProvider().getDelegate();

/** A span handle that records nothing, for when no SDK is installed. */
const UNTRACED: TracedSpan = { set: () => undefined, failed: () => undefined };

/**
 * Whether an OpenTelemetry SDK is installed (a tracer provider registered with the API). Without
 * one every span is a no-op, and skipping them saves a hot call ~2 µs of allocations.
 */
export function tracingInstalled(): boolean {
  const provider = trace.getTracerProvider();
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NO_SDK;
}

/**
 * Runs `fn` inside an OpenTelemetry span named `name` of the tracer `scope`, made active for
 * what `fn` calls; an exception is recorded (`error.type`, status ERROR) and rethrown. Through
 * `@opentelemetry/api`: a no-op (non-recording spans) until the application installs an SDK.
 */
export function traced<T>(
  scope: string,
  name: string,
  attributes: Attributes,
  fn: (span: TracedSpan) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  if (!tracingInstalled()) return fn(UNTRACED);
  return trace.getTracer(scope).startActiveSpan(name, { kind, attributes }, async (span) => {
    const handle: TracedSpan = {
      set: (more) => span.setAttributes(more),
      failed: (error) => {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        span.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
      },
    };
    try {
      return await fn(handle);
    } catch (error) {
      handle.failed(error);
      throw error;
    } finally {
      span.end();
    }
  });
}

export { SpanKind };
