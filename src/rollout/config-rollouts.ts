import { type AppConfig, serviceFrontendsOf } from '../config/index.ts';
import { GlintError } from '../errors/index.ts';
import {
  type AppRecord,
  CONFIG_CHANGES_KEPT,
  type ConfigChange,
  type ConfigChangeEvent,
  ConfigWatcher,
  type DeploymentRecord,
  type DeploymentTrigger,
  type EtcdClient,
  KeyedSerial,
  StateErrorCode,
  type Versioned,
  type WatchedApp,
} from '../etcd/index.ts';
import type { Logger } from '../log/index.ts';
import { configChangedEvent } from './config-changed-event.ts';
import { type ConfigRolloutInput, decideConfigRollout } from './decide-config-rollout.ts';
import type { DeploymentRequest } from './deployment-request.ts';
import type { Clock } from './ports.ts';
import type { RolloutEvents } from './rollout-events.ts';

export type ConfigRolloutsDeps = {
  etcd: EtcdClient;
  apps: () => Readonly<Record<string, AppConfig>>;
  engine: {
    startDeployment(app: string, request: DeploymentRequest): Promise<DeploymentRecord>;
    readonly events: RolloutEvents;
  };
  store: {
    getApp(app: string): Promise<Versioned<AppRecord> | undefined>;
    saveApp(record: AppRecord, opts: { expectedModRevision: number }): Promise<number>;
    activeDeployment(app: string): Promise<string | undefined>;
    listDeployments(app: string, opts?: { limit?: number }): Promise<DeploymentRecord[]>;
  };
  clock: Clock;
  log: Logger;
  /** The watcher's window: a burst of puts inside it is one change. Default 500 ms. */
  debounceMs?: number;
};

/** A change that waits for the app's active deployment to end; later changes merge into it. */
type Queued = { trigger: DeploymentTrigger; wanted: ConfigRolloutInput['wanted'] };

/** Writes to the app record that lost a race with another writer are tried again this often. */
const RECORD_ATTEMPTS = 5;
const KEYS_IN_CAUSE = 5;

/**
 * The leader's ear on etcd: a change of an app's env (config, shared config, secrets, services
 * it references) becomes a `config` deployment, or is recorded only (`onConfigChange: 'none'`),
 * or waits for the app's active deployment to end. Every change and what it did is kept on the
 * app record. The decision itself is `decideConfigRollout`; this is the shell around it.
 */
export class ConfigRollouts {
  readonly #deps: ConfigRolloutsDeps;
  readonly #log: Logger;
  readonly #serial = new KeyedSerial<string>();
  readonly #queued = new Map<string, Queued>();
  #watcher: ConfigWatcher | undefined;

  constructor(deps: ConfigRolloutsDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ component: 'config-rollouts' });
  }

  /**
   * Starts watching from etcd's state now. Changes before it are the declaration's business
   * (enforced just before); one that came between that and this is caught up here.
   */
  async start(): Promise<void> {
    if (this.#watcher) return;
    const watcher = new ConfigWatcher(this.#deps.etcd, {
      apps: this.#watched(),
      // Every declared app, watched or not, may be another's {{service:x}}.
      frontends: () => serviceFrontendsOf(this.#deps.apps()),
      // Apps that say 'none' are heard too: their changes are recorded.
      includeIgnored: true,
      logger: this.#deps.log,
      ...(this.#deps.debounceMs === undefined ? {} : { debounceMs: this.#deps.debounceMs }),
    });
    watcher.on('change', (event) => this.#changed(event));
    this.#deps.engine.events.on('deployment:finished', this.#finished);
    this.#watcher = watcher;
    await watcher.start();
    for (const { name } of this.#watched())
      void this.#serial
        .run(name, () => this.#catchUp(name))
        .catch((err) => this.#log.warn({ err, app: name }, 'catching up on config changes failed'));
  }

  /** Stops watching and forgets queued changes: the next leader reads etcd afresh. */
  async stop(): Promise<void> {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    this.#deps.engine.events.off('deployment:finished', this.#finished);
    this.#queued.clear();
    await watcher?.stop();
  }

  /** Takes the reloaded declaration's apps (added, removed, `onConfigChange` changed). */
  reload(): void {
    this.#watcher?.setApps(this.#watched());
  }

  #watched(): WatchedApp[] {
    return Object.entries(this.#deps.apps())
      .filter(([, config]) => config.etcdConfig)
      .map(([name, config]) => ({ name, staticEnv: config.env, onConfigChange: config.onConfigChange }));
  }

  #changed(event: ConfigChangeEvent): Promise<void> {
    const trigger: DeploymentTrigger = {
      source: 'etcd',
      keys: event.keys.map((k) => this.#relative(k)),
      revision: event.revision,
      reasons: event.reasons,
    };
    const wanted = event.fingerprint
      ? { fingerprint: event.fingerprint }
      : { error: event.error?.message ?? 'unknown error' };
    return this.#serial.run(event.app, () => this.#handle(event.app, { trigger, wanted }));
  }

  /** A key as records show it: without the installation's prefix. */
  #relative(key: string): string {
    const prefix = `${this.#deps.etcd.keys.prefix}/`;
    return key.startsWith(prefix) ? key.slice(prefix.length) : key;
  }

  /**
   * An app whose env in etcd differs from the release it runs, and from what its newest
   * deployment rolls out or tried to (a failed one would only fail again), changed while no
   * one watched: that is rolled out as a change.
   */
  async #catchUp(app: string): Promise<void> {
    const watcher = this.#watcher;
    const wanted = watcher?.fingerprintOf(app);
    if (!watcher || !wanted || this.#deps.apps()[app]?.onConfigChange !== 'rotate') return;
    const running = (await this.#deps.store.getApp(app))?.record.current?.env;
    // No release yet: the app's first deployment reads the env itself.
    if (!running || running.fingerprint === wanted) return;
    const [newest] = await this.#deps.store.listDeployments(app, { limit: 1 });
    if (newest?.to.env.fingerprint === wanted) return;
    const changed = watcher.changedSince(app, running.readRevision);
    const trigger: DeploymentTrigger = {
      source: 'etcd',
      keys: changed.keys.map((k) => this.#relative(k)),
      revision: changed.revision,
      reasons: ['resync'],
    };
    await this.#handle(app, { trigger, wanted: { fingerprint: wanted } });
  }

  readonly #finished = (record: DeploymentRecord): void => this.#drainLater(record.app);

  #drainLater(app: string): void {
    if (!this.#queued.has(app)) return;
    void this.#serial
      .run(app, () => this.#drain(app))
      .catch((err) => this.#log.error({ err, app }, 'rolling out a queued config change failed'));
  }

  /** Rolls out the app's queued change, if its deployment ended and the env still differs. */
  async #drain(app: string): Promise<void> {
    const queued = this.#queued.get(app);
    if (!queued || !this.#watcher) return;
    // Another deployment took the lock meanwhile: its end brings us back.
    if (await this.#deps.store.activeDeployment(app)) return;
    this.#queued.delete(app);
    const [last] = await this.#deps.store.listDeployments(app, { limit: 1 });
    const lastRolledOut = last
      ? { deploymentId: last.id, fingerprint: last.to.env.fingerprint, state: last.state }
      : undefined;
    await this.#handle(app, queued, lastRolledOut);
  }

  async #handle(app: string, change: Queued, lastRolledOut?: ConfigRolloutInput['lastRolledOut']) {
    const config = this.#deps.apps()[app];
    if (!config || !this.#watcher) return;
    const waiting = this.#queued.get(app);
    const active = waiting !== undefined || (await this.#deps.store.activeDeployment(app)) !== undefined;
    const running = (await this.#deps.store.getApp(app))?.record.current?.env.fingerprint;
    const decision = decideConfigRollout({
      policy: config.onConfigChange,
      wanted: change.wanted,
      active,
      running,
      lastRolledOut,
    });
    const { trigger, wanted } = change;
    const entry = (
      outcome: ConfigChange['outcome'],
      message: string,
      deploymentId?: string,
    ): ConfigChange => ({
      at: new Date(this.#deps.clock.now()).toISOString(),
      revision: trigger.revision,
      keys: trigger.keys,
      ...('fingerprint' in wanted ? { fingerprint: wanted.fingerprint } : {}),
      outcome,
      message,
      ...(deploymentId ? { deploymentId } : {}),
    });
    this.#log.info({ app, keys: trigger.keys, revision: trigger.revision, ...decision }, 'config change');
    if (decision.outcome === 'queued') {
      this.#queue(app, change);
      return this.#record(app, entry('queued', decision.message));
    }
    if (decision.outcome !== 'started') return this.#record(app, entry(decision.outcome, decision.message));
    try {
      const started = await this.#deps.engine.startDeployment(app, {
        kind: 'config',
        cause: causeOf(trigger),
        trigger,
      });
      await this.#record(app, entry('started', decision.message, started.id));
    } catch (err) {
      if (err instanceof GlintError && err.code === StateErrorCode.DeploymentInProgress) {
        this.#queue(app, change);
        return this.#record(app, entry('queued', err.message));
      }
      const message = err instanceof Error ? err.message : String(err);
      this.#log.warn({ app, err: message }, 'a config deployment could not start');
      await this.#record(app, entry('failed', `the deployment could not start: ${message}`));
    }
  }

  /** Keeps the change for after the active deployment; one that came before it merges in. */
  #queue(app: string, change: Queued) {
    const before = this.#queued.get(app);
    this.#queued.set(app, {
      wanted: change.wanted,
      trigger: before
        ? {
            ...change.trigger,
            keys: [...new Set([...before.trigger.keys, ...change.trigger.keys])].sort(),
            revision: Math.max(before.trigger.revision, change.trigger.revision),
            reasons: [...new Set([...before.trigger.reasons, ...change.trigger.reasons])],
          }
        : change.trigger,
    });
    // The deployment may have ended while we decided: its event came before the queue had this.
    void this.#deps.store
      .activeDeployment(app)
      .then((id) => (id ? undefined : this.#drainLater(app)))
      .catch((err) => this.#log.warn({ err, app }, 'reading the active deployment failed'));
  }

  /**
   * Records the change, then tells it as `config:changed`: a client that reads the app record on
   * the event finds the change there, and followers derive the same event from that record.
   */
  async #record(app: string, change: ConfigChange): Promise<void> {
    await this.#save(app, change);
    this.#deps.engine.events.emit('config:changed', configChangedEvent(app, change));
  }

  /** Puts the change on the app record, newest first; a race with another writer is retried. */
  async #save(app: string, change: ConfigChange): Promise<void> {
    for (let attempt = 1; attempt <= RECORD_ATTEMPTS; attempt++) {
      const found = await this.#deps.store.getApp(app);
      const base: AppRecord = found?.record ?? { app, history: [], updatedAt: change.at };
      const next: AppRecord = {
        ...base,
        configChanges: [change, ...(base.configChanges ?? [])].slice(0, CONFIG_CHANGES_KEPT),
        updatedAt: change.at,
      };
      try {
        await this.#deps.store.saveApp(next, { expectedModRevision: found?.modRevision ?? 0 });
        return;
      } catch (err) {
        if (err instanceof GlintError && err.code === StateErrorCode.Conflict && attempt < RECORD_ATTEMPTS)
          continue;
        this.#log.warn({ err, app, revision: change.revision }, 'could not record a config change');
        return;
      }
    }
  }
}

function causeOf(trigger: DeploymentTrigger): string {
  const unwatched = trigger.reasons.includes('resync');
  if (trigger.keys.length === 0)
    return `config in etcd changed while no daemon watched (revision ${trigger.revision})`;
  const keys = trigger.keys.slice(0, KEYS_IN_CAUSE).join(', ');
  const more = trigger.keys.length > KEYS_IN_CAUSE ? ` and ${trigger.keys.length - KEYS_IN_CAUSE} more` : '';
  const when = unwatched ? ' while no daemon watched' : '';
  return `config change in etcd${when} at revision ${trigger.revision}: ${keys}${more}`;
}
