import { trace, type Attributes } from '@opentelemetry/api';
import { SpanKind, traced as tracedIn, tracingInstalled, type TracedSpan } from '@pm/service-manager/contract';

export type { TracedSpan };

/**
 * OpenTelemetry spans through `@opentelemetry/api`: a no-op until the application installs an
 * SDK (the API then hands out non-recording spans). Attribute names follow the semantic
 * conventions where they exist (`db.system.name`, `db.operation.name`, `error.type`); the cache's
 * own are under `cache.`.
 */
const SCOPE = '@pm/cache-core';
const tracer = trace.getTracer(SCOPE);

/** Runs `fn` in a span of the cache's tracer. */
export function traced<T>(name: string, attributes: Attributes, fn: (span: TracedSpan) => Promise<T>, kind?: SpanKind): Promise<T> {
  return tracedIn(SCOPE, name, attributes, fn, kind);
}

/** The span handle of an L2 call when no SDK is installed. */
const UNTRACED: TracedSpan = { set: () => undefined, failed: () => undefined };

/** Stores whose name is a database system the conventions know. */
const DB_SYSTEMS: Readonly<Record<string, string>> = { redis: 'redis' };

/** A call to the L2 store: a client span, named as the database conventions name them (`GET redis`). */
export function traceStoreCall<T>(store: string, operation: string, fn: (span: TracedSpan) => Promise<T>): Promise<T> {
  // Every L2 call comes through here: with no SDK, not even the span's name and attributes are built.
  if (!tracingInstalled()) return fn(UNTRACED);
  const system = DB_SYSTEMS[store];
  return traced(
    `${operation} ${store}`,
    {
      'db.operation.name': operation,
      'cache.tier': 'l2',
      'cache.store': store,
      ...(system === undefined ? {} : { 'db.system.name': system }),
    },
    fn,
    SpanKind.CLIENT,
  );
}

/**
 * Whether a hit should be traced: only when the caller is inside a recording span. A hit costs
 * ~100 ns; a span of its own would cost more than the hit, and without a traced caller nobody
 * would see it.
 */
export function tracingHits(): boolean {
  return trace.getActiveSpan()?.isRecording() === true;
}

/** A span for an L1 hit, ended at once. */
export function recordHit(operation: string, key: string): void {
  tracer
    .startSpan(operation, {
      attributes: { 'cache.hit': true, 'cache.tier': 'l1', 'cache.result': 'hit', 'cache.namespace': namespaceOf(key) },
    })
    .end();
}

/** The text before the first `:`: spans carry the namespace, never the key (keys may hold user data). */
export function namespaceOf(key: string): string {
  const colon = key.indexOf(':');
  return colon === -1 ? '(none)' : key.slice(0, colon);
}
