import { EventEmitter } from 'node:events';
import type { ServiceFrontends } from '../config/index.ts';
import { GlintError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { silentLogger } from '../log/index.ts';
import {
  appsAffectedBy,
  type ConfigChangeReason,
  diffMirrors,
  inputsChangedSince,
  type Mirror,
  servicesReferencedBy,
  snapshotFromMirror,
  type WatchedApp,
} from './config-mirror.ts';
import { resolveEnvSnapshot } from './env-snapshot.ts';
import type { EtcdClient, WatchEvent, WatchHandle } from './etcd-client.ts';
import { KeyedDebouncer } from './keyed-debouncer.ts';
import { prefixEnd } from './txn.ts';

export type ConfigChangeEvent = {
  app: string;
  /** etcd revision of the newest change in the window; resolve the env at or after it. */
  revision: number;
  /** Why, first cause first (config, secret, service, resync). */
  reason: ConfigChangeReason;
  reasons: ConfigChangeReason[];
  /** Keys that changed (names only, never values). */
  keys: string[];
  /** Fingerprint of the new env; absent when it can't be resolved (see `error`). */
  fingerprint?: string;
  /** Why the new env can't be resolved (e.g. InvalidVariableName), for the deployment record. */
  error?: { code: string; message: string };
};

export type ConfigWatcherOptions = {
  apps: readonly WatchedApp[];
  /**
   * Every declared app's frontend port (watched or not), read at each resolution so a reloaded
   * declaration counts: what `{{service:x}}` expands to.
   */
  frontends: () => ServiceFrontends;
  /** One event per app per window. Default 500 ms. */
  debounceMs?: number;
  /** Also emit for apps declaring `onConfigChange: 'none'` (or `'ignore'`). Default false. */
  includeIgnored?: boolean;
  logger?: Logger;
};

type Pending = { reason: ConfigChangeReason; key: string; revision: number };
type WatcherEvents = { change: [ConfigChangeEvent] };

/**
 * Watches `<prefix>/config/`, `<prefix>/secrets/` and `<prefix>/services/`, keeps a mirror of
 * them and emits one `change` per app per debounce window when the app's resolved env
 * actually differs (a write of the same value, or a service that leaves and comes back
 * unchanged, emits nothing). etcd3 resumes watches from the last revision after a
 * disconnect; a compacted revision makes the watcher re-read everything and diff.
 */
export class ConfigWatcher extends EventEmitter<WatcherEvents> {
  readonly #client: EtcdClient;
  readonly #log: Logger;
  readonly #includeIgnored: boolean;
  readonly #debouncer: KeyedDebouncer<string, Pending>;
  #apps: readonly WatchedApp[];
  readonly #frontends: () => ServiceFrontends;
  #mirror: Mirror = new Map();
  #fingerprints = new Map<string, string>();
  #watches: WatchHandle[] = [];
  #revision = 0;
  #resyncing: Promise<void> | undefined;
  #stopped = false;

  constructor(client: EtcdClient, opts: ConfigWatcherOptions) {
    super();
    this.#client = client;
    this.#apps = opts.apps;
    this.#frontends = opts.frontends;
    this.#includeIgnored = opts.includeIgnored ?? false;
    this.#log = (opts.logger ?? silentLogger()).child({ component: 'config-watcher' });
    this.#debouncer = new KeyedDebouncer(opts.debounceMs ?? 500, (app, items) => {
      // Runs on a timer: anything thrown here would end the process.
      try {
        this.#flush(app, items);
      } catch (err) {
        this.#log.error({ err, app }, 'handling a config change failed; continuing');
      }
    });
  }

  /** Reads the current state (the baseline) and starts watching right after it. */
  async start(): Promise<void> {
    await this.#load();
    if (this.#stopped) return;
    for (const app of this.#apps) this.#remember(app);
  }

  /** Replaces the watched apps (declaration reloaded); new apps start from the current state. */
  setApps(apps: readonly WatchedApp[]): void {
    this.#apps = apps;
    for (const app of apps) if (!this.#fingerprints.has(app.name)) this.#remember(app);
  }

  /** The fingerprint of the app's env as last resolved (at start, or at its last change). */
  fingerprintOf(app: string): string | undefined {
    return this.#fingerprints.get(app);
  }

  /**
   * The app's env inputs written after `revision` (a release's read revision), by key, with the
   * newest one's revision: how a change made while no one watched is named.
   */
  changedSince(app: string, revision: number): { keys: string[]; revision: number } {
    const watched = this.#apps.find((a) => a.name === app);
    const changed = watched ? inputsChangedSince(this.#client.keys, this.#mirror, watched, revision) : [];
    return { keys: changed.map((kv) => kv.key), revision: changed.at(-1)?.modRevision ?? this.#revision };
  }

  /** The newest etcd revision this watcher has seen. */
  get revision(): number {
    return this.#revision;
  }

  /** Stops watching; a start or re-read still in flight opens no watch after this. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#debouncer.cancelAll();
    await this.#cancelWatches();
  }

  async #load(): Promise<void> {
    const k = this.#client.keys;
    const roots = [k.configRoot(), k.secretsRoot(), k.servicesRoot()].sort();
    const res = await this.#client.txn(
      { compare: [], success: roots.map((key) => ({ type: 'get', key, prefix: true })) },
      'reading config, secrets and services',
    );
    // stop() ran while we read: opening the watch now would leak it.
    if (this.#stopped) return;
    this.#mirror = new Map(res.responses.flatMap((r) => r.kvs ?? []).map((kv) => [kv.key, kv]));
    this.#revision = res.revision;
    // One watch over the range from the first root to the end of the last (config/, secrets/,
    // services/ sort together; state/ sorts after them, so the engine's writes never wake us),
    // rather than one per root: etcd3 mishandles cancelling sibling watchers that etcd is
    // cancelling itself (compaction after a reconnect). Foreign keys between roots are dropped.
    const isMirrored = (key: string) => roots.some((root) => key.startsWith(root));
    const range = { start: roots[0] ?? k.configRoot(), end: prefixEnd(roots[roots.length - 1] ?? '') };
    this.#watches = [
      this.#client.watchRange(range, res.revision + 1, {
        onEvents: (events, revision) =>
          this.#apply(
            events.filter((e) => isMirrored(e.kv.key)),
            revision,
          ),
        onCompacted: () => void this.#resync(),
        onDisconnected: (err) =>
          this.#log.warn({ err: err.message, range: range.start }, 'config watch disconnected; resuming'),
        onConnected: () => this.#log.debug({ range: range.start }, 'config watch connected'),
        onError: (err) => {
          this.#log.error({ err: err.message, range: range.start }, 'config watch failed; re-reading');
          void this.#resync();
        },
      }),
    ];
  }

  #apply(events: WatchEvent[], revision: number): void {
    this.#revision = Math.max(this.#revision, revision);
    for (const ev of events) {
      if (ev.type === 'delete') this.#mirror.delete(ev.kv.key);
      else this.#mirror.set(ev.kv.key, ev.kv);
      this.#touch(ev.kv.key, ev.kv.modRevision || revision, undefined);
    }
  }

  #touch(key: string, revision: number, reason: ConfigChangeReason | undefined): void {
    const refs = (app: WatchedApp) => servicesReferencedBy(this.#client.keys, this.#mirror, app);
    for (const hit of appsAffectedBy(this.#client.keys, key, this.#apps, refs)) {
      this.#debouncer.add(hit.app, { reason: reason ?? hit.reason, key, revision });
    }
  }

  /** etcd compacted past our revision: re-read, diff against the mirror, watch again. */
  #resync(): Promise<void> {
    this.#resyncing ??= (async () => {
      this.#log.warn({ revision: this.#revision }, 'config watch revision compacted; re-reading');
      await this.#cancelWatches();
      const before = this.#mirror;
      while (!this.#stopped) {
        try {
          await this.#load();
          break;
        } catch (err) {
          // etcd unreachable: try again each second until it answers or we are stopped.
          this.#log.warn({ err }, 're-reading config failed; retrying');
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
      if (this.#stopped) return;
      for (const key of diffMirrors(before, this.#mirror)) this.#touch(key, this.#revision, 'resync');
    })().finally(() => {
      this.#resyncing = undefined;
    });
    return this.#resyncing;
  }

  async #cancelWatches(): Promise<void> {
    const watches = this.#watches;
    this.#watches = [];
    await Promise.all(watches.map((w) => w.cancel()));
  }

  #remember(app: WatchedApp): void {
    try {
      this.#fingerprints.set(app.name, this.#resolve(app).fingerprint);
    } catch {
      this.#fingerprints.delete(app.name);
    }
  }

  #resolve(app: WatchedApp) {
    const frontends = this.#frontends();
    return resolveEnvSnapshot(
      snapshotFromMirror(this.#client.keys, this.#mirror, app, this.#revision, frontends),
    );
  }

  #flush(name: string, items: Pending[]): void {
    const app = this.#apps.find((a) => a.name === name);
    if (!app || this.#stopped) return;
    const event = this.#eventFor(app, items);
    if (!event) return;
    if ((app.onConfigChange === 'none' || app.onConfigChange === 'ignore') && !this.#includeIgnored) {
      this.#log.info({ app: name, keys: event.keys }, 'config changed; app ignores config changes');
      return;
    }
    this.#log.info(
      { app: name, reason: event.reason, keys: event.keys, revision: event.revision },
      'config changed',
    );
    this.#emitChange(event);
  }

  /**
   * Calls every `change` listener, each on its own: one that throws or rejects is logged and
   * the others still hear about the change (EventEmitter.emit would stop at the first throw
   * and, on this timer, end the process).
   */
  #emitChange(event: ConfigChangeEvent): void {
    for (const listener of this.rawListeners('change')) {
      const failed = (err: unknown) =>
        this.#log.error({ err, app: event.app }, 'a config change listener failed; continuing');
      try {
        const result: unknown = listener.call(this, event);
        if (result instanceof Promise) result.catch(failed);
      } catch (err) {
        failed(err);
      }
    }
  }

  #eventFor(app: WatchedApp, items: Pending[]): ConfigChangeEvent | undefined {
    const reasons = [...new Set(items.map((i) => i.reason))];
    const base = {
      app: app.name,
      revision: Math.max(...items.map((i) => i.revision)),
      reason: reasons[0] ?? 'config',
      reasons,
      keys: [...new Set(items.map((i) => i.key))].sort(),
    } satisfies ConfigChangeEvent;
    try {
      const fingerprint = this.#resolve(app).fingerprint;
      if (this.#fingerprints.get(app.name) === fingerprint) return undefined;
      this.#fingerprints.set(app.name, fingerprint);
      return { ...base, fingerprint };
    } catch (err) {
      if (!(err instanceof GlintError)) throw err;
      // A referenced service with no instance left is usually a restart in progress: wait for it.
      if (err.code === 'ServiceReferenceUnresolved') {
        this.#log.warn(
          { app: app.name, err: err.message },
          'config changed but a referenced service is gone',
        );
        return undefined;
      }
      return { ...base, error: { code: err.code, message: err.message } };
    }
  }
}
