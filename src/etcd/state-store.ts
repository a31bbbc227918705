import type { z } from 'zod';
import { GlintError } from '../errors/index.ts';
import type { EtcdClient } from './etcd-client.ts';
import { type GuardedResult, guardedTxn, type LeaderGuard } from './leader-guard.ts';
import {
  type AppRecord,
  AppRecordSchema,
  DEPLOYMENTS_KEPT,
  type DeploymentRecord,
  DeploymentRecordSchema,
  isTerminal,
  recordDeployedRelease,
  type Versioned,
} from './state-records.ts';
import type { Compare, KeyValue, TxnOp } from './txn.ts';

export const StateErrorCode = {
  Conflict: 'StateConflict',
  DeploymentInProgress: 'DeploymentInProgress',
  DeploymentNotFound: 'DeploymentNotFound',
  InvalidRecord: 'InvalidStateRecord',
  InvalidTransition: 'InvalidDeploymentTransition',
} as const;

/** Leader-only writes carry the guard so a deposed leader's write fails in etcd. */
export type WriteOptions = { guard?: LeaderGuard };

/**
 * Apps and deployments under `<prefix>/state/`. Every write is compare-and-swap on the mod
 * revision the caller read; "one active deployment per app" is the key
 * `<prefix>/state/active/<app>`, created and deleted in the same transactions that start and
 * finish a deployment, so the lock lives in etcd and survives daemon restarts.
 */
export class EtcdStateStore {
  readonly #client: EtcdClient;
  readonly #now: () => Date;

  constructor(client: EtcdClient, opts: { now?: () => Date } = {}) {
    this.#client = client;
    this.#now = opts.now ?? (() => new Date());
  }

  async getApp(app: string): Promise<Versioned<AppRecord> | undefined> {
    const kv = await this.#client.get(this.#client.keys.appRecord(app));
    return kv ? { record: parseRecord(AppRecordSchema, kv), modRevision: kv.modRevision } : undefined;
  }

  async listApps(): Promise<AppRecord[]> {
    const { kvs } = await this.#client.list(this.#client.keys.appsRoot());
    return kvs.map((kv) => parseRecord(AppRecordSchema, kv));
  }

  /** Writes an app record if it is still at `expectedModRevision` (0: must not exist yet). */
  async saveApp(record: AppRecord, opts: WriteOptions & { expectedModRevision: number }): Promise<number> {
    const key = this.#client.keys.appRecord(record.app);
    const value = JSON.stringify(AppRecordSchema.parse(record));
    const res = await this.#txn(
      opts,
      [modIs(key, opts.expectedModRevision)],
      [{ type: 'put', key, value }],
      'saving',
    );
    if (!res.succeeded) throw conflict(key);
    return res.revision;
  }

  async getDeployment(app: string, id: string): Promise<Versioned<DeploymentRecord> | undefined> {
    const kv = await this.#client.get(this.#client.keys.deployment(app, id));
    return kv ? { record: parseRecord(DeploymentRecordSchema, kv), modRevision: kv.modRevision } : undefined;
  }

  /** The id of the app's active deployment, if one holds the lock. */
  async activeDeployment(app: string): Promise<string | undefined> {
    return (await this.#client.get(this.#client.keys.activeDeployment(app)))?.value;
  }

  /** Every held lock in one read: app → its active deployment's id. */
  async activeDeployments(): Promise<Map<string, string>> {
    const root = this.#client.keys.activeRoot();
    const { kvs } = await this.#client.list(root);
    return new Map(kvs.map((kv) => [kv.key.slice(root.length), kv.value]));
  }

  /**
   * Stores a new deployment and takes the app's lock in one transaction. Throws
   * DeploymentInProgress (with the active id) when another deployment holds it.
   */
  async beginDeployment(
    record: DeploymentRecord,
    opts: WriteOptions = {},
  ): Promise<Versioned<DeploymentRecord>> {
    const parsed = DeploymentRecordSchema.parse(record);
    if (isTerminal(parsed.state)) throw badTransition(parsed.id, `begin in state ${parsed.state}`);
    const k = this.#client.keys;
    const [lock, key] = [k.activeDeployment(parsed.app), k.deployment(parsed.app, parsed.id)];
    const res = await this.#txn(
      opts,
      [modIs(lock, 0), modIs(key, 0)],
      [
        { type: 'put', key: lock, value: parsed.id },
        { type: 'put', key, value: JSON.stringify(parsed) },
      ],
      'starting a deployment',
    );
    if (res.succeeded) return { record: parsed, modRevision: res.revision };
    const active = await this.activeDeployment(parsed.app);
    if (active) {
      throw new GlintError(
        StateErrorCode.DeploymentInProgress,
        `${parsed.app} already has an active deployment (${active}); wait for it, or cancel it first`,
        { details: { app: parsed.app, activeDeploymentId: active } },
      );
    }
    throw conflict(key);
  }

  /** Saves progress of an active deployment (compare-and-swap on `expectedModRevision`). */
  async updateDeployment(
    record: DeploymentRecord,
    opts: WriteOptions & { expectedModRevision: number },
  ): Promise<number> {
    const parsed = DeploymentRecordSchema.parse(record);
    if (isTerminal(parsed.state)) throw badTransition(parsed.id, 'finish through updateDeployment');
    const key = this.#client.keys.deployment(parsed.app, parsed.id);
    const value = JSON.stringify(parsed);
    const put: TxnOp = { type: 'put', key, value };
    const res = await this.#txn(opts, [modIs(key, opts.expectedModRevision)], [put], 'updating a deployment');
    if (res.succeeded) return res.revision;
    // A try that etcd applied but whose answer was lost (its member died) is retried by the
    // client, and the retry meets the first try's revision. The record is this write's own
    // down to its updatedAt, so finding it stored means the write landed.
    const stored = await this.#client.get(key);
    if (stored?.value === value) return stored.modRevision;
    throw conflict(key);
  }

  /**
   * Stores the final record, releases the app's lock and, when it succeeded, makes `to` the
   * app's current release (history keeps the last 20), all in one transaction.
   */
  async finishDeployment(
    record: DeploymentRecord,
    opts: WriteOptions & { expectedModRevision: number },
  ): Promise<Versioned<DeploymentRecord>> {
    const parsed = DeploymentRecordSchema.parse({ ...record, finishedAt: record.finishedAt ?? this.#at() });
    if (!isTerminal(parsed.state)) throw badTransition(parsed.id, `finish in state ${parsed.state}`);
    const k = this.#client.keys;
    const [key, lock, appKey] = [
      k.deployment(parsed.app, parsed.id),
      k.activeDeployment(parsed.app),
      k.appRecord(parsed.app),
    ];
    for (let attempt = 0; attempt < 5; attempt++) {
      const app = parsed.state === 'succeeded' ? await this.getApp(parsed.app) : undefined;
      const compare: Compare[] = [modIs(key, opts.expectedModRevision), valueIs(lock, parsed.id)];
      const ops: TxnOp[] = [
        { type: 'put', key, value: JSON.stringify(parsed) },
        { type: 'delete', key: lock },
      ];
      if (parsed.state === 'succeeded') {
        compare.push(modIs(appKey, app?.modRevision ?? 0));
        ops.push({ type: 'put', key: appKey, value: JSON.stringify(this.#deployed(parsed, app?.record)) });
      }
      const res = await this.#txn(opts, compare, ops, 'finishing a deployment');
      if (res.succeeded) {
        await this.#prune(parsed.app, opts);
        return { record: parsed, modRevision: res.revision };
      }
      const now = await this.getDeployment(parsed.app, parsed.id);
      if (now?.modRevision !== opts.expectedModRevision) throw conflict(key);
      if ((await this.activeDeployment(parsed.app)) !== parsed.id) {
        throw badTransition(parsed.id, 'finish it: it is not the active deployment of its app');
      }
      // Only the app record moved (another writer saved it): read it again and retry.
    }
    throw conflict(appKey);
  }

  /** The app's deployments, newest first (history survives daemon restarts). */
  async listDeployments(app: string, opts: { limit?: number } = {}): Promise<DeploymentRecord[]> {
    const { kvs } = await this.#client.list(this.#client.keys.deploymentsPrefix(app));
    return kvs
      .map((kv) => parseRecord(DeploymentRecordSchema, kv))
      .sort(newestFirst)
      .slice(0, opts.limit ?? Number.POSITIVE_INFINITY);
  }

  /** Keeps the newest DEPLOYMENTS_KEPT records of an app; only finished ones are removed. */
  async #prune(app: string, opts: WriteOptions): Promise<void> {
    const all = await this.listDeployments(app);
    const stale = all.slice(DEPLOYMENTS_KEPT).filter((d) => isTerminal(d.state));
    if (stale.length === 0) return;
    const ops: TxnOp[] = stale.map((d) => ({ type: 'delete', key: this.#client.keys.deployment(app, d.id) }));
    await this.#txn(opts, [], ops, 'removing old deployment records');
  }

  #deployed(d: DeploymentRecord, app: AppRecord | undefined): AppRecord {
    const at = d.finishedAt ?? this.#at();
    return recordDeployedRelease(
      app,
      d.app,
      { ...d.to, deploymentId: d.id, deployedAt: at },
      at,
      d.instances,
    );
  }

  #txn(opts: WriteOptions, compare: Compare[], success: TxnOp[], doing: string): Promise<GuardedResult> {
    return guardedTxn(this.#client, opts.guard, { compare, success }, doing);
  }

  #at(): string {
    return this.#now().toISOString();
  }
}

function newestFirst(a: DeploymentRecord, b: DeploymentRecord): number {
  return a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1;
}

function modIs(key: string, revision: number): Compare {
  return { key, target: 'mod', op: '==', value: revision };
}

function valueIs(key: string, value: string): Compare {
  return { key, target: 'value', op: '==', value };
}

function conflict(key: string): GlintError {
  return new GlintError(
    StateErrorCode.Conflict,
    `${key} changed since it was read (another writer got there first); read it again and retry`,
    { details: { key } },
  );
}

function badTransition(id: string, what: string): GlintError {
  return new GlintError(StateErrorCode.InvalidTransition, `deployment ${id}: can't ${what}`, {
    details: { deploymentId: id },
  });
}

function parseRecord<S extends z.ZodType>(schema: S, kv: KeyValue): z.infer<S> {
  try {
    return schema.parse(JSON.parse(kv.value));
  } catch (err) {
    throw new GlintError(
      StateErrorCode.InvalidRecord,
      `${kv.key} does not hold a valid glint record; restore it from a backup or delete it`,
      { cause: err, details: { key: kv.key } },
    );
  }
}
