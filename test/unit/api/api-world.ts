import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  type ApiState,
  type ApiToken,
  closeApiServer,
  createApi,
  createApiServer,
  type DeploymentChanges,
  TokenTable,
} from '../../../src/api/index.ts';
import { type AppConfigInput, validateConfig } from '../../../src/config/index.ts';
import { DockerErrorCode } from '../../../src/docker/index.ts';
import { GlintError } from '../../../src/errors/index.ts';
import type { Release } from '../../../src/etcd/index.ts';
import { type Logger, silentLogger } from '../../../src/log/index.ts';
import { GlintMetrics } from '../../../src/metrics/index.ts';
import { RolloutEngine } from '../../../src/rollout/index.ts';
import {
  FakeLoadBalancer,
  FakeRegistry,
  FakeReleases,
  FakeRuntime,
  FakeStore,
} from '../rollout/fake-ports.ts';

export const TOKENS = { admin: 'admin-token-0123', deploy: 'deploy-token-4567', read: 'read-token-89ab' };

/** Versions the fake registry holds; any other does not resolve, as a registry would say. */
class StampedReleases extends FakeReleases {
  readonly known = new Set(['1.0.0', '1.1.0', '1.2.0']);
  override async resolve(app: string, version: string): Promise<Release> {
    if (!this.known.has(version))
      throw new GlintError(
        DockerErrorCode.TagNotFound,
        `no tag ${version} in 127.0.0.1:5000/demo-app; newest stamped tags: 1.2.0, 1.1.0, 1.0.0`,
      );
    const release = await super.resolve(app, version);
    // As the real one, the fingerprint is a hash of the env, not the env itself.
    const fingerprint = createHash('sha256').update(JSON.stringify(release.env.values)).digest('hex');
    return { ...release, env: { ...release.env, fingerprint } };
  }
}

/**
 * The stored record changed: the fake store's writes show as engine events. `waiting` counts
 * the long polls waiting right now, so a test can act once one is held.
 */
function changesOf(engine: RolloutEngine): DeploymentChanges & { waiting: () => number } {
  let waiting = 0;
  return {
    waiting: () => waiting,
    next: (_app, id, _rev, signal) =>
      new Promise<void>((resolve) => {
        waiting++;
        const done = () => {
          waiting--;
          engine.events.off('deployment:updated', onRecord);
          engine.events.off('deployment:finished', onRecord);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const onRecord = (r: { id: string }) => {
          if (r.id === id) done();
        };
        engine.events.on('deployment:updated', onRecord);
        engine.events.on('deployment:finished', onRecord);
        signal.addEventListener('abort', done, { once: true });
      }),
  };
}

export type ApiWorld = Awaited<ReturnType<typeof startApiWorld>>;

/**
 * The API over a real RolloutEngine whose ports are the in-memory fakes (no Docker): one app
 * `web`, three tokens (admin, deploy, read), served on a loopback port.
 */
export async function startApiWorld(
  opts: {
    isLeader?: boolean;
    app?: Partial<AppConfigInput>;
    log?: Logger;
    /** Stands for the daemon's read cache generation; absent: every answer is built afresh. */
    recordsVersion?: () => number | undefined;
  } = {},
) {
  const parsed = validateConfig({
    apps: {
      web: {
        image: '127.0.0.1:5000/demo-app',
        version: '1.0.0',
        instances: 2,
        port: 8080,
        routing: { frontendPort: 18080 },
        etcdConfig: false,
        health: { type: 'http', path: '/healthz', interval: '20ms', timeout: '10ms', healthyThreshold: 1 },
        strategy: {
          minHealthyTime: '20ms',
          healthyDeadline: '5s',
          drainTimeout: '20ms',
          stopTimeout: '10ms',
        },
        ...opts.app,
      },
    },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const runtime = new FakeRuntime();
  const registry = new FakeRegistry();
  const store = new FakeStore();
  const clock = { now: () => Date.now() };
  const releases = new StampedReleases();
  const engine = new RolloutEngine({
    apps: () => parsed.config.apps,
    runtime,
    lb: new FakeLoadBalancer(runtime),
    registry,
    store,
    releases,
    clock,
    log: silentLogger(),
  });
  const changes = changesOf(engine);
  const state: ApiState = {
    apps: () => parsed.config.apps,
    control: engine,
    state: store,
    changes,
    instances: (app) => runtime.list(app),
    ready: async (app) => [...registry.entries.values()].filter((e) => e.app === app),
    nextRotation: () => null,
    ...(opts.recordsVersion ? { recordsVersion: opts.recordsVersion } : {}),
    clock,
  };
  const tokens: ApiToken[] = [
    { name: 'root', role: 'admin', token: TOKENS.admin },
    { name: 'ci', role: 'deploy', token: TOKENS.deploy },
    { name: 'dashboard', role: 'read', token: TOKENS.read },
  ];
  const metrics = new GlintMetrics({
    isLeader: () => opts.isLeader !== false,
    readyInstances: async () => ({ web: (await state.ready('web')).length }),
  });
  engine.events.on('deployment:finished', (r) => metrics.deploymentEnded(r));
  const shutdown = new AbortController();
  const handler = createApi({
    log: opts.log ?? silentLogger(),
    readiness: [],
    version: 'test',
    leadership: () =>
      opts.isLeader === false
        ? { isLeader: false, leader: 'http://10.0.0.3:7070' }
        : { isLeader: true, leader: 'http://127.0.0.1:7070' },
    tokens: () => new TokenTable(tokens),
    state,
    shutdown: shutdown.signal,
    events: { heartbeatMs: 60_000 },
    metrics,
  });
  const server = createApiServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const call = async (
    method: string,
    path: string,
    o: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = { ...o.headers };
    const token = o.token === undefined ? TOKENS.admin : o.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (o.body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      ...(o.body === undefined ? {} : { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) }),
    });
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field in the tests
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  };

  // No grace for forced closing: a stream or long poll that outlived the shutdown signal would
  // hold the close, and the test would time out instead of passing.
  const close = async () => {
    shutdown.abort();
    await engine.stop();
    await closeApiServer(server, 600_000);
  };
  return {
    url,
    engine,
    runtime,
    store,
    registry,
    releases,
    call,
    close,
    waiting: changes.waiting,
    apps: parsed.config.apps,
  };
}
