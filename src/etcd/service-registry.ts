import type { Logger } from '../log/index.ts';
import { silentLogger } from '../log/index.ts';
import type { EtcdClient } from './etcd-client.ts';
import { KeptLease } from './kept-lease.ts';
import { KeyedSerial } from './keyed-serial.ts';
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
  readonly #serial = new KeyedSerial<string>();
  #lease: Promise<KeptLease> | undefined;
  #closed = false;

  constructor(client: EtcdClient, opts: ServiceRegistryOptions = {}) {
    this.#client = client;
    this.#ttl = opts.ttlSeconds ?? 10;
    this.#log = (opts.logger ?? silentLogger()).child({ component: 'service-registry' });
    this.#retryDelayMs = opts.retryDelayMs ?? 1_000;
  }

  /**
   * Writes the entry under this daemon's lease and remembers it for re-registering, but only
   * once the write succeeded: an entry the caller was told failed never comes back later.
   */
  async register(entry: ServiceEntry): Promise<void> {
    const key = this.#client.keys.service(entry.app, entry.instance);
    const value = encodeServiceEntry(entry);
    await this.#serial.run(key, async () => {
      try {
        await this.#putUnderCurrentLease(key, value);
      } catch (err) {
        // The put may have landed although we saw an error (a timeout): take it back.
        this.#entries.delete(key);
        await this.#client.delete(key).catch(() => undefined);
        throw err;
      }
      this.#entries.set(key, entry);
    });
    this.#log.info(
      { app: entry.app, instance: entry.instance, host: entry.host, port: entry.port },
      'registered',
    );
  }

  /** Removes the entry; waits for any register or re-register of the same key still in flight. */
  async deregister(app: string, instance: string): Promise<void> {
    const key = this.#client.keys.service(app, instance);
    await this.#serial.run(key, async () => {
      this.#entries.delete(key);
      await this.#client.delete(key);
    });
    this.#log.info({ app, instance }, 'deregistered');
  }

  /**
   * Ready instances of `app`, as any daemon registered them, sorted by instance. A value that
   * is not a glint entry (another program's key, a hand edit) is skipped and logged by key, so
   * one stray key can't hide every instance of the app.
   */
  async list(app: string): Promise<ServiceEntry[]> {
    const { kvs } = await this.#client.list(this.#client.keys.servicesPrefix(app));
    const entries: ServiceEntry[] = [];
    for (const kv of kvs) {
      try {
        entries.push(decodeServiceEntry(kv.key, kv.value));
      } catch (err) {
        this.#log.warn(
          { key: kv.key, err: err instanceof Error ? err.message : String(err) },
          'skipping a registry key that does not hold a glint service entry',
        );
      }
    }
    return entries;
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

  /**
   * Puts under the current lease. If that lease is lost while the put is in flight, the
   * re-register pass may already have run without this key, so write again under the new one.
   */
  async #putUnderCurrentLease(key: string, value: string): Promise<void> {
    for (;;) {
      const pending = this.#currentLease();
      const lease = await pending;
      await this.#client.put(key, value, { lease: lease.id });
      if (this.#closed || this.#lease === pending) return;
    }
  }

  async #reregister(): Promise<void> {
    while (!this.#closed) {
      try {
        const pending = this.#currentLease();
        const lease = await pending;
        for (const key of [...this.#entries.keys()]) {
          // A newer lease has its own pass.
          if (this.#lease !== pending) return;
          await this.#serial.run(key, async () => {
            const entry = this.#entries.get(key);
            if (!entry) return; // deregistered while this pass waited for the key
            await this.#client.put(key, encodeServiceEntry(entry), { lease: lease.id });
          });
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
