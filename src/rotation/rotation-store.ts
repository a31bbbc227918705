import { GlintError } from '../errors/index.ts';
import {
  type EtcdClient,
  guardedTxn,
  type LeaderGuard,
  StateErrorCode,
  type Versioned,
} from '../etcd/index.ts';
import { type RotationRecord, RotationRecordSchema } from './rotation-record.ts';

/** Where the scheduler keeps each app's rotation record. */
export type RotationStore = {
  get(app: string): Promise<Versioned<RotationRecord> | undefined>;
  /**
   * Writes the record if it is still at `expectedModRevision` (0: must not exist yet) and
   * returns the new revision; undefined when another writer got there first.
   */
  save(record: RotationRecord, opts: { expectedModRevision: number }): Promise<number | undefined>;
};

/** Rotation records in etcd; with a guard, a deposed leader's write fails in etcd itself. */
export class EtcdRotationStore implements RotationStore {
  readonly #client: EtcdClient;
  readonly #guard: (() => LeaderGuard) | undefined;

  constructor(client: EtcdClient, opts: { guard?: () => LeaderGuard } = {}) {
    this.#client = client;
    this.#guard = opts.guard;
  }

  async get(app: string): Promise<Versioned<RotationRecord> | undefined> {
    const kv = await this.#client.get(this.#client.keys.rotation(app));
    if (!kv) return undefined;
    const parsed = RotationRecordSchema.safeParse(safeJson(kv.value));
    if (!parsed.success)
      throw new GlintError(
        StateErrorCode.InvalidRecord,
        `${kv.key} does not hold a valid rotation record; delete it (the next run starts afresh)`,
        { cause: parsed.error, details: { key: kv.key } },
      );
    return { record: parsed.data, modRevision: kv.modRevision };
  }

  async save(record: RotationRecord, opts: { expectedModRevision: number }): Promise<number | undefined> {
    const key = this.#client.keys.rotation(record.app);
    const res = await guardedTxn(
      this.#client,
      this.#guard?.(),
      {
        compare: [{ key, target: 'mod', op: '==', value: opts.expectedModRevision }],
        success: [{ type: 'put', key, value: JSON.stringify(RotationRecordSchema.parse(record)) }],
      },
      'recording a rotation',
    );
    return res.succeeded ? res.revision : undefined;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
