import type { InstanceSpec } from '../../../src/docker/index.ts';
import { GlintError } from '../../../src/errors/index.ts';
import type { AppRecord, DeploymentRecord, Release, Versioned } from '../../../src/etcd/index.ts';
import { recordDeployedRelease } from '../../../src/etcd/state-records.ts';
import type {
  BackendServer,
  ContainerRuntime,
  DeploymentStore,
  LoadBalancer,
  RegisteredInstance,
  ReleaseSource,
  RuntimeInstance,
  ServiceRegistry,
} from '../../../src/rollout/index.ts';

/** How an instance of a release behaves in the fake world, by the env it was given. */
export type Behaviour = { failHealth?: boolean; crashAfterMs?: number };

/** An in-memory engine: containers start at once, run until stopped, probe by their env. */
export class FakeRuntime implements ContainerRuntime {
  readonly containers = new Map<string, RuntimeInstance & { env: Record<string, string> }>();
  readonly calls: string[] = [];
  #port = 20_000;

  async placementNodes(app: string) {
    const running = [...this.containers.values()].filter((c) => c.running);
    return [
      {
        name: 'local',
        labels: {},
        up: true,
        containers: running.length,
        appInstances: running.filter((c) => c.app === app).length,
      },
    ];
  }

  async list(app: string) {
    return [...this.containers.values()].filter((c) => c.app === app).map(({ env, ...c }) => ({ ...c }));
  }

  /** While set, a launch waits for it, deaf to its signal: an engine call that is slow to end. */
  hold: Promise<void> | undefined;

  async launch(node: string, spec: InstanceSpec) {
    this.calls.push(`launch ${spec.instance}`);
    await this.hold;
    const containerId = `c-${spec.instance}`;
    const port = this.#port++;
    const now = Date.now();
    this.containers.set(containerId, {
      app: spec.app,
      instance: spec.instance,
      node,
      containerId,
      specHash: specHashOf(spec),
      version: spec.image.version,
      createdAt: now,
      startedAt: now,
      running: true,
      host: '127.0.0.1',
      port,
      env: { ...spec.env },
    });
    const crash = Number(spec.env.CRASH_AFTER_MS ?? 0);
    if (crash > 0) setTimeout(() => this.kill(containerId), crash);
    return { containerId, host: '127.0.0.1', port };
  }

  kill(containerId: string) {
    const c = this.containers.get(containerId);
    if (c) Object.assign(c, { running: false, exit: 'exited with code 3' });
  }

  async stopAndRemove(_node: string, containerId: string) {
    this.calls.push(`remove ${containerId}`);
    this.containers.delete(containerId);
  }

  async logTail(_node: string, containerId: string) {
    return [`log of ${containerId}`];
  }

  async probe(_node: string, _check: unknown, target: { containerId: string }) {
    const c = this.containers.get(target.containerId);
    if (!c?.running) return { ok: false, reason: 'connection refused' };
    return c.env.FAIL_HEALTH === '1'
      ? { ok: false, reason: 'status 503' }
      : { ok: true, reason: 'status 200' };
  }
}

export const specHashOf = (spec: InstanceSpec) =>
  `spec:${spec.image.digest}:${spec.env.GEN ?? ''}:${spec.env.FAIL_HEALTH ?? ''}:${spec.env.CRASH_AFTER_MS ?? ''}`;

/** HAProxy as a map: its check follows the fake runtime's probe. */
export class FakeLoadBalancer implements LoadBalancer {
  readonly servers_ = new Map<string, BackendServer & { containerId: string }>();
  constructor(private readonly runtime: FakeRuntime) {}

  async servers() {
    return [...this.servers_.values()].map((s) => {
      const c = this.runtime.containers.get(s.containerId);
      const checkPassed = !!c?.running && c.env.FAIL_HEALTH !== '1';
      return {
        name: s.name,
        state: s.state,
        checkPassed,
        checkStatus: checkPassed ? 'L7OK' : 'L7STS',
        sessions: 0,
      };
    });
  }

  async stage(_app: string, server: { name: string }) {
    if (!this.servers_.has(server.name))
      this.servers_.set(server.name, {
        name: server.name,
        state: 'drain',
        checkPassed: false,
        checkStatus: '',
        sessions: 0,
        containerId: `c-${server.name}`,
      });
  }

  async promote(_app: string, name: string) {
    const s = this.servers_.get(name);
    if (!s) throw new GlintError('LbServerNotFound', `no server ${name}`);
    s.state = 'ready';
  }

  async drain(_app: string, name: string) {
    const s = this.servers_.get(name);
    if (s) s.state = 'drain';
    return { drained: true };
  }

  async remove(_app: string, name: string) {
    this.servers_.delete(name);
  }

  inRotation(): string[] {
    return [...this.servers_.values()].filter((s) => s.state === 'ready').map((s) => s.name);
  }
}

export class FakeRegistry implements ServiceRegistry {
  readonly entries = new Map<string, RegisteredInstance>();
  async register(e: RegisteredInstance) {
    this.entries.set(e.instance, e);
  }
  async deregister(_app: string, instance: string) {
    this.entries.delete(instance);
  }
}

/** The state store's rules (one active deployment per app, compare-and-swap) in memory. */
export class FakeStore implements DeploymentStore {
  readonly deployments = new Map<string, Versioned<DeploymentRecord>>();
  readonly active = new Map<string, string>();
  app: Versioned<AppRecord> | undefined;
  /** Every record written after its beginning, in order. */
  readonly writes: DeploymentRecord[] = [];
  #rev = 1;

  async beginDeployment(record: DeploymentRecord) {
    if (this.active.has(record.app)) throw new GlintError('DeploymentInProgress', 'busy');
    this.active.set(record.app, record.id);
    const v = { record, modRevision: ++this.#rev };
    this.deployments.set(record.id, v);
    return v;
  }
  async updateDeployment(record: DeploymentRecord, opts: { expectedModRevision: number }) {
    const cur = this.deployments.get(record.id);
    if (cur?.modRevision !== opts.expectedModRevision) throw new GlintError('StateConflict', 'conflict');
    this.writes.push(record);
    const v = { record, modRevision: ++this.#rev };
    this.deployments.set(record.id, v);
    return v.modRevision;
  }
  async finishDeployment(record: DeploymentRecord, opts: { expectedModRevision: number }) {
    await this.updateDeployment(record, opts);
    this.active.delete(record.app);
    if (record.state === 'succeeded') {
      const at = new Date().toISOString();
      const rec = recordDeployedRelease(
        this.app?.record,
        record.app,
        { ...record.to, deploymentId: record.id, deployedAt: at },
        at,
        record.instances,
      );
      this.app = { record: rec, modRevision: ++this.#rev };
    }
    return this.deployments.get(record.id)!;
  }
  async getDeployment(_app: string, id: string) {
    return this.deployments.get(id);
  }
  async activeDeployment(app: string) {
    return this.active.get(app);
  }
  async listDeployments() {
    return [...this.deployments.values()].map((v) => v.record).reverse();
  }
  async getApp() {
    return this.app;
  }
  async saveApp(record: AppRecord) {
    this.app = { record, modRevision: ++this.#rev };
    return this.app.modRevision;
  }
}

/** Releases keyed by version; a release's env decides how its instances behave. */
export class FakeReleases implements ReleaseSource {
  env: Record<string, string> = {};
  async resolve(_app: string, version: string): Promise<Release> {
    return this.#release(version);
  }
  async refresh(_app: string, release: Release): Promise<Release> {
    return this.#release(release.version);
  }
  async specFor(app: string, release: Release, instance: string, node: string): Promise<InstanceSpec> {
    return {
      app,
      instance,
      env: { ...release.env.values },
      containerPort: 8080,
      hostIp: '127.0.0.1',
      serviceAddress: '172.17.0.1',
      resources: {},
      labels: {},
      image: {
        repository: 'r',
        ref: `r@${release.digest}`,
        digest: release.digest,
        version: release.version,
      },
      health: {
        type: 'http',
        path: '/healthz',
        expectStatus: '200',
        interval: 20,
        timeout: 50,
        healthyThreshold: 1,
        unhealthyThreshold: 1,
        gracePeriod: 0,
      },
      stopTimeoutMs: 10,
      ...(node ? {} : {}),
    };
  }
  #release(version: string): Release {
    const digest = `sha256:${version}`;
    const values = { ...this.env };
    const specHash = `spec:${digest}:${values.GEN ?? ''}:${values.FAIL_HEALTH ?? ''}:${values.CRASH_AFTER_MS ?? ''}`;
    return {
      imageRef: `r@${digest}`,
      version,
      digest,
      specHash,
      env: { fingerprint: JSON.stringify(values), readRevision: 1, values, secretNames: [] },
    };
  }
}
