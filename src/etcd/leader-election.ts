import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { Logger } from '../log/index.ts';
import { silentLogger } from '../log/index.ts';
import type { EtcdClient, WatchEvent, WatchHandle } from './etcd-client.ts';
import { KeptLease } from './kept-lease.ts';
import { type LeaderGuard, notLeaderError } from './leader-guard.ts';
import type { KeyValue } from './txn.ts';

export const LeaderInfoSchema = z.object({ id: z.string(), address: z.string(), since: z.string() });
/** What the leader key holds: who leads and where followers send writes. */
export type LeaderInfo = z.infer<typeof LeaderInfoSchema>;

export type LeaderElectionOptions = {
  /** Unique per daemon (e.g. hostname + pid). */
  id: string;
  /** This daemon's advertised API address, handed to followers' clients. */
  address: string;
  /** Lease TTL: the longest a dead leader blocks a successor. Default 10 s. */
  ttlSeconds?: number;
  retryDelayMs?: number;
  logger?: Logger;
};

type ElectionEvents = { elected: [guard: LeaderGuard]; deposed: [reason: string] };

/**
 * Campaigns on `<prefix>/state/leader` with a lease. The holder leads until its lease may
 * have expired (checked locally against the keepalive deadline, not etcd3's late report) or
 * the key changes; it then emits `deposed`, stops acting and campaigns again. It never exits.
 */
export class LeaderElection extends EventEmitter<ElectionEvents> {
  readonly #client: EtcdClient;
  readonly #opts: Required<Omit<LeaderElectionOptions, 'logger'>>;
  readonly #log: Logger;
  #lease: KeptLease | undefined;
  #guard: LeaderGuard | undefined;
  #known: LeaderInfo | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  /** One watch on the leader key for the life of the election, reopened only when etcd drops it. */
  #watch: WatchHandle | undefined;
  /** Newest revision at which the watch saw the leader key change. */
  #changedAt = 0;

  constructor(client: EtcdClient, opts: LeaderElectionOptions) {
    super();
    this.#client = client;
    this.#opts = { ttlSeconds: 10, retryDelayMs: 1_000, ...opts };
    this.#log = (opts.logger ?? silentLogger()).child({ component: 'leader-election', id: opts.id });
  }

  start(): void {
    this.#running ??= this.#run();
  }

  isLeader(): boolean {
    return this.#guard !== undefined && this.#lease?.isAlive() === true;
  }

  /** The guard for leader-only writes; throws NotLeader when this daemon does not lead. */
  guard(doing = 'writing'): LeaderGuard {
    if (!this.isLeader() || !this.#guard) throw notLeaderError(doing, { leader: this.#known?.address });
    return this.#guard;
  }

  /** The current leader as etcd sees it now (followers answer 503 with its address). */
  async leader(): Promise<LeaderInfo | undefined> {
    const kv = await this.#client.get(this.#client.keys.leader());
    this.#known = parseLeader(kv);
    return this.#known;
  }

  /** The leader last seen by this daemon, without asking etcd. */
  knownLeader(): LeaderInfo | undefined {
    return this.#known;
  }

  /** Stops campaigning; a leader resigns at once (its key goes with the lease). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#running;
    if (this.#guard) this.#depose('stopped');
    const watch = this.#watch;
    this.#watch = undefined;
    await watch?.cancel();
    await this.#lease?.revoke();
    this.#lease = undefined;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#round();
      } catch (err) {
        if (this.#guard) this.#depose('etcd error while leading');
        this.#log.warn({ err }, 'leader election round failed; campaigning again');
        await this.#sleep(this.#opts.retryDelayMs);
      }
    }
  }

  async #round(): Promise<void> {
    const lease = await this.#ensureLease();
    const key = this.#client.keys.leader();
    const info: LeaderInfo = {
      id: this.#opts.id,
      address: this.#opts.address,
      since: new Date().toISOString(),
    };
    const res = await this.#client.txn(
      {
        compare: [{ key, target: 'create', op: '==', value: 0 }],
        success: [{ type: 'put', key, value: JSON.stringify(info), lease: lease.id }],
        failure: [{ type: 'get', key }],
      },
      'campaigning for leadership',
    );
    const holder = res.responses[0]?.kvs?.[0];
    if (res.succeeded) return this.#lead(lease, res.revision, info);
    if (holder && holder.lease === lease.id)
      return this.#lead(lease, holder.createRevision, parseLeader(holder));
    this.#known = parseLeader(holder);
    await this.#waitForChange(lease, res.revision);
  }

  async #lead(lease: KeptLease, createRevision: number, info: LeaderInfo | undefined): Promise<void> {
    this.#guard = { key: this.#client.keys.leader(), createRevision, leaderId: this.#opts.id };
    this.#known = info;
    this.#log.info({ createRevision }, 'elected leader');
    this.emit('elected', this.#guard);
    let seen = createRevision;
    while (!this.#stopped && this.#guard) {
      await this.#waitForChange(lease, seen);
      if (this.#stopped) return;
      if (!lease.isAlive()) return this.#depose('leader lease expired');
      const read = await this.#client.list(this.#client.keys.leader()).catch(() => undefined);
      if (!read) continue; // etcd unreachable: the lease deadline decides.
      seen = read.revision;
      if (read.kvs[0]?.createRevision !== createRevision) return this.#depose('leader key was replaced');
    }
  }

  #depose(reason: string): void {
    if (!this.#guard) return;
    this.#guard = undefined;
    this.#log.warn({ reason }, 'deposed');
    this.emit('deposed', reason);
  }

  async #ensureLease(): Promise<KeptLease> {
    if (this.#lease?.isAlive()) return this.#lease;
    const old = this.#lease;
    this.#lease = undefined;
    // A lease we gave up on may still be alive at etcd and hold the key: free it.
    if (old) await old.revoke();
    const lease = await KeptLease.grant(this.#client, this.#opts.ttlSeconds);
    lease.once('lost', () => {
      if (this.#guard && this.#lease === lease) this.#depose('leader lease expired');
      this.#wake?.();
    });
    this.#lease = lease;
    return lease;
  }

  /** Returns on a change of the leader key after `revision`, lease loss, stop, or a re-check tick. */
  async #waitForChange(lease: KeptLease, revision: number): Promise<void> {
    if (this.#stopped || !lease.isAlive()) return;
    this.#ensureWatch(revision);
    if (this.#changedAt > revision) return;
    const tickMs = Math.max(200, (this.#opts.ttlSeconds * 1000) / 3);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, tickMs);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = undefined;
  }

  /**
   * Opens the leader-key watch if none is open, from just after `revision` (what the caller
   * last read). It stays open across rounds: opening and cancelling one per tick fed etcd3's
   * race between a client cancel and etcd's own ("Failed to find watcher").
   */
  #ensureWatch(revision: number): void {
    if (this.#watch || this.#stopped) return;
    const key = this.#client.keys.leader();
    const handle: WatchHandle = this.#client.watchRange({ start: key, end: `${key}\0` }, revision + 1, {
      onEvents: (events, revision) => {
        if (events.length === 0) return;
        const changedAt = events.map((e: WatchEvent) => e.kv.modRevision || revision);
        this.#changedAt = Math.max(this.#changedAt, ...changedAt);
        this.#wake?.();
      },
      // etcd dropped the watch (compacted start revision, or cancelled): the woken round
      // re-reads the key and the next wait opens a new watch from that read.
      onCompacted: () => this.#dropWatch(handle),
      onError: (err) => {
        this.#log.warn({ err: err.message }, 'leader key watch failed; re-reading');
        this.#dropWatch(handle);
      },
    });
    this.#watch = handle;
  }

  #dropWatch(handle: WatchHandle): void {
    if (this.#watch === handle) this.#watch = undefined;
    this.#wake?.();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function parseLeader(kv: KeyValue | undefined): LeaderInfo | undefined {
  if (!kv) return undefined;
  try {
    return LeaderInfoSchema.parse(JSON.parse(kv.value));
  } catch {
    return { id: 'unknown', address: kv.value, since: '' };
  }
}
