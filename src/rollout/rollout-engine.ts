import { randomBytes } from 'node:crypto';
import type { AppConfig } from '../config/index.ts';
import { GlintError } from '../errors/index.ts';
import {
  type AppRecord,
  type DeploymentRecord,
  isTerminal,
  type Release,
  StateErrorCode,
  type Versioned,
} from '../etcd/index.ts';
import type { Logger } from '../log/index.ts';
import type { ReleaseSource } from './app-releases.ts';
import type { DeploymentRequest } from './deployment-request.ts';
import { DeploymentRunner } from './deployment-runner.ts';
import { allowedEvents, DeploymentEvent, nextDeploymentState } from './deployment-state.ts';
import { type Enforced, enforceDeclaration } from './enforce-declaration.ts';
import { watchInstance } from './execute-step.ts';
import { HealthTracker } from './health-tracker.ts';
import type {
  Clock,
  ContainerRuntime,
  DeploymentStore,
  LoadBalancer,
  RuntimeInstance,
  ServiceRegistry,
} from './ports.ts';
import { RecordWriter } from './record-writer.ts';
import { RolloutEvents } from './rollout-events.ts';

export const RolloutErrorCode = {
  UnknownApp: 'UnknownApp',
  NothingToRollBack: 'NothingToRollBack',
  NotRunningHere: 'DeploymentNotRunningHere',
} as const;

export type EngineDeps = {
  apps: () => Readonly<Record<string, AppConfig>>;
  runtime: ContainerRuntime;
  lb: LoadBalancer;
  registry: ServiceRegistry;
  store: DeploymentStore & {
    getApp(app: string): Promise<Versioned<AppRecord> | undefined>;
    saveApp(record: AppRecord, opts: { expectedModRevision: number }): Promise<number>;
  };
  releases: ReleaseSource;
  clock: Clock;
  log: Logger;
};

type Running = { runner: DeploymentRunner; abort: AbortController; done: Promise<void> };

/**
 * The programmatic surface the API mounts: start a deployment of any kind, pause, resume,
 * cancel, promote, read. Each app has at most one active deployment (etcd's lock); each active
 * deployment has one runner in this process, which only the leader starts.
 */
export class RolloutEngine {
  readonly events = new RolloutEvents();
  readonly #running = new Map<string, Running>();
  readonly #health = new Map<string, HealthTracker>();
  readonly #retries = new Map<string, NodeJS.Timeout>();
  /** While `stop` waits for runners to wind down; resuming waits for it. */
  #stopping: Promise<void> | undefined;
  #onHealthChange: (app: string) => void = () => {};

  constructor(private readonly deps: EngineDeps) {}

  /** Called when glint's probe sees an instance of `app` change phase (the reconciler listens). */
  onHealthChange(listener: (app: string) => void): void {
    this.#onHealthChange = listener;
  }

  /** A runner of the app is active in this process. */
  isActive(app: string): boolean {
    return this.#running.has(app);
  }

  /**
   * Instances of the app glint's probe saw fail after they were ready, or never saw healthy
   * within `healthyDeadline` of watching them (one that sickened while no daemon watched), with
   * the last reason.
   */
  failingInstances(app: string, instances: Iterable<string>): Map<string, string> {
    const tracker = this.#health.get(app);
    const deadline = this.deps.apps()[app]?.strategy.healthyDeadline ?? Number.POSITIVE_INFINITY;
    const now = this.deps.clock.now();
    const out = new Map<string, string>();
    for (const i of instances) {
      const h = tracker?.get(i);
      if (!h) continue;
      if (h.failedAt !== undefined) out.set(i, h.failedBecause ?? h.lastReason ?? 'unhealthy');
      else if (h.healthyAt === undefined && now - h.watchedSince > deadline)
        out.set(i, `not healthy within ${deadline}ms${h.lastReason ? ` (last probe: ${h.lastReason})` : ''}`);
    }
    return out;
  }

  /**
   * Between deployments the probes go on: running containers of the app are watched and the
   * watches of gone ones end. While a deployment runs, its runner does this itself.
   */
  watchInstances(app: string, containers: readonly RuntimeInstance[]): void {
    if (this.#running.has(app)) return;
    const config = this.deps.apps()[app];
    if (!config) return;
    const health = this.#healthOf(app);
    const ctx = { health, runtime: this.deps.runtime, check: config.health };
    for (const c of containers)
      if (c.running && c.host && c.port && !health.isWatched(c.instance))
        watchInstance(ctx, { ...c, host: c.host, port: c.port, startedAt: c.startedAt ?? c.createdAt });
    health.retain(new Set(containers.filter((c) => c.running).map((c) => c.instance)));
  }

  async startDeployment(app: string, request: DeploymentRequest): Promise<DeploymentRecord> {
    const config = this.#app(app);
    const current = this.deps.store.getApp(app).then((a) => a?.record);
    const { from, to } = await this.#releases(app, config, request, current);
    const now = this.deps.clock.now();
    const at = new Date(now).toISOString();
    const record: DeploymentRecord = {
      id: `${app}-${at.replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(2).toString('hex')}`,
      app,
      kind: request.kind,
      state: 'pending',
      ...(request.cause ? { cause: request.cause } : {}),
      ...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}),
      ...(request.trigger ? { trigger: request.trigger } : {}),
      ...(from ? { from } : {}),
      to,
      instances: request.instances ?? config.instances,
      strategy: {
        ...config.strategy,
        ...(request.kind === 'deploy' ? request.strategy : {}),
        canary: request.kind === 'deploy' ? (request.canary ?? config.strategy.canary) : 0,
      },
      // Docker tells a container's creation time in whole seconds: the cutoff is the start of
      // this second, so an instance this rotation starts never counts as one to replace.
      ...(request.kind === 'rotate'
        ? { replaceCreatedBefore: request.replaceCreatedBefore ?? Math.floor(now / 1000) * 1000 }
        : {}),
      promoted: false,
      cancelRequested: false,
      lastProgressAt: now,
      steps: [],
      progress: {},
      createdAt: at,
      updatedAt: at,
    };
    const begun = await this.deps.store.beginDeployment(record);
    this.events.emit('deployment:started', begun.record);
    this.#run(begun);
    return begun.record;
  }

  /** Picks up the active deployments of every declared app (at start, or on winning leadership). */
  async resumeActive(): Promise<DeploymentRecord[]> {
    // Leadership lost and won again while the runners still wound down (a slow engine call in
    // flight): resuming now would see the stopping runner, skip the app, and leave its
    // deployment running in etcd with nobody running it.
    await this.#stopping;
    const resumed: DeploymentRecord[] = [];
    for (const app of Object.keys(this.deps.apps())) {
      if (this.#running.has(app)) continue;
      const id = await this.deps.store.activeDeployment(app);
      const found = id ? await this.deps.store.getDeployment(app, id) : undefined;
      if (!found || isTerminal(found.record.state)) continue;
      this.deps.log.info(
        { app, deploymentId: found.record.id, state: found.record.state },
        'resuming deployment',
      );
      this.#run(found);
      resumed.push(found.record);
    }
    return resumed;
  }

  pause(app: string, id: string) {
    return this.#command(app, id, DeploymentEvent.Pause);
  }

  resume(app: string, id: string) {
    return this.#command(app, id, DeploymentEvent.Resume);
  }

  /** Rolls back what the deployment changed; it ends `cancelled`. */
  cancel(app: string, id: string) {
    return this.#command(app, id, DeploymentEvent.Cancel, {
      cancelRequested: true,
      lastProgressAt: this.deps.clock.now(),
    });
  }

  async promote(app: string, id: string): Promise<DeploymentRecord> {
    const running = this.#runnerOf(app, id);
    const updated = await running.runner.update((r) => ({ ...r, promoted: true }));
    running.runner.wake();
    return updated;
  }

  async get(app: string, id: string): Promise<DeploymentRecord> {
    const live = this.#running.get(app)?.runner.record;
    if (live?.id === id) return live;
    const found = await this.deps.store.getDeployment(app, id);
    if (!found)
      throw new GlintError(StateErrorCode.DeploymentNotFound, `${app} has no deployment ${id}`, {
        details: { app, id },
      });
    return found.record;
  }

  list(app: string, opts: { limit?: number } = {}): Promise<DeploymentRecord[]> {
    this.#app(app);
    return this.deps.store.listDeployments(app, opts);
  }

  /** Resumes active deployments, then brings every other app to its declaration. */
  async enforceDeclaration(): Promise<Enforced[]> {
    await this.#endUndeclared();
    await this.resumeActive();
    return enforceDeclaration({
      ...this.deps,
      now: () => this.deps.clock.now(),
      startDeployment: (app, request) => this.startDeployment(app, request),
    });
  }

  /**
   * A deployment of an app the declaration no longer has cannot go on (HAProxy dropped its
   * backend): its runner stops and its record ends `failed`, saying why. The reconciler removes
   * the app's containers after `reconcile.undeclaredGrace`.
   */
  async #endUndeclared(): Promise<void> {
    const declared = this.deps.apps();
    for (const [app, timer] of this.#retries)
      if (!declared[app]) {
        clearTimeout(timer);
        this.#retries.delete(app);
      }
    for (const [app, running] of [...this.#running]) {
      if (declared[app]) continue;
      running.abort.abort();
      await running.done;
      const ended = await running.runner
        .update((r) => {
          const state = nextDeploymentState(r.state, DeploymentEvent.Fail);
          if (!state) return r;
          const message = `${app} is no longer declared; its containers are removed after reconcile.undeclaredGrace`;
          return { ...r, state, error: { reason: 'AppUndeclared', message } };
        })
        .catch((err: unknown) => {
          this.deps.log.warn({ app, err }, 'could not end the deployment of an undeclared app');
          return undefined;
        });
      if (ended && isTerminal(ended.state)) this.events.emit('deployment:finished', ended);
    }
  }

  /** Resolves when the app's running deployment (if any) has ended here. */
  async settled(app: string): Promise<void> {
    await this.#running.get(app)?.done;
  }

  /** Stops every runner without touching records: the next leader resumes them. */
  async stop(): Promise<void> {
    for (const t of this.#retries.values()) clearTimeout(t);
    this.#retries.clear();
    for (const r of this.#running.values()) r.abort.abort();
    const stopping = Promise.allSettled([...this.#running.values()].map((r) => r.done)).then(() => {
      for (const h of this.#health.values()) h.close();
      this.#health.clear();
    });
    this.#stopping = stopping;
    try {
      await stopping;
    } finally {
      if (this.#stopping === stopping) this.#stopping = undefined;
    }
  }

  async #releases(
    app: string,
    config: AppConfig,
    request: DeploymentRequest,
    appRead: Promise<AppRecord | undefined>,
  ) {
    // A deploy resolves its version while the app's record is read: neither needs the other.
    if (request.kind === 'deploy' && !request.release) {
      appRead.catch(() => undefined);
      const to = await this.deps.releases.resolve(app, request.version ?? config.version, request.repository);
      return { from: (await appRead)?.current, to };
    }
    const current = await appRead;
    const from: Release | undefined = current?.current;
    if (request.release) return { from, to: request.release };
    if (request.kind === 'rollback') {
      const previous = current?.history.find((h) => h.specHash !== from?.specHash);
      if (!previous)
        throw new GlintError(
          RolloutErrorCode.NothingToRollBack,
          `${app} has no earlier release to roll back to`,
          {
            details: { app },
          },
        );
      return { from, to: previous };
    }
    // scale, rotate, heal and config keep the image and read the env again.
    if (!from) return { from, to: await this.deps.releases.resolve(app, config.version) };
    return { from, to: await this.deps.releases.refresh(app, from) };
  }

  #run(versioned: Versioned<DeploymentRecord>, failures = 0) {
    const { app } = versioned.record;
    const config = this.#app(app);
    const abort = new AbortController();
    const health = this.#healthOf(app);
    const writer = new RecordWriter(versioned, this.deps.store, this.deps.clock);
    const runner = new DeploymentRunner({
      app,
      runtime: this.deps.runtime,
      lb: this.deps.lb,
      registry: this.deps.registry,
      clock: this.deps.clock,
      log: this.deps.log.child({ app, deploymentId: versioned.record.id }),
      events: this.events,
      writer,
      health,
      check: config.health,
      drainTimeoutMs: versioned.record.strategy.drainTimeout,
      stopTimeoutMs: versioned.record.strategy.stopTimeout,
      specFor: (release, instance, node) => this.deps.releases.specFor(app, release, instance, node),
      placement: { app, constraints: config.placement?.constraints ?? [], spread: config.placement?.spread },
      signal: abort.signal,
    });
    const done = runner
      .run()
      .then((r) => this.deps.log.info({ app, deploymentId: r.id, state: r.state }, 'deployment ended'))
      .catch((err: unknown) => {
        if (abort.signal.aborted) return;
        // Requeued from the stored record after 1 s, doubling to at most 60 s: etcd or an
        // engine that was away comes back, and the deployment goes on where the record says.
        // Each wait is cut by up to half at random: a hundred apps that failed on the same
        // outage would otherwise come back in the same millisecond, and together they held the
        // event loop (and every API answer) for half a second.
        const delay = Math.round(Math.min(60_000, 1_000 * 2 ** failures) * (1 - Math.random() / 2));
        this.deps.log.error(
          { app, err, retryInMs: delay },
          'deployment runner stopped on an error; will resume',
        );
        this.#retry(app, versioned.record.id, failures + 1, delay);
      })
      .finally(() => {
        if (this.#running.get(app)?.runner === runner) this.#running.delete(app);
      });
    this.#running.set(app, { runner, abort, done });
  }

  #retry(app: string, id: string, failures: number, delayMs: number) {
    const timer = setTimeout(async () => {
      this.#retries.delete(app);
      if (this.#running.has(app) || !this.deps.apps()[app]) return;
      const found = await this.deps.store.getDeployment(app, id).catch(() => undefined);
      if (found && !isTerminal(found.record.state)) this.#run(found, failures);
      else if (!found) this.#retry(app, id, failures + 1, Math.min(60_000, delayMs * 2));
    }, delayMs);
    this.#retries.set(app, timer);
  }

  /** One tracker per app, kept across deployments, so probes of running instances carry on. */
  #healthOf(app: string): HealthTracker {
    let tracker = this.#health.get(app);
    if (!tracker) {
      tracker = new HealthTracker(this.deps.clock, () => {
        this.#running.get(app)?.runner.wake();
        this.#onHealthChange(app);
      });
      this.#health.set(app, tracker);
    }
    return tracker;
  }

  async #command(app: string, id: string, event: DeploymentEvent, patch: Partial<DeploymentRecord> = {}) {
    const running = this.#runnerOf(app, id);
    // Decided inside the write: the loop may have moved the state since the caller looked.
    const updated = await running.runner.update((r) => {
      const state = nextDeploymentState(r.state, event);
      if (!state)
        throw new GlintError(
          StateErrorCode.InvalidTransition,
          `deployment ${id} is ${r.state}; it accepts ${allowedEvents(r.state).join(', ') || 'nothing more'}`,
          { details: { app, id, state: r.state } },
        );
      return { ...r, ...patch, state };
    });
    this.events.emit(isTerminal(updated.state) ? 'deployment:finished' : 'deployment:updated', updated);
    running.runner.wake();
    return updated;
  }

  #runnerOf(app: string, id: string): Running {
    const running = this.#running.get(app);
    if (running?.runner.record.id !== id)
      throw new GlintError(RolloutErrorCode.NotRunningHere, `deployment ${id} of ${app} is not active`, {
        details: { app, id },
      });
    return running;
  }

  #app(app: string): AppConfig {
    const config = this.deps.apps()[app];
    if (!config)
      throw new GlintError(RolloutErrorCode.UnknownApp, `no app named ${app} is declared`, {
        details: { app },
      });
    return config;
  }
}
