import type { Logger } from '../log/index.ts';
import { appOfKey } from './app-of-key.ts';
import type { EtcdClient, WatchHandle } from './etcd-client.ts';
import type { ServiceEntry } from './service-entry.ts';
import type { AppRecord, DeploymentRecord, Versioned } from './state-records.ts';

/** The reads the cache answers; the etcd state store and service registry fit it. */
export type CachedSources = {
  getApp(app: string): Promise<Versioned<AppRecord> | undefined>;
  getDeployment(app: string, id: string): Promise<Versioned<DeploymentRecord> | undefined>;
  activeDeployment(app: string): Promise<string | undefined>;
  listDeployments(app: string, opts?: { limit?: number }): Promise<DeploymentRecord[]>;
  ready(app: string): Promise<ServiceEntry[]>;
};

/**
 * Answers the API's reads of glint's records from memory, and forgets an app's answers the
 * moment etcd reports a change under any of its keys (one watch on the whole prefix). A
 * hundred apps make `GET /v1/apps` three hundred etcd reads; under load those would queue
 * without end. Concurrent reads of one thing share one etcd read. A read that found nothing is
 * not kept, so a deployment created a moment ago is found even before its watch event.
 */
export class StateReadCache implements CachedSources {
  readonly #entries = new Map<string, Map<string, Promise<unknown>>>();
  #watch: WatchHandle | undefined;
  #generation = 0;

  constructor(
    private readonly etcd: EtcdClient,
    private readonly sources: CachedSources,
    private readonly log: Logger,
  ) {}

  /** Watches from now on; until then (and after `stop`) every read goes to etcd. */
  async start(): Promise<void> {
    const { revision } = await this.etcd.list(this.etcd.keys.leader());
    this.#watch = this.etcd.watchPrefix(`${this.etcd.keys.prefix}/`, revision + 1, {
      onEvents: (events) => {
        for (const ev of events) {
          const app = appOfKey(this.etcd.keys, ev.kv.key);
          if (app) this.#forget(app);
        }
      },
      // Events may have been missed: nothing cached can be trusted.
      onCompacted: () => this.#forget(),
      onDisconnected: () => this.#forget(),
      onError: (err) => {
        this.log.warn({ err }, 'state cache: watch failed; reading etcd directly');
        this.#forget();
      },
    });
  }

  async stop(): Promise<void> {
    const watch = this.#watch;
    this.#watch = undefined;
    this.#forget();
    await watch?.cancel();
  }

  /**
   * Changes each time something cached is forgotten; undefined while not watching. An answer
   * built from the cache stays right for as long as this stays the same.
   */
  generation(): number | undefined {
    return this.#watch ? this.#generation : undefined;
  }

  #forget(app?: string) {
    this.#generation++;
    if (app) this.#entries.delete(app);
    else this.#entries.clear();
  }

  getApp(app: string) {
    return this.#read(app, 'app', () => this.sources.getApp(app));
  }

  getDeployment(app: string, id: string) {
    return this.#read(app, `deployment\0${id}`, () => this.sources.getDeployment(app, id));
  }

  activeDeployment(app: string) {
    return this.#read(app, 'active', () => this.sources.activeDeployment(app));
  }

  listDeployments(app: string, opts: { limit?: number } = {}) {
    return this.#read(app, `list\0${opts.limit ?? ''}`, () => this.sources.listDeployments(app, opts));
  }

  ready(app: string) {
    return this.#read(app, 'ready', () => this.sources.ready(app));
  }

  #read<T>(app: string, what: string, load: () => Promise<T>): Promise<T> {
    if (!this.#watch) return load();
    let forApp = this.#entries.get(app);
    const cached = forApp?.get(what) as Promise<T> | undefined;
    if (cached) return cached;
    if (!forApp) {
      forApp = new Map();
      this.#entries.set(app, forApp);
    }
    const entries = forApp;
    const loading = load();
    entries.set(what, loading);
    // Failures and "nothing there" are not kept: the next read asks etcd again.
    const forget = () => {
      if (entries.get(what) === loading) entries.delete(what);
    };
    loading.then((v) => (v === undefined ? forget() : undefined), forget);
    return loading;
  }
}
