import type { Versioned } from '../../../src/etcd/index.ts';
import {
  type RotationRecord,
  RotationRecordSchema,
  type RotationStore,
} from '../../../src/rotation/index.ts';

/** Rotation records in memory, with etcd's compare-and-swap on a shared revision counter. */
export class FakeRotationStore implements RotationStore {
  readonly #records = new Map<string, Versioned<RotationRecord>>();
  #revision = 1;
  writes = 0;

  /** A read that takes this long lets two daemons read the same revision before either writes. */
  constructor(private readonly readDelayMs = 0) {}

  async get(app: string) {
    const found = this.#records.get(app);
    const read = found && { record: structuredClone(found.record), modRevision: found.modRevision };
    if (this.readDelayMs > 0) await new Promise((r) => setTimeout(r, this.readDelayMs));
    return read;
  }

  async save(record: RotationRecord, opts: { expectedModRevision: number }) {
    const current = this.#records.get(record.app)?.modRevision ?? 0;
    if (current !== opts.expectedModRevision) return undefined;
    const modRevision = ++this.#revision;
    this.#records.set(record.app, {
      record: RotationRecordSchema.parse(structuredClone(record)),
      modRevision,
    });
    this.writes++;
    return modRevision;
  }

  record(app: string): RotationRecord | undefined {
    return this.#records.get(app)?.record;
  }
}
