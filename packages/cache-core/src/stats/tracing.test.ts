import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SharedPromptCache } from '../shared-prompt-cache.js';
import { FileStore } from '../stores/file-store.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
let dir: string;
beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
  dir = await mkdtemp(path.join(tmpdir(), 'pm-trace-'));
});
afterAll(async () => {
  trace.disable();
  context.disable();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  exporter.reset();
});
const spans = () => exporter.getFinishedSpans();

describe('OpenTelemetry spans (SDK installed, in-memory exporter)', () => {
  it('traces a getOrCompute miss with the tier that answered, and the compute as its child', async () => {
    const cache = new SharedPromptCache();
    await cache.getOrCompute('task_prompt:qa:1', () => trace.getTracer('test').startActiveSpan('compute', (span) => (span.end(), 'built')));
    const outer = spans().find((s) => s.name === 'cache.getOrCompute')!;
    expect(outer.attributes).toMatchObject({
      'cache.hit': false,
      'cache.tier': 'compute',
      'cache.result': 'miss',
      'cache.namespace': 'task_prompt',
    });
    const compute = spans().find((s) => s.name === 'compute')!;
    expect(compute.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
  });

  it('traces an L1 hit only inside a traced caller, never the key itself', async () => {
    const cache = new SharedPromptCache();
    await cache.getOrCompute('agent_profile:secret-user-42', () => 'v');
    exporter.reset();
    await cache.getOrCompute('agent_profile:secret-user-42', () => 'unused');
    expect(spans()).toEqual([]); // no caller span: a hit costs no span
    await trace.getTracer('test').startActiveSpan('request', async (span) => {
      await cache.getOrCompute('agent_profile:secret-user-42', () => 'unused');
      span.end();
    });
    const hit = spans().find((s) => s.name === 'cache.getOrCompute')!;
    expect(hit.attributes).toMatchObject({
      'cache.hit': true,
      'cache.tier': 'l1',
      'cache.result': 'hit',
      'cache.namespace': 'agent_profile',
    });
    expect(JSON.stringify(spans().map((s) => s.attributes))).not.toContain('secret-user-42');
  });

  it('traces L2 calls as client spans, an L2 hit as such, and a stale value served after a failed compute', async () => {
    const store = new FileStore({ dir });
    const writer = new SharedPromptCache({ l2: store });
    await writer.set('task_prompt:qa:2', 'from L2');
    const reader = new SharedPromptCache({ l2: new FileStore({ dir }) });
    exporter.reset();
    expect(await reader.getOrCompute('task_prompt:qa:2', () => 'computed')).toBe('from L2');
    const l2Get = spans().find((s) => s.name === 'get file')!;
    expect(l2Get.kind).toBe(2); // SpanKind.CLIENT
    expect(l2Get.attributes).toMatchObject({ 'db.operation.name': 'get', 'cache.tier': 'l2' });
    expect(spans().find((s) => s.name === 'cache.getOrCompute')!.attributes).toMatchObject({ 'cache.tier': 'l2', 'cache.result': 'hit' });

    const local = new SharedPromptCache();
    await local.getOrCompute('p:1', () => 'old', { ttl: 20, grace: '1m' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    exporter.reset();
    const failing = () => Promise.reject(new Error('model down'));
    expect(await local.getOrCompute('p:1', failing, { ttl: 20, grace: '1m' })).toBe('old');
    expect(spans().find((s) => s.name === 'cache.getOrCompute')!.attributes).toMatchObject({ 'cache.result': 'stale' });
  });

  it('marks a failed compute as an error span with its type', async () => {
    const cache = new SharedPromptCache();
    await expect(cache.getOrCompute('p:2', () => Promise.reject(new TypeError('bad input')))).rejects.toThrow('bad input');
    const span = spans().find((s) => s.name === 'cache.getOrCompute')!;
    expect(span.status).toMatchObject({ code: 2, message: 'bad input' });
    expect(span.attributes['error.type']).toBe('TypeError');
  });
});
