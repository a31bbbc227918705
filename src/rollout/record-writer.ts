import { type DeploymentRecord, isTerminal, type Versioned } from '../etcd/index.ts';

import type { Clock, DeploymentStore } from './ports.ts';

/**
 * The one writer of a deployment's record while it runs. Changes are applied in call order and
 * each is a compare-and-swap on the revision this writer last wrote, so a second writer (a
 * deposed leader, a stray daemon) makes the next write fail instead of being overwritten.
 */
export class RecordWriter {
  #current: Versioned<DeploymentRecord>;
  /** The tail of the chain of writes; each waits for the one before it. */
  #tail: Promise<unknown> = Promise.resolve();

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

  /** Applies `change` to the newest record and stores it; a change that returns the same object writes nothing. */
  update(change: (record: DeploymentRecord) => DeploymentRecord): Promise<DeploymentRecord> {
    const write = this.#tail.then(async () => {
      const before = this.#current.record;
      const changed = change(before);
      if (changed === before) return before;
      const next = { ...changed, updatedAt: new Date(this.clock.now()).toISOString() };
      if (isTerminal(next.state)) {
        this.#current = await this.store.finishDeployment(next, {
          expectedModRevision: this.#current.modRevision,
        });
      } else {
        const modRevision = await this.store.updateDeployment(next, {
          expectedModRevision: this.#current.modRevision,
        });
        this.#current = { record: next, modRevision };
      }
      return this.#current.record;
    });
    this.#tail = write.catch(() => undefined);
    return write;
  }
}
