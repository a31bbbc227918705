import { type DeploymentRecord, isTerminal, type Versioned } from '../etcd/index.ts';

import type { Clock, DeploymentStore } from './ports.ts';

/** The longest a change from `updateLater` waits for a write to join. */
const LATER_MS = 100;

type Pending = {
  change: (record: DeploymentRecord) => DeploymentRecord;
  resolve: (record: DeploymentRecord) => void;
  reject: (err: unknown) => void;
};

/**
 * The one writer of a deployment's record while it runs. Changes are applied in call order and
 * each write is a compare-and-swap on the revision this writer last wrote, so a second writer (a
 * deposed leader, a stray daemon) makes the next write fail instead of being overwritten.
 *
 * Changes that arrive while a write is in flight go out together in the next one (group
 * commit): three instances started in one tick cost one or two round trips to etcd, not three,
 * and each caller still learns only once its change is stored.
 */
export class RecordWriter {
  #current: Versioned<DeploymentRecord>;
  #pending: Pending[] = [];
  #flushing = false;
  #later: ReturnType<typeof setTimeout> | undefined;

  constructor(
    initial: Versioned<DeploymentRecord>,
    private readonly store: DeploymentStore,
    private readonly clock: Clock,
  ) {
    this.#current = initial;
  }

  get record(): DeploymentRecord {
    return this.#current.record;
  }

  /**
   * Applies `change` to the newest record and stores it; resolves once stored, with the record
   * as written. A change that returns the same object writes nothing; one that throws is
   * rejected alone.
   */
  update(change: (record: DeploymentRecord) => DeploymentRecord): Promise<DeploymentRecord> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ change, resolve, reject });
      this.flush();
    });
  }

  /**
   * Like `update`, but the change waits for the next write, whoever asks for it: a step's end
   * goes out with the next step's beginning, one round trip for both. `flush()` sends it
   * sooner; it never waits longer than LATER_MS.
   */
  updateLater(change: (record: DeploymentRecord) => DeploymentRecord): Promise<DeploymentRecord> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ change, resolve, reject });
      this.#later ??= setTimeout(() => this.flush(), LATER_MS);
    });
  }

  /** Sends what waits, `updateLater`'s changes included. */
  flush(): void {
    clearTimeout(this.#later);
    this.#later = undefined;
    if (this.#flushing || this.#pending.length === 0) return;
    this.#flushing = true;
    // Changes made in the same turn of the event loop join the first write.
    queueMicrotask(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0);
      const before = this.#current.record;
      let record = before;
      const applied: Pending[] = [];
      for (const p of batch) {
        try {
          record = p.change(record);
          applied.push(p);
        } catch (err) {
          p.reject(err);
        }
      }
      try {
        if (record !== before) await this.#write(record);
        for (const p of applied) p.resolve(this.#current.record);
      } catch (err) {
        for (const p of applied) p.reject(err);
      }
    }
    this.#flushing = false;
  }

  async #write(changed: DeploymentRecord): Promise<void> {
    const next = { ...changed, updatedAt: new Date(this.clock.now()).toISOString() };
    const expectedModRevision = this.#current.modRevision;
    if (isTerminal(next.state)) {
      this.#current = await this.store.finishDeployment(next, { expectedModRevision });
      return;
    }
    const modRevision = await this.store.updateDeployment(next, { expectedModRevision });
    this.#current = { record: next, modRevision };
  }
}
