import type { Logger } from '../log/index.ts';
import { silentLogger } from '../log/index.ts';
import type { EtcdClient } from './etcd-client.ts';
import { KeptLease } from './kept-lease.ts';
import { keySegments } from './keys.ts';
import { decodeServiceEntry, encodeServiceEntry, type ServiceEntry } from './service-entry.ts';

export type ServiceRegistryOptions = {
  /** Lease TTL: how long a dead daemon's instances stay listed. Default 10 s. */
  ttlSeconds?: number;
  logger?: Logger;
  /** Delay between attempts to get a new lease after losing one. Default 1 s. */
  retryDelayMs?: number;
};

/**
 * Ready instances in `<prefix>/services/<app>/<instance>`, all bound to one lease this daemon
 * keeps alive: if the daemon dies, its entries expire with the lease. When the lease is lost
 * (etcd down longer than the TTL) a new one is granted and every entry still registered here
 * is written again.
 */
export class EtcdServiceRegistry {
  readonly #client: EtcdClient;
  readonly #ttl: number;
  readonly #log: Logger;
  readonly #retryDelayMs: number;
  readonly #entries = new Map<string, ServiceEntry>();
  #lease: Promise<KeptLease> | undefined;
  #closed = false;

  constructor(client: EtcdClient, opts: ServiceRegistryOptions = {}) {
    this.#client = client;
    this.#ttl = opts.ttlSeconds ?? 10;
    this.#log = (opts.logger ?? silentLogger()).child({ component: 'service-registry' });
    this.#retryDelayMs = opts.retryDelayMs ?? 1_000;
  }

  async register(entry: ServiceEntry): Promise<void> {
    const key = this.#client.keys.service(entry.app, entry.instance);
    this.#entries.set(key, entry);
    const lease = await this.#currentLease();
    await this.#client.put(key, encodeServiceEntry(entry), { lease: lease.id });
    this.#log.info(
      { app: entry.app, instance: entry.instance, host: entry.host, port: entry.port },
      'registered',
    );
  }

  async deregister(app: string, instance: string): Promise<void> {
    const key = this.#client.keys.service(app, instance);
    this.#entries.delete(key);
    await this.#client.delete(key);
    this.#log.info({ app, instance }, 'deregistered');
  }

  /** Ready instances of `app`, as any daemon registered them, sorted by instance. */
  async list(app: string): Promise<ServiceEntry[]> {
    const { kvs } = await this.#client.list(this.#client.keys.servicesPrefix(app));
    return kvs.map((kv) => decodeServiceEntry(kv.key, kv.value));
  }

  /** Every registered instance, by app. */
  async listAll(): Promise<Map<string, ServiceEntry[]>> {
    const root = this.#client.keys.servicesRoot();
    const { kvs } = await this.#client.list(root);
    const out = new Map<string, ServiceEntry[]>();
    for (const kv of kvs) {
      const app = keySegments(root, kv.key)?.[0];
      if (!app) continue;
      out.set(app, [...(out.get(app) ?? []), decodeServiceEntry(kv.key, kv.value)]);
    }
    return out;
  }

  /** The lease id entries are bound to (for operators: `etcdctl lease timetolive`). */
  async leaseId(): Promise<string> {
    return (await this.#currentLease()).id;
  }

  /** Stops keepalives. `revoke` (default) removes this daemon's entries at once. */
  async close(opts: { revoke?: boolean } = {}): Promise<void> {
    this.#closed = true;
    const lease = await this.#lease?.catch(() => undefined);
    if (!lease) return;
    if (opts.revoke === false) lease.release();
    else await lease.revoke();
  }

  #currentLease(): Promise<KeptLease> {
    if (!this.#lease) {
      const pending = KeptLease.grant(this.#client, this.#ttl);
      this.#lease = pending;
      pending.then(
        (lease) => lease.once('lost', (reason) => this.#onLost(pending, reason)),
        () => {
          if (this.#lease === pending) this.#lease = undefined;
        },
      );
    }
    return this.#lease;
  }

  #onLost(lost: Promise<KeptLease>, reason: string): void {
    if (this.#closed || this.#lease !== lost) return;
    this.#lease = undefined;
    this.#log.warn({ reason, entries: this.#entries.size }, 'service lease lost; registering again');
    void this.#reregister();
  }

  async #reregister(): Promise<void> {
    while (!this.#closed) {
      try {
        const lease = await this.#currentLease();
        for (const [key, entry] of [...this.#entries]) {
          if (this.#entries.get(key) !== entry) continue;
          await this.#client.put(key, encodeServiceEntry(entry), { lease: lease.id });
        }
        this.#log.info({ entries: this.#entries.size }, 'service entries registered again');
        return;
      } catch (err) {
        // Retry forever at a fixed pace: etcd is down, and entries must come back when it is up.
        this.#log.warn({ err }, 're-registering service entries failed; retrying');
        await new Promise((r) => setTimeout(r, this.#retryDelayMs));
      }
    }
  }
}
