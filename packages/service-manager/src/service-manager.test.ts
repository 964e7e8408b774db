import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { inject, injectable } from './index.js';
import { ServiceConfigError, ServiceDependencyError, ServiceStartError, ServiceTimeoutError } from './errors.js';
import { RecordingService } from './fixtures/recording-service.js';
import { ServiceManager } from './service-manager.js';
import type { Service, ServiceEvents } from './types.js';

function managerWith(
  log: string[],
  specs: Record<
    string,
    {
      dependsOn?: string[];
      critical?: boolean;
      behaviour?: RecordingService['behaviour'];
      startTimeout?: number;
      stopTimeout?: number;
      autoStart?: boolean;
    }
  >,
) {
  const manager = new ServiceManager();
  for (const [name, spec] of Object.entries(specs)) {
    manager.register({
      name,
      useValue: new RecordingService(name, log, spec.behaviour),
      dependsOn: spec.dependsOn ?? [],
      critical: spec.critical ?? true,
      autoStart: spec.autoStart ?? true,
      startTimeout: spec.startTimeout ?? 1000,
      stopTimeout: spec.stopTimeout ?? 1000,
    });
  }
  return manager;
}

describe('register', () => {
  const service: Service = { start() {}, stop() {} };

  it.each([
    [{ name: '', useValue: service }, /non-empty string name/],
    [{ name: 'a' }, /exactly one of useClass, useFactory or useValue/],
    [{ name: 'a', useValue: service, useFactory: () => service }, /exactly one/],
    [{ name: 'a', useValue: { start() {} } }, /start\(\) and stop\(\)/],
    [{ name: 'a', useValue: service, startTimeout: 0 }, /service "a": startTimeout must be greater than 0/],
    [{ name: 'a', useValue: service, stopTimeout: 'soon' }, /stopTimeout/],
    [{ name: 'a', useValue: service, healthCheckInterval: Infinity }, /healthCheckInterval must be finite/],
    // A timer cannot wait past 2^31-1 ms: Node would fire it every millisecond instead.
    [{ name: 'a', useValue: service, healthCheckInterval: '30d' }, /healthCheckInterval must be at most 2147483647 ms/],
    [{ name: 'a', useValue: service, stopTimeout: 2 ** 31 }, /stopTimeout must be at most 2147483647 ms/],
    [{ name: 'a', useValue: service, restart: { maxRetries: 1, maxBackoff: '25d' } }, /restart.maxBackoff must be at most/],
    [{ name: 'a', useValue: service, dependsOn: [{ name: 'b', optional: 'yes' }] }, /dependsOn\[0\].optional must be a boolean/],
    [{ name: 'a', useValue: service, dependsOn: [{ optional: true }] }, /dependsOn\[0\] must be a service name/],
    [{ name: 'a', useValue: service, dependsOn: ['a'] }, /cannot depend on itself/],
    [{ name: 'a', useValue: service, dependsOn: 'b' }, /dependsOn must be an array/],
    [{ name: 'a', useValue: service, critical: 'yes' }, /critical must be a boolean/],
    [{ name: 'a', useValue: service, restart: { maxRetries: -1 } }, /restart.maxRetries/],
    [{ name: 'a', useValue: service, restart: { maxRetries: 1, backoff: 0 } }, /restart.backoff/],
    [{ name: 'a', useValue: service, retries: 3 }, /unknown option "retries"/],
  ])('rejects %o', (registration, message) => {
    expect(() => new ServiceManager().register(registration as never)).toThrow(message);
    expect(() => new ServiceManager().register(registration as never)).toThrow(ServiceConfigError);
  });

  it('rejects a duplicate name', () => {
    const manager = new ServiceManager().register({ name: 'a', useValue: service });
    expect(() => manager.register({ name: 'a', useValue: service })).toThrow(/"a": is already registered/);
  });

  it('answers unknown names with a clear error', () => {
    expect(() => new ServiceManager().getState('nope')).toThrow(/no service named "nope"/);
  });
});

describe('dependency injection', () => {
  it('constructs useClass services with their dependencies injected from the manager container', async () => {
    class Database implements Service {
      started = false;
      start() {
        this.started = true;
      }
      stop() {
        this.started = false;
      }
    }
    const DATABASE = Symbol('Database');
    @injectable()
    class Api implements Service {
      constructor(
        @inject(DATABASE) readonly db: Database,
        @inject('config') readonly config: { port: number },
      ) {}
      start() {
        if (!this.db.started) throw new Error('database not started first');
      }
      stop() {}
    }
    const manager = new ServiceManager();
    manager.container.register('config', { useValue: { port: 8080 } });
    manager.register({ name: 'api', useClass: Api, dependsOn: ['db'] }).register({ name: 'db', useClass: Database, token: DATABASE });
    await manager.startAll();
    const api = manager.get<Api>('api');
    expect(api.db).toBe(manager.get('db'));
    expect(api.config.port).toBe(8080);
    expect(manager.container.resolve(DATABASE)).toBe(api.db);
  });

  it('calls a factory once with the container', async () => {
    const factory = vi.fn(() => ({ start() {}, stop() {} }));
    const manager = new ServiceManager().register({ name: 'f', useFactory: factory });
    await manager.startAll();
    expect(manager.get('f')).toBe(manager.get('f'));
    expect(factory).toHaveBeenCalledOnce();
    expect(factory.mock.calls[0]).toEqual([manager.container]);
  });

  it('keeps each manager in its own child container', () => {
    const a = new ServiceManager().register({ name: 's', useValue: { start() {}, stop() {} } });
    const b = new ServiceManager();
    expect(a.container.isRegistered('s')).toBe(true);
    expect(b.container.isRegistered('s')).toBe(false);
  });

  it('fails the service (not the manager) when the resolved instance is not a service', async () => {
    const manager = new ServiceManager().register({ name: 'bad', useFactory: () => ({}) as Service, critical: false });
    const report = await manager.startAll();
    expect(report.failed[0]).toMatchObject({ name: 'bad', error: expect.stringMatching(/start\(\) and stop\(\)/) as string });
  });
});

describe('startAll', () => {
  it('starts in dependency order and reports startup times', async () => {
    const log: string[] = [];
    const manager = managerWith(log, { api: { dependsOn: ['cache', 'db'] }, cache: { dependsOn: ['db'] }, db: {} });
    const report = await manager.startAll();
    expect(log.filter((l) => l.startsWith('started'))).toEqual(['started:db', 'started:cache', 'started:api']);
    expect(report).toMatchObject({ status: 'running', started: expect.arrayContaining(['api', 'cache', 'db']) as string[], failed: [] });
    expect(Object.keys(report.startupTimes).sort()).toEqual(['api', 'cache', 'db']);
    expect(manager.getState('api')).toBe('running');
  });

  it('starts independent services in parallel', async () => {
    // a's start only finishes once b's has begun: a sequential start would hang until its timeout.
    let bStarted!: () => void;
    const bBegan = new Promise<void>((resolve) => (bStarted = resolve));
    const manager = new ServiceManager()
      .register({ name: 'a', useValue: { start: () => bBegan, stop() {} }, startTimeout: 2000 })
      .register({
        name: 'b',
        useValue: {
          start: () => {
            bStarted();
          },
          stop() {},
        },
      });
    await expect(manager.startAll()).resolves.toMatchObject({ status: 'running' });
  });

  it('rejects unknown dependencies and cycles, naming the services, before anything starts', async () => {
    const log: string[] = [];
    await expect(managerWith(log, { api: { dependsOn: ['db'] }, other: {} }).startAll()).rejects.toThrow(
      /"api" depends on unknown service "db"/,
    );
    await expect(
      managerWith(log, { a: { dependsOn: ['b'] }, b: { dependsOn: ['c'] }, c: { dependsOn: ['a'] }, d: {} }).startAll(),
    ).rejects.toThrow(/dependency cycle: a -> b -> c -> a/);
    await expect(managerWith(log, { a: { dependsOn: ['a2'] }, a2: { dependsOn: ['a'] } }).start('a')).rejects.toBeInstanceOf(
      ServiceDependencyError,
    );
    expect(log).toEqual([]);
  });

  it('on a critical failure stops what had started in reverse order and lists every failure', async () => {
    const log: string[] = [];
    const manager = managerWith(log, {
      db: {},
      cache: { dependsOn: ['db'] },
      api: { dependsOn: ['cache'], behaviour: { start: 'throw' } },
      metrics: { critical: false, behaviour: { start: 'throw' } },
    });
    const error = await manager.startAll().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceStartError);
    expect((error as ServiceStartError).failures.map((f) => [f.name, f.critical])).toEqual(
      expect.arrayContaining([
        ['api', true],
        ['metrics', false],
      ]),
    );
    expect((error as Error).message).toMatch(/api \(critical\): api cannot start/);
    expect((error as Error).message).toMatch(/metrics \(non-critical\): metrics cannot start/);
    expect(log.filter((l) => l.startsWith('stop:'))).toEqual(['stop:cache', 'stop:db']);
    expect(manager.getState('db')).toBe('stopped');
  });

  it('bounds a hung start by startTimeout and aborts it through its signal', async () => {
    let signal: AbortSignal | undefined;
    const manager = new ServiceManager().register({
      name: 'slow',
      startTimeout: 50,
      useValue: {
        start: (s?: AbortSignal) => {
          signal = s;
          return new Promise<void>(() => undefined);
        },
        stop() {},
      },
    });
    const error = (await manager.startAll().catch((e: unknown) => e)) as ServiceStartError;
    expect(error.failures[0]!.error).toBeInstanceOf(ServiceTimeoutError);
    expect(error.message).toMatch(/start of "slow" did not finish within 50 ms/);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(ServiceTimeoutError);
  });

  it('stops a start that finishes after its timeout: nothing reported failed keeps running (a real port)', async () => {
    let server: Server | undefined;
    let port = 0;
    const listener = {
      async start() {
        await new Promise((resolve) => setTimeout(resolve, 150)); // longer than startTimeout, and ignores the signal
        server = createServer((socket) => socket.end());
        await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
        port = (server.address() as AddressInfo).port;
      },
      async stop() {
        await new Promise<void>((resolve) => {
          if (server?.listening)
            server.close(() => {
              resolve();
            });
          else resolve();
        });
      },
    };
    const manager = new ServiceManager().register({ name: 'listener', useValue: listener, startTimeout: 50, critical: false });
    const report = await manager.startAll();
    expect(report.failed).toEqual([
      { name: 'listener', critical: false, error: expect.stringMatching(/did not finish within 50 ms/) as string },
    ]);
    await vi.waitFor(
      () => {
        expect(port).toBeGreaterThan(0);
      },
      { timeout: 2000 },
    );
    await vi.waitFor(
      () => {
        expect(server?.listening).toBe(false);
      },
      { timeout: 2000 },
    );
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => {
        resolve(true);
      });
    });
    expect(refused).toBe(true);
    expect(manager.getState('listener')).toBe('failed');
  });

  it('lets a retry start only after a late start was stopped, so two starts never overlap', async () => {
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    let attempt = 0;
    const service = {
      async start() {
        attempt++;
        log.push(`start ${attempt}`);
        if (attempt === 1) await new Promise((resolve) => setTimeout(resolve, 200));
        running++;
        maxRunning = Math.max(maxRunning, running);
      },
      async stop() {
        log.push('stop');
        running--;
      },
    };
    const manager = new ServiceManager().register({
      name: 's',
      useValue: service,
      startTimeout: 50,
      critical: false,
      restart: { maxRetries: 8, backoff: 20, maxBackoff: 100 },
    });
    await manager.startAll();
    await vi.waitFor(
      () => {
        expect(manager.getState('s')).toBe('running');
      },
      { timeout: 3000 },
    );
    // Retries that came while the first start was still finishing failed without calling start().
    expect(log).toEqual(['start 1', 'stop', 'start 2']);
    expect(maxRunning).toBe(1);
    await manager.stopAll();
  });

  it('leaves the system degraded and running when a non-critical service fails', async () => {
    const log: string[] = [];
    const manager = managerWith(log, { db: {}, cache: { critical: false, behaviour: { start: 'throw' } }, api: { dependsOn: ['db'] } });
    const report = await manager.startAll();
    expect(report.status).toBe('degraded');
    expect(report.failed).toEqual([{ name: 'cache', critical: false, error: 'cache cannot start' }]);
    expect(manager.getState('api')).toBe('running');
    const health = await manager.health();
    expect(health).toMatchObject({ status: 'degraded', ready: true, live: true });
    expect(health.services.cache).toMatchObject({ status: 'unhealthy', state: 'failed', critical: false, error: 'cache cannot start' });
  });

  it('does not start a service whose dependency failed', async () => {
    const log: string[] = [];
    const manager = managerWith(log, {
      cache: { critical: false, behaviour: { start: 'throw' } },
      prompts: { critical: false, dependsOn: ['cache'] },
    });
    const report = await manager.startAll();
    expect(report.failed.map((f) => f.name).sort()).toEqual(['cache', 'prompts']);
    expect(report.failed.find((f) => f.name === 'prompts')!.error).toMatch(/its dependency "cache" is not running/);
    expect(log).not.toContain('start:prompts');
  });

  it('starts a service whose optional dependency failed or is not registered, and still orders stop', async () => {
    const log: string[] = [];
    const manager = new ServiceManager()
      .register({ name: 'cache', useValue: new RecordingService('cache', log, { start: 'throw' }), critical: false })
      .register({ name: 'db', useValue: new RecordingService('db', log) })
      .register({
        name: 'prompts',
        useValue: new RecordingService('prompts', log),
        dependsOn: [{ name: 'cache', optional: true }, { name: 'tracing', optional: true }, 'db'],
      });
    const report = await manager.startAll();
    expect(report.failed.map((f) => f.name)).toEqual(['cache']);
    expect(manager.getState('prompts')).toBe('running');
    expect(log.indexOf('start:prompts')).toBeGreaterThan(log.indexOf('start:cache'));

    const ordered = new ServiceManager()
      .register({ name: 'cache', useValue: new RecordingService('cache', log) })
      .register({ name: 'prompts', useValue: new RecordingService('prompts', log), dependsOn: [{ name: 'cache', optional: true }] });
    await ordered.startAll();
    log.length = 0;
    await ordered.stopAll();
    expect(log).toEqual(['stop:prompts', 'stop:cache']);
  });

  it('leaves autoStart: false services alone unless something depends on them', async () => {
    const log: string[] = [];
    const manager = managerWith(log, { manual: { autoStart: false }, lazyDep: { autoStart: false }, app: { dependsOn: ['lazyDep'] } });
    await manager.startAll();
    expect(manager.getState('manual')).toBe('registered');
    expect(manager.getState('lazyDep')).toBe('running');
    await manager.start('manual');
    expect(manager.getState('manual')).toBe('running');
  });

  it('emits state, started, failed and stopped events; a throwing listener does not break anything', async () => {
    const log: string[] = [];
    const manager = managerWith(log, { ok: {}, bad: { critical: false, behaviour: { start: 'throw' } } });
    const events: string[] = [];
    manager.on('state', (e: ServiceEvents['state']) => events.push(`${e.name}:${e.from}->${e.to}`));
    manager.on('started', (e) => events.push(`started ${e.name}`));
    manager.on('failed', (e) => events.push(`failed ${e.name}`));
    manager.on('stopped', (e) => events.push(`stopped ${e.name}`));
    manager.on('state', () => {
      throw new Error('listener bug');
    });
    await manager.startAll();
    await manager.stopAll();
    expect(events).toEqual(
      expect.arrayContaining([
        'ok:registered->starting',
        'ok:starting->running',
        'started ok',
        'bad:starting->failed',
        'failed bad',
        'ok:running->stopping',
        'ok:stopping->stopped',
        'stopped ok',
      ]),
    );
  });
});

describe('stopAll', () => {
  it('stops in reverse dependency order', async () => {
    const log: string[] = [];
    const manager = managerWith(log, { api: { dependsOn: ['cache', 'db'] }, cache: { dependsOn: ['db'] }, db: {} });
    await manager.startAll();
    const report = await manager.stopAll();
    expect(log.filter((l) => l.startsWith('stop:'))).toEqual(['stop:api', 'stop:cache', 'stop:db']);
    expect(report).toEqual({ stopped: ['api', 'cache', 'db'], failed: [] });
    expect(manager.isLive()).toBe(false);
    expect(manager.isReady()).toBe(false);
  });

  it('reports a throwing and a hanging stop without blocking the others', async () => {
    const log: string[] = [];
    const manager = managerWith(log, {
      db: {},
      thrower: { dependsOn: ['db'], behaviour: { stop: 'throw' } },
      hanger: { dependsOn: ['db'], behaviour: { stop: 'hang' }, stopTimeout: 50 },
    });
    await manager.startAll();
    const report = await manager.stopAll();
    expect(report.stopped).toEqual(['db']);
    expect(report.failed).toEqual(
      expect.arrayContaining([
        { name: 'thrower', error: 'thrower cannot stop' },
        { name: 'hanger', error: expect.stringMatching(/stop of "hanger" did not finish within 50 ms/) as string },
      ]),
    );
    expect(manager.getState('hanger')).toBe('failed');
  });

  it('stop(name) stops its dependents first; restart(name) keeps the instance', async () => {
    const log: string[] = [];
    const manager = managerWith(log, { db: {}, api: { dependsOn: ['db'] }, other: {} });
    await manager.startAll();
    const instance = manager.get('db');
    await manager.stop('db');
    expect(log.filter((l) => l.startsWith('stop:'))).toEqual(['stop:api', 'stop:db']);
    expect(manager.getState('other')).toBe('running');
    await manager.restart('db');
    expect(manager.getState('db')).toBe('running');
    expect(manager.get('db')).toBe(instance);
  });
});
