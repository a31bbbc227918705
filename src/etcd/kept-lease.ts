import { EventEmitter } from 'node:events';
import type { Lease } from 'etcd3';
import { TransientError } from '../errors/index.ts';
import type { EtcdClient } from './etcd-client.ts';
import { EtcdErrorCode, translateEtcdError } from './etcd-errors.ts';

type KeptLeaseEvents = { lost: [reason: string] };

/**
 * An etcd lease kept alive in the background whose loss is noticed in time. etcd3 reports a
 * lost lease late (about 2×TTL), which is too late for a leader, so this tracks the latest
 * moment etcd can still hold the lease (send time of the last acknowledged keepalive + TTL)
 * and declares it lost when that passes, even if no error arrived yet.
 */
export class KeptLease extends EventEmitter<KeptLeaseEvents> {
  readonly id: string;
  readonly ttlSeconds: number;
  readonly #lease: Lease;
  #deadline: number;
  #lastFiredAt: number;
  #timer: NodeJS.Timeout | undefined;
  #lost = false;

  private constructor(lease: Lease, id: string, ttlSeconds: number, grantedSince: number) {
    super();
    this.#lease = lease;
    this.id = id;
    this.ttlSeconds = ttlSeconds;
    this.#lastFiredAt = grantedSince;
    this.#deadline = grantedSince + ttlSeconds * 1000;
    lease.on('keepaliveFired', () => {
      this.#lastFiredAt = Date.now();
    });
    lease.on('keepaliveSucceeded', (res) => this.#extend(Number(res.TTL)));
    lease.on('lost', (err) => this.#markLost(`etcd reported the lease lost: ${err.message}`));
    this.#arm();
  }

  static async grant(client: EtcdClient, ttlSeconds: number): Promise<KeptLease> {
    const since = Date.now();
    const lease = client.rawLease(ttlSeconds);
    // etcd3 emits 'lost' when the grant fails; the rejected grant() below reports it instead.
    lease.on('lost', () => undefined);
    let id: string;
    try {
      id = await lease.grant();
    } catch (err) {
      lease.release();
      throw translateEtcdError(err, 'granting a lease');
    }
    return new KeptLease(lease, id, ttlSeconds, since);
  }

  /** True until the lease may have expired at etcd. */
  isAlive(): boolean {
    if (!this.#lost && Date.now() >= this.#deadline)
      this.#markLost('no keepalive acknowledged within the TTL');
    return !this.#lost;
  }

  /** Milliseconds since epoch after which etcd may have dropped the lease. */
  get deadline(): number {
    return this.#deadline;
  }

  /** Ends the lease now: its keys disappear at once. */
  async revoke(): Promise<void> {
    this.#stop();
    this.#lost = true;
    await this.#lease.revoke().catch(() => undefined);
  }

  /** Stops keepalives and lets the lease expire by itself. */
  release(): void {
    this.#stop();
    this.#lost = true;
    this.#lease.release();
  }

  throwIfLost(doing: string): void {
    if (!this.isAlive()) {
      throw new TransientError(EtcdErrorCode.LeaseLost, `the etcd lease expired before ${doing}`);
    }
  }

  #extend(ttlSeconds: number): void {
    if (this.#lost) return;
    if (ttlSeconds <= 0) {
      this.#markLost('etcd says the lease expired');
      return;
    }
    this.#deadline = Math.max(this.#deadline, this.#lastFiredAt + ttlSeconds * 1000);
    this.#arm();
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.isAlive(), Math.max(0, this.#deadline - Date.now()) + 5);
    this.#timer.unref();
  }

  #markLost(reason: string): void {
    if (this.#lost) return;
    this.#stop();
    this.#lost = true;
    this.#lease.release();
    this.emit('lost', reason);
  }

  #stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
