import {
  type AppRecord,
  AppRecordSchema,
  type DeploymentRecord,
  DeploymentRecordSchema,
  type EtcdClient,
  isTerminal,
  type KeyValue,
  type WatchHandle,
} from '../etcd/index.ts';
import type { Logger } from '../log/index.ts';
import { type RolloutEvent, RolloutEvents } from '../rollout/index.ts';
import { sleep } from '../time/index.ts';
import { appRecordEvents } from './app-record-events.ts';
import { deploymentRecordEvents } from './deployment-record-events.ts';

/** A watch that failed is opened again after this, from a fresh read. */
const RETRY_MS = 1_000;

/**
 * The event stream of a daemon that does not lead: the leader writes every change of a
 * deployment (and every config change on the app record) to etcd, so the events it emitted are
 * read back from there, with `deploymentRecordEvents` and `appRecordEvents` saying which. Started
 * while following, stopped on winning the election (the engine's own events take over).
 * Records already there when it starts are its baseline: nothing is told of them.
 */
export class FollowerEventFeed {
  readonly events = new RolloutEvents();
  readonly #etcd: EtcdClient;
  readonly #log: Logger;
  /** Live deployments as last seen, by key; ended ones are only remembered as ended. */
  readonly #live = new Map<string, DeploymentRecord>();
  readonly #ended = new Set<string>();
  /** Each app record's config changes as last seen, by key. */
  readonly #apps = new Map<string, AppRecord>();
  #watch: WatchHandle | undefined;
  /** Bumped by every start and stop: a read or retry of an older run opens no watch. */
  #run = 0;
  #running = false;

  constructor(etcd: EtcdClient, log: Logger) {
    this.#etcd = etcd;
    this.#log = log.child({ component: 'follower-events' });
  }

  get #root(): string {
    return `${this.#etcd.keys.prefix}/state/`;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const run = ++this.#run;
    void this.#follow(run, false);
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#run++;
    const watch = this.#watch;
    this.#watch = undefined;
    this.#live.clear();
    this.#ended.clear();
    this.#apps.clear();
    await watch?.cancel();
  }

  /** Reads the records (telling what changed since the last read, on a resumption), then watches. */
  async #follow(run: number, tell: boolean): Promise<void> {
    while (run === this.#run) {
      try {
        const { kvs, revision } = await this.#etcd.list(this.#root);
        if (run !== this.#run) return;
        this.#reread(kvs, tell);
        this.#watch = this.#etcd.watchPrefix(this.#root, revision + 1, {
          onEvents: (events) => {
            if (run !== this.#run) return;
            for (const ev of events) {
              if (ev.type === 'delete') this.#forget(ev.kv.key);
              else this.#take(ev.kv, true);
            }
          },
          // Changes may have been missed: read again and tell the difference.
          onCompacted: () => this.#resume(run),
          onError: (err) => {
            this.#log.warn({ err: err.message }, 'watching deployments failed; reading them again');
            this.#resume(run);
          },
        });
        this.#log.info({ revision }, 'following: events are read back from the records in etcd');
        return;
      } catch (err) {
        this.#log.warn({ err }, 'reading deployments for the event stream failed; trying again');
        tell = true;
        await sleep(RETRY_MS);
      }
    }
  }

  #resume(run: number): void {
    if (run !== this.#run) return;
    const watch = this.#watch;
    this.#watch = undefined;
    const next = ++this.#run;
    void watch?.cancel();
    void sleep(RETRY_MS).then(() => this.#follow(next, true));
  }

  /** Takes every record as now stored; records gone meanwhile are forgotten. */
  #reread(kvs: KeyValue[], tell: boolean): void {
    const present = new Set(kvs.map((kv) => kv.key));
    for (const key of [...this.#live.keys(), ...this.#ended, ...this.#apps.keys()])
      if (!present.has(key)) this.#forget(key);
    for (const kv of kvs) this.#take(kv, tell);
  }

  #forget(key: string): void {
    this.#live.delete(key);
    this.#ended.delete(key);
    this.#apps.delete(key);
  }

  #take(kv: KeyValue, tell: boolean): void {
    if (kv.key.startsWith(this.#etcd.keys.appsRoot())) this.#takeApp(kv, tell);
    else if (kv.key.startsWith(`${this.#root}deployments/`)) this.#takeDeployment(kv, tell);
  }

  #takeDeployment(kv: KeyValue, tell: boolean): void {
    // A finished deployment's record may still be written (its last log lines): it tells nothing new.
    if (this.#ended.has(kv.key)) return;
    const next = parsed(kv, (v) => DeploymentRecordSchema.parse(v));
    if (!next) return;
    if (tell) this.#emit(deploymentRecordEvents(this.#live.get(kv.key), next));
    if (isTerminal(next.state)) {
      this.#live.delete(kv.key);
      this.#ended.add(kv.key);
    } else this.#live.set(kv.key, next);
  }

  #takeApp(kv: KeyValue, tell: boolean): void {
    const next = parsed(kv, (v) => AppRecordSchema.parse(v));
    if (!next) return;
    if (tell) this.#emit(appRecordEvents(this.#apps.get(kv.key), next));
    // Only the config changes are compared: the releases and their env stay in etcd.
    this.#apps.set(kv.key, {
      app: next.app,
      history: [],
      updatedAt: next.updatedAt,
      ...(next.configChanges ? { configChanges: next.configChanges } : {}),
    });
  }

  #emit(events: RolloutEvent[]): void {
    for (const event of events) {
      try {
        // The pair is typed together in RolloutEvent; emit's overloads cannot see that.
        (this.events.emit as (type: string, payload: unknown) => boolean)(event.type, event.payload);
      } catch (err) {
        this.#log.warn({ err, type: event.type }, 'an event listener failed');
      }
    }
  }
}

/** A record that does not parse is not glint's to tell about (the state store reports it on read). */
function parsed<T>(kv: KeyValue, parse: (value: unknown) => T): T | undefined {
  try {
    return parse(JSON.parse(kv.value));
  } catch {
    return undefined;
  }
}
