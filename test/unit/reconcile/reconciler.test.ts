import { describe, expect, it } from 'vitest';
import { type AppConfig, validateConfig } from '../../../src/config/index.ts';
import type { AppRecord } from '../../../src/etcd/index.ts';
import { silentLogger } from '../../../src/log/index.ts';
import { Reconciler } from '../../../src/reconcile/index.ts';
import type { DeploymentRequest, RuntimeInstance } from '../../../src/rollout/index.ts';

const parsed = validateConfig({
  apps: {
    web: {
      image: '127.0.0.1:5000/demo-app',
      version: '1.0.0',
      instances: 2,
      port: 8080,
      health: { type: 'tcp' },
      routing: { frontendPort: 18080 },
    },
  },
});
if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
const APPS: Record<string, AppConfig> = parsed.config.apps;

const release = {
  imageRef: '127.0.0.1:5000/demo-app@sha256:1',
  version: '1.0.0',
  digest: 'sha256:1',
  specHash: 'spec-a',
  env: { fingerprint: 'f', readRevision: 1, values: {}, secretNames: [] },
  deploymentId: 'd1',
  deployedAt: '2026-01-01T00:00:00Z',
};

const container = (instance: string, over: Partial<RuntimeInstance> = {}): RuntimeInstance => ({
  app: 'web',
  instance,
  node: 'local',
  containerId: `c-${instance}`,
  specHash: 'spec-a',
  version: '1.0.0',
  createdAt: 1,
  running: true,
  host: '127.0.0.1',
  port: 1,
  ...over,
});

/** A reconciler over in-memory stand-ins; `started` collects the heals it asks for. */
function world(opts: {
  containers: RuntimeInstance[];
  records?: Record<string, AppRecord>;
  active?: string;
  apps?: Record<string, AppConfig>;
  /** HAProxy servers beyond the containers' own: instances no engine lists. */
  strayServers?: string[];
  /** The apps HAProxy's one read of every backend knows; default every app. */
  serverApps?: string[];
}) {
  const started: Array<{ app: string; request: DeploymentRequest }> = [];
  const retired: string[] = [];
  const forgotten: string[] = [];
  let now = 1_000_000;
  const records: Record<string, AppRecord> = opts.records ?? {
    web: { app: 'web', current: release, history: [release], instances: 2, updatedAt: 'x' },
  };
  // Reads of etcd and HAProxy by kind: `one` asks about one app, `all` about every app.
  const reads = { one: 0, all: 0 };
  const serversOf = (app: string) =>
    [
      ...opts.containers.filter((c) => c.app === app).map((c) => c.instance),
      ...(app === 'web' ? (opts.strayServers ?? []).filter((n) => !forgotten.includes(n)) : []),
    ].map((name) => ({ name, state: 'ready' as const }));
  const known = () => [...new Set([...Object.keys(opts.apps ?? APPS), ...Object.keys(records)])];
  const reconciler = new Reconciler({
    apps: () => opts.apps ?? APPS,
    list: async (app) => opts.containers.filter((c) => app === undefined || c.app === app),
    store: {
      getApp: async (app) => {
        reads.one++;
        return records[app] ? { record: records[app]! } : undefined;
      },
      activeDeployment: async () => {
        reads.one++;
        return opts.active;
      },
      listApps: async () => {
        reads.all++;
        return Object.values(records);
      },
      activeDeployments: async () => {
        reads.all++;
        return new Map(opts.active === undefined ? [] : known().map((app) => [app, opts.active!]));
      },
    },
    engine: {
      startDeployment: async (app, request) => {
        started.push({ app, request });
        return { id: `heal-${started.length}` } as never;
      },
      isActive: () => false,
      failingInstances: () => new Map(),
      watchInstances: () => {},
    },
    servers: async (app) => {
      reads.one++;
      return serversOf(app);
    },
    allServers: async () => {
      reads.all++;
      return new Map((opts.serverApps ?? known()).map((app) => [app, serversOf(app)]));
    },
    forgetGone: async (app, instance) => void forgotten.push(`${app}/${instance}`),
    retireUndeclared: async (c) => void retired.push(c.containerId),
    logTail: async () => ['boom'],
    clock: { now: () => now },
    log: silentLogger(),
    intervalMs: 60_000,
    undeclaredGraceMs: 5_000,
  });
  return { reconciler, started, retired, forgotten, reads, advance: (ms: number) => (now += ms) };
}

describe('Reconciler', () => {
  it('takes a die event over a list that still says running, and heals with the current release', async () => {
    const w = world({ containers: [container('a'), container('b')] });
    expect((await w.reconciler.pass('web')).map((a) => a.kind)).toEqual(['ok']);
    w.reconciler.noteEvent({ kind: 'die', containerId: 'c-a', app: 'web', exitCode: 137 });
    await w.reconciler.pass('web');
    expect(w.started).toHaveLength(1);
    expect(w.started[0]!.request).toMatchObject({
      kind: 'heal',
      instances: 2,
      release: { specHash: 'spec-a' },
    });
    expect(w.started[0]!.request.cause).toBe('reconciler: instance a stopped: exited with code 137');
    expect(w.reconciler.healing('web')).toMatchObject({ state: 'healing', streak: 1, logTail: ['boom'] });
  });

  it("forgets HAProxy servers whose container no engine lists (a lost engine's), and heals the count", async () => {
    const w = world({ containers: [container('a')], strayServers: ['lost-1'] });
    await w.reconciler.pass('web');
    expect(w.forgotten).toEqual(['web/lost-1']);
    expect(w.started).toHaveLength(1);
    expect(w.started[0]!.request).toMatchObject({ kind: 'heal', instances: 2 });
  });

  it('finds the same stray server in a pass over every app, from the one read of HAProxy', async () => {
    const w = world({ containers: [container('a')], strayServers: ['lost-1'] });
    await w.reconciler.pass();
    expect(w.forgotten).toEqual(['web/lost-1']);
    expect(w.started[0]!.request).toMatchObject({ kind: 'heal', instances: 2 });
  });

  it('reads each kind of state once in a pass over every app, and per app in a pass of one', async () => {
    const names = ['web', 'api', 'jobs'];
    const w = world({
      apps: Object.fromEntries(names.map((n) => [n, APPS.web!])),
      records: Object.fromEntries(
        names.map((n) => [n, { app: n, current: release, history: [release], instances: 2, updatedAt: 'x' }]),
      ),
      containers: names.flatMap((n) => [container(`${n}-1`, { app: n }), container(`${n}-2`, { app: n })]),
    });
    expect((await w.reconciler.pass()).map((a) => `${a.app}:${a.kind}`)).toEqual([
      'web:ok',
      'api:ok',
      'jobs:ok',
    ]);
    // The app records, the locks and HAProxy's servers: three reads for three apps or three hundred.
    expect(w.reads).toEqual({ one: 0, all: 3 });
    expect((await w.reconciler.pass('api')).map((a) => a.kind)).toEqual(['ok']);
    expect(w.reads).toEqual({ one: 3, all: 3 });
  });

  it('compares nothing for an app HAProxy does not know yet, in a pass over every app', async () => {
    const w = world({ containers: [container('a'), container('b')], serverApps: [] });
    expect((await w.reconciler.pass()).map((a) => `${a.app}:${a.kind}`)).toEqual(['web:ok']);
    expect(w.started).toEqual([]);
  });

  it('says out of memory when the engine said so', async () => {
    const w = world({
      containers: [container('a', { running: false, exit: 'exited with code 137' }), container('b')],
    });
    w.reconciler.noteEvent({ kind: 'oom', containerId: 'c-a', app: 'web' });
    await w.reconciler.pass('web');
    expect(w.started[0]!.request.cause).toBe(
      'reconciler: instance a stopped: killed: out of memory (exited with code 137)',
    );
  });

  it('leaves an app to its active deployment', async () => {
    const w = world({ containers: [container('a', { running: false })], active: 'deploy-1' });
    expect((await w.reconciler.pass()).map((a) => a.kind)).toEqual(['busy']);
    expect(w.started).toEqual([]);
  });

  it('backs off the second crash of a streak, then heals it once the wait passed', async () => {
    const w = world({ containers: [container('a', { running: false }), container('b')] });
    await w.reconciler.pass('web');
    w.advance(500);
    expect((await w.reconciler.pass('web')).map((a) => a.kind)).toEqual(['backoff']);
    expect(w.reconciler.healing('web')).toMatchObject({ state: 'backoff', streak: 1 });
    w.advance(600);
    await w.reconciler.pass('web');
    expect(w.started).toHaveLength(2);
    expect(w.reconciler.healing('web')).toMatchObject({ state: 'healing', streak: 2 });
  });

  it('removes the containers of an app it ran once the app is no longer declared, after the grace', async () => {
    const gone = container('g', { app: 'old' });
    const w = world({
      containers: [container('a'), container('b'), gone],
      records: {
        web: { app: 'web', current: release, history: [release], instances: 2, updatedAt: 'x' },
        old: { app: 'old', history: [], updatedAt: 'x' },
      },
    });
    expect((await w.reconciler.pass()).map((a) => `${a.app}:${a.kind}`)).toEqual([
      'web:ok',
      'old:await-grace',
    ]);
    w.advance(5_000);
    await w.reconciler.pass();
    expect(w.retired).toEqual(['c-g']);
  });

  it("never touches an undeclared app's containers it has no record of", async () => {
    const w = world({ containers: [container('a'), container('b'), container('x', { app: 'stranger' })] });
    await w.reconciler.pass();
    w.advance(60_000);
    expect((await w.reconciler.pass()).map((a) => `${a.app}:${a.kind}`)).toEqual([
      'web:ok',
      'stranger:foreign',
    ]);
    expect(w.retired).toEqual([]);
  });
});
