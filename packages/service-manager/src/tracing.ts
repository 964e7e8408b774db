import { SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';

/** What a traced function may say about its outcome. */
export interface TracedSpan {
  set(attributes: Attributes): void;
  failed(error: unknown): void;
}

/**
 * Runs `fn` inside an OpenTelemetry span named `name` of the tracer `scope`, made active for
 * what `fn` calls; an exception is recorded (`error.type`, status ERROR) and rethrown. Through
 * `@opentelemetry/api`: a no-op (non-recording spans) until the application installs an SDK.
 */
export async function traced<T>(
  scope: string,
  name: string,
  attributes: Attributes,
  fn: (span: TracedSpan) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
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
