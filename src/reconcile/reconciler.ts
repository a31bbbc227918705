import type { AppConfig } from '../config/index.ts';
import { GlintError } from '../errors/index.ts';
import { type AppRecord, type DeploymentRecord, type Release, StateErrorCode } from '../etcd/index.ts';
import type { Logger } from '../log/index.ts';
import type { DeploymentRequest, RuntimeInstance } from '../rollout/index.ts';
import { ContainerDeaths, type ContainerEvent } from './container-deaths.ts';
import { type CrashBackoff, nextBackoff } from './crash-backoff.ts';
import {
  type AppObservation,
  planReconcile,
  type ReconcileAction,
  type ReconcileContainer,
} from './plan-reconcile.ts';

type LbServerState = { name: string; state: 'ready' | 'drain' | 'maint' };

/**
 * Where a pass reads app records, locks and HAProxy's servers. A pass of one app asks about
 * that app; a pass of all reads each kind once, whole, when the first app needs it: a
 * hundred apps cost three reads, not three hundred, and the event loop parses one answer of
 * each instead of a burst of small ones.
 */
type PassReads = {
  app(name: string): Promise<{ record: AppRecord } | undefined>;
  active(name: string): Promise<string | undefined>;
  servers(name: string): Promise<ReadonlyArray<LbServerState>>;
};

/** A read started on first use and shared by every later one. */
function shared<T>(read: () => Promise<T>): () => Promise<T> {
  let once: Promise<T> | undefined;
  return () => {
    once ??= read();
    return once;
  };
}

export type ReconcilerDeps = {
  apps: () => Readonly<Record<string, AppConfig>>;
  /**
   * glint's containers on every engine, of one app or of all: one list call per engine, no
   * inspect.
   */
  list: (app?: string) => Promise<RuntimeInstance[]>;
  store: {
    getApp(app: string): Promise<{ record: AppRecord } | undefined>;
    activeDeployment(app: string): Promise<string | undefined>;
    /** Every app's record in one read, for a pass over all apps. */
    listApps(): Promise<AppRecord[]>;
    /** Every held lock in one read (app → deployment id), for a pass over all apps. */
    activeDeployments(): Promise<ReadonlyMap<string, string>>;
  };
  engine: {
    startDeployment(app: string, request: DeploymentRequest): Promise<DeploymentRecord>;
    isActive(app: string): boolean;
    failingInstances(app: string, instances: Iterable<string>): Map<string, string>;
    watchInstances(app: string, containers: readonly RuntimeInstance[]): void;
  };
  /** HAProxy's servers of an app and their admin state. */
  servers: (app: string) => Promise<ReadonlyArray<LbServerState>>;
  /** The same for every app in one read of HAProxy, for a pass over all apps. */
  allServers: () => Promise<ReadonlyMap<string, ReadonlyArray<LbServerState>>>;
  /**
   * Takes an instance whose container no engine lists any more (its engine was lost, or it was
   * removed by hand) out of HAProxy and the service registry.
   */
  forgetGone: (app: string, instance: string) => Promise<void>;
  /** Drains, deregisters and removes a container of an app that is no longer declared. */
  retireUndeclared: (c: ReconcileContainer) => Promise<void>;
  logTail: (node: string, containerId: string, lines: number) => Promise<string[]>;
  clock: { now(): number };
  log: Logger;
  intervalMs: number;
  undeclaredGraceMs: number;
  /** What the event stream tells: an instance failed, a crash loop backs off. */
  notify?: {
    instanceFailed(e: { app: string; instance?: string; why: string; logTail?: string[] }): void;
    backoff(e: { app: string; why: string; until: string; streak: number }): void;
  };
  /** Each pass's duration and what it decided, for metrics and benchmarks. */
  onPass?: (pass: { ms: number; containers: number; actions: ReconcileAction[] }) => void;
};

/** What the reconciler last did about an app, for `GET /v1/apps/:app` (the leader's view). */
export type HealingState = {
  state: 'ok' | 'busy' | 'healing' | 'backoff' | 'unreleased' | 'undeclared';
  reason?: string;
  /** The last lines of the instance that died or failed, for a crash. */
  logTail?: string[];
  /** Crash-driven heals in the current streak. */
  streak?: number;
  nextAttemptAt?: string;
  at: string;
};

const LOG_LINES = 20;
/** Engine events arriving together make one pass. */
const EVENT_BATCH_MS = 20;

/**
 * The control loop that keeps what runs equal to what was declared, in the leader only. A pass
 * lists glint's containers (one call per engine), reads each app's current release and lock
 * from etcd, and lets `planReconcile` decide; replacements go through the rollout engine as
 * `heal` deployments. Engine events and probe changes trigger a pass of their app at once; a
 * full pass runs every `intervalMs` whatever happens. While a deployment of an app is active,
 * that deployment replaces what dies (its planner discards dead instances and starts others),
 * so the reconciler leaves the app alone until it ends.
 */
export class Reconciler {
  readonly #backoff = new Map<string, CrashBackoff>();
  readonly #undeclaredSince = new Map<string, number>();
  readonly #healing = new Map<string, HealingState>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #pending = new Set<string>();
  readonly #healFailed = new Map<string, string>();
  readonly #deaths = new ContainerDeaths();
  #full = false;
  #periodic: NodeJS.Timeout | undefined;
  #batch: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(private readonly deps: ReconcilerDeps) {}

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#periodic = setInterval(() => this.poke(), this.deps.intervalMs);
    this.poke();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#periodic);
    clearTimeout(this.#batch);
    this.#batch = undefined;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#pending.clear();
    await this.#running;
  }

  /** Asks for a pass of one app (an engine event, a probe change) or of all. */
  poke(app?: string): void {
    if (this.#stopped) return;
    if (app === undefined) this.#full = true;
    else this.#pending.add(app);
    if (this.#batch || this.#running) return;
    this.#batch = setTimeout(() => {
      this.#batch = undefined;
      this.#drain();
    }, EVENT_BATCH_MS);
  }

  /** An engine event of one of glint's containers: its app gets a pass now. */
  noteEvent(e: ContainerEvent): void {
    this.#deaths.note(e);
    this.poke(e.app);
  }

  /** A heal deployment of the app ended: a failed one makes the next heal part of a crash loop. */
  healEnded(app: string, failure?: string): void {
    if (failure) this.#healFailed.set(app, failure);
    else this.#healFailed.delete(app);
    this.poke(app);
  }

  healing(app: string): HealingState | undefined {
    return this.#healing.get(app);
  }

  /** One pass now, of one app or all; resolves with what it decided. */
  async pass(app?: string): Promise<ReconcileAction[]> {
    const started = performance.now();
    const containers = await this.deps.list(app);
    if (app === undefined) this.#deaths.keepOnly(containers.map((c) => c.containerId));
    const byApp = new Map<string, RuntimeInstance[]>();
    for (const name of app === undefined ? Object.keys(this.deps.apps()) : [app]) byApp.set(name, []);
    for (const c of containers) {
      if (!c.app) continue;
      const list = byApp.get(c.app) ?? [];
      list.push(c);
      byApp.set(c.app, list);
    }
    const now = this.deps.clock.now();
    const reads = app === undefined ? this.#wholeReads() : this.#appReads();
    const observations = await Promise.all([...byApp].map(([name, cs]) => this.#observe(name, cs, reads)));
    const actions = planReconcile({
      apps: observations,
      undeclaredGraceMs: this.deps.undeclaredGraceMs,
      now,
    });
    const observedMs = performance.now() - started;
    await Promise.all(actions.map((a) => this.#act(a, observations)));
    const ms = performance.now() - started;
    this.deps.log.debug(
      {
        app: app ?? '*',
        containers: containers.length,
        decided: actions.map((a) => `${a.app}:${a.kind}`).join(' '),
        observedMs: Math.round(observedMs),
        ms: Math.round(ms),
      },
      'reconcile pass',
    );
    this.deps.onPass?.({ ms, containers: containers.length, actions });
    return actions;
  }

  #drain(): void {
    if (this.#running || this.#stopped) return;
    const full = this.#full;
    const apps = [...this.#pending];
    this.#full = false;
    this.#pending.clear();
    if (!full && apps.length === 0) return;
    const work = full ? this.pass() : Promise.all(apps.map((a) => this.pass(a)));
    this.#running = work
      .then(() => undefined)
      .catch((err: unknown) => this.deps.log.warn({ err }, 'reconcile pass failed; the next one tries again'))
      .finally(() => {
        this.#running = undefined;
        if (this.#full || this.#pending.size) this.#drain();
      });
  }

  #appReads(): PassReads {
    return {
      app: (name) => this.deps.store.getApp(name),
      active: (name) => this.deps.store.activeDeployment(name),
      servers: (name) => this.deps.servers(name),
    };
  }

  #wholeReads(): PassReads {
    const apps = shared(
      async () => new Map((await this.deps.store.listApps()).map((r) => [r.app, { record: r }])),
    );
    const active = shared(() => this.deps.store.activeDeployments());
    const servers = shared(() => this.deps.allServers());
    return {
      app: async (name) => (await apps()).get(name),
      active: async (name) => (await active()).get(name),
      servers: async (name) => {
        const list = (await servers()).get(name);
        // As a read of one app the load balancer does not know: nothing is compared, rather
        // than every running instance taken as out of rotation (a reload not yet applied).
        if (!list) throw new Error(`the load balancer does not know app ${name} yet`);
        return list;
      },
    };
  }

  async #observe(app: string, listed: RuntimeInstance[], reads: PassReads): Promise<AppObservation> {
    const containers = this.#deaths.apply(listed);
    const config = this.deps.apps()[app];
    const declared = config !== undefined;
    const [found, active] = await Promise.all([
      reads.app(app),
      declared && !this.deps.engine.isActive(app) ? reads.active(app) : undefined,
    ]);
    const record = found?.record;
    const busy = this.deps.engine.isActive(app) || active !== undefined;
    if (declared) this.deps.engine.watchInstances(app, containers);
    const outOfRotation =
      declared && !busy && record?.current ? await this.#outOfRotation(app, containers, reads) : undefined;
    return {
      app,
      declared,
      known: record !== undefined,
      desired:
        declared && record?.current
          ? { specHash: record.current.specHash, instances: record.instances ?? config.instances }
          : undefined,
      activeDeployment: busy,
      outOfRotation,
      containers,
      failing: this.deps.engine.failingInstances(
        app,
        containers.filter((c) => c.running).map((c) => c.instance),
      ),
      backoff: this.#backoff.get(app),
      lastHealFailure: this.#healFailed.get(app),
      undeclaredSince: this.#undeclaredSince.get(app),
    };
  }

  /**
   * Running instances HAProxy does not route to; only read between deployments. HAProxy servers
   * whose container no engine lists (a lost engine's, one removed by hand) are forgotten first:
   * the list is whole, as one engine that does not answer fails it.
   */
  async #outOfRotation(
    app: string,
    containers: RuntimeInstance[],
    reads: PassReads,
  ): Promise<string[] | undefined> {
    const servers = await reads.servers(app).catch((err: unknown) => {
      this.deps.log.debug({ app, err }, 'HAProxy did not answer; rotation not compared this pass');
      return undefined;
    });
    if (!servers) return undefined;
    const listed = new Set(containers.map((c) => c.instance));
    for (const gone of servers.filter((s) => !listed.has(s.name))) {
      this.deps.log.warn(
        { app, instance: gone.name },
        `instance ${gone.name} has no container on any engine that answers; taken out of HAProxy and the registry`,
      );
      await this.deps.forgetGone(app, gone.name);
    }
    const ready = new Set(servers.filter((s) => s.state === 'ready').map((s) => s.name));
    return containers.filter((c) => c.running && !ready.has(c.instance)).map((c) => c.instance);
  }

  async #act(a: ReconcileAction, observations: AppObservation[]): Promise<void> {
    const at = new Date(this.deps.clock.now()).toISOString();
    if (a.kind !== 'await-grace' && a.kind !== 'remove') this.#undeclaredSince.delete(a.app);
    switch (a.kind) {
      case 'ok':
      case 'busy':
      case 'unreleased': {
        const { nextAttemptAt: _, ...last }: HealingState = this.#healing.get(a.app) ?? { state: a.kind, at };
        // A heal in progress stays `healing`; the last heal's reason and log lines stay visible.
        if (a.kind === 'busy' && last.state === 'healing') return;
        this.#healing.set(a.app, { ...last, state: a.kind, at });
        return;
      }
      case 'foreign':
        return;
      case 'await-grace':
        this.#undeclaredSince.set(a.app, a.since);
        this.#healing.set(a.app, {
          state: 'undeclared',
          reason: `not declared; its containers are removed at ${new Date(a.until).toISOString()}`,
          at,
        });
        this.#wakeAt(a.app, a.until);
        return;
      case 'remove':
        await this.#removeUndeclared(a.app, a.containers);
        return;
      case 'backoff':
        if (this.#healing.get(a.app)?.state !== 'backoff')
          this.deps.notify?.backoff({
            app: a.app,
            why: a.why,
            until: new Date(a.until).toISOString(),
            streak: this.#backoff.get(a.app)?.streak ?? 0,
          });
        this.#healing.set(a.app, {
          ...this.#healing.get(a.app),
          state: 'backoff',
          reason: a.why,
          streak: this.#backoff.get(a.app)?.streak ?? 0,
          nextAttemptAt: new Date(a.until).toISOString(),
          at,
        });
        this.#wakeAt(a.app, a.until);
        return;
      case 'heal':
        await this.#heal(a, observations.find((o) => o.app === a.app)!);
        return;
    }
  }

  async #heal(a: Extract<ReconcileAction, { kind: 'heal' }>, o: AppObservation): Promise<void> {
    const found = await this.deps.store.getApp(a.app);
    const current = found?.record.current;
    if (!current || !o.desired) return;
    const { node, containerId } = a.culprit ?? {};
    const logTail =
      node && containerId ? await this.deps.logTail(node, containerId, LOG_LINES).catch(() => []) : undefined;
    this.#healFailed.delete(a.app);
    if (a.culprit?.instance)
      this.deps.notify?.instanceFailed({
        app: a.app,
        instance: a.culprit.instance,
        why: a.culprit.why,
        ...(logTail?.length ? { logTail } : {}),
      });
    if (a.crash)
      this.#backoff.set(
        a.app,
        nextBackoff(this.#backoff.get(a.app), o.desired.specHash, this.deps.clock.now()),
      );
    const backoff = this.#backoff.get(a.app);
    const release: Release = {
      imageRef: current.imageRef,
      version: current.version,
      digest: current.digest,
      specHash: current.specHash,
      env: current.env,
    };
    try {
      const started = await this.deps.engine.startDeployment(a.app, {
        kind: 'heal',
        release,
        instances: o.desired.instances,
        cause: `reconciler: ${a.why}`,
      });
      this.deps.log.info({ app: a.app, deploymentId: started.id, why: a.why }, 'healing');
      // A heal after a failed one has no container to read: the last lines seen stay.
      const lines = logTail?.length ? logTail : this.#healing.get(a.app)?.logTail;
      this.#healing.set(a.app, {
        state: 'healing',
        reason: a.why,
        ...(lines?.length ? { logTail: lines } : {}),
        ...(a.crash && backoff ? { streak: backoff.streak } : {}),
        at: new Date(this.deps.clock.now()).toISOString(),
      });
    } catch (err) {
      // The app's lock is taken (an API deploy, a rotation): that deployment heals it.
      if (err instanceof GlintError && err.code === StateErrorCode.DeploymentInProgress) return;
      throw err;
    }
  }

  async #removeUndeclared(app: string, containers: ReconcileContainer[]): Promise<void> {
    this.deps.log.warn(
      { app, containers: containers.map((c) => c.containerId.slice(0, 12)) },
      'removing the containers of an app that is no longer declared',
    );
    const results = await Promise.allSettled(containers.map((c) => this.deps.retireUndeclared(c)));
    for (const r of results)
      if (r.status === 'rejected')
        this.deps.log.warn({ app, err: r.reason }, 'removing a container failed; next pass tries again');
    this.#undeclaredSince.delete(app);
    this.#healing.delete(app);
  }

  #wakeAt(app: string, at: number): void {
    clearTimeout(this.#timers.get(app));
    const delay = Math.max(0, at - this.deps.clock.now()) + 5;
    this.#timers.set(
      app,
      setTimeout(() => {
        this.#timers.delete(app);
        this.poke(app);
      }, delay),
    );
  }
}
