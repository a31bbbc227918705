import { Etcd3, type IOptions, type IWatchResponse, type Lease, type Watcher } from 'etcd3';
import { TransientError } from '../errors/index.ts';
import { atEdge, EtcdErrorCode, translateEtcdError } from './etcd-errors.ts';
import { DEFAULT_RETRY_BUDGET_MS, etcdFaultHandling } from './fault-handling.ts';
import { type EtcdKeys, etcdKeys } from './keys.ts';
import {
  fromRpcKv,
  fromRpcResponse,
  type KeyValue,
  prefixEnd,
  type TxnRequest,
  type TxnResult,
  toRpcCompare,
  toRpcOp,
} from './txn.ts';

export type EtcdConnectOptions = {
  /** e.g. `['http://127.0.0.1:2379']` */
  endpoints: string[];
  /** Key prefix, default `/glint`. */
  prefix?: string;
  auth?: { username: string; password: string };
  /**
   * How long connectEtcd keeps trying for a first answer before it gives up (a try under way
   * then still ends by its call deadline). Default 5 s.
   */
  dialTimeoutMs?: number;
  /** Deadline for each unary call (not for watches and keepalive streams). Default 5 s. */
  callTimeoutMs?: number;
};

/** A cancel waits for etcd's acknowledgement; past this, the stream is gone anyway. */
const WATCH_CANCEL_TIMEOUT_MS = 2_000;

export type WatchEvent = { type: 'put' | 'delete'; kv: KeyValue };

export type WatchHandlers = {
  /** A batch of changes, all at or below `revision`. */
  onEvents(events: WatchEvent[], revision: number): void;
  /** etcd compacted past the requested revision: re-list, then watch again. */
  onCompacted(err: Error): void;
  onDisconnected?(err: Error): void;
  onConnected?(): void;
  onError?(err: Error): void;
};

export type WatchHandle = { cancel(): Promise<void> };

/** The one object that owns the etcd connection; every glint read and write goes through it. */
export class EtcdClient {
  readonly keys: EtcdKeys;
  readonly #etcd: Etcd3;

  constructor(etcd: Etcd3, keys: EtcdKeys) {
    this.#etcd = etcd;
    this.keys = keys;
  }

  async get(key: string, opts: { revision?: number } = {}): Promise<KeyValue | undefined> {
    const res = await atEdge(`reading ${key}`, () =>
      this.#etcd.kv.range({ key: Buffer.from(key), ...(opts.revision ? { revision: opts.revision } : {}) }),
    );
    const kv = res.kvs[0];
    return kv ? fromRpcKv(kv) : undefined;
  }

  /** Every key under `prefix`, sorted by key, with the revision the read was served at. */
  async list(
    prefix: string,
    opts: { revision?: number } = {},
  ): Promise<{ kvs: KeyValue[]; revision: number }> {
    const res = await atEdge(`listing ${prefix}`, () =>
      this.#etcd.kv.range({
        key: Buffer.from(prefix),
        range_end: prefixEnd(prefix),
        ...(opts.revision ? { revision: opts.revision } : {}),
      }),
    );
    return { kvs: res.kvs.map(fromRpcKv), revision: Number(res.header.revision) };
  }

  async put(key: string, value: string, opts: { lease?: string } = {}): Promise<number> {
    const res = await atEdge(`writing ${key}`, () =>
      this.#etcd.kv.put({ key: Buffer.from(key), value: Buffer.from(value), ...opts }),
    );
    return Number(res.header.revision);
  }

  async delete(key: string, opts: { prefix?: boolean } = {}): Promise<number> {
    const res = await atEdge(`deleting ${key}`, () =>
      this.#etcd.kv.deleteRange({
        key: Buffer.from(key),
        ...(opts.prefix ? { range_end: prefixEnd(key) } : {}),
      }),
    );
    return Number(res.deleted);
  }

  async txn(req: TxnRequest, doing = 'running a transaction'): Promise<TxnResult> {
    const res = await atEdge(doing, () =>
      this.#etcd.kv.txn({
        compare: req.compare.map(toRpcCompare),
        success: req.success.map(toRpcOp),
        failure: (req.failure ?? []).map(toRpcOp),
      }),
    );
    return {
      succeeded: res.succeeded,
      revision: Number(res.header.revision),
      responses: (res.responses ?? []).map(fromRpcResponse),
    };
  }

  /** Watches every key under `prefix` from `fromRevision` (inclusive); see `watchRange`. */
  watchPrefix(prefix: string, fromRevision: number, handlers: WatchHandlers): WatchHandle {
    return this.watchRange({ start: prefix, end: prefixEnd(prefix) }, fromRevision, handlers);
  }

  /**
   * Watches the keys in [start, end) from `fromRevision` (inclusive). etcd3 resumes from the
   * last revision it delivered after a disconnect; a compacted start revision arrives as
   * `onCompacted`.
   */
  watchRange(
    range: { start: string; end: string | Buffer },
    fromRevision: number,
    handlers: WatchHandlers,
  ): WatchHandle {
    const watcher: Watcher = this.#etcd
      .watch()
      .inRange({ start: range.start, end: range.end })
      .startRevision(String(fromRevision))
      .watcher();
    watcher.on('data', (res: IWatchResponse) => {
      const events = (res.events ?? []).map((ev) => ({
        type: Number(ev.type) === 1 || String(ev.type) === 'Delete' ? ('delete' as const) : ('put' as const),
        kv: fromRpcKv(ev.kv),
      }));
      handlers.onEvents(events, Number(res.header.revision));
    });
    // etcd3 drops a watcher it saw cancelled (a compacted start revision arrives as a cancel,
    // often with an empty reason); cancelling it again would wait forever for an 'end'.
    let dropped = false;
    watcher.on('error', (err: Error) => {
      dropped = true;
      if (/compact/i.test(err.message) || /Watcher canceled/i.test(err.message)) handlers.onCompacted(err);
      else handlers.onError?.(err);
    });
    watcher.on('disconnected', (err: Error) => handlers.onDisconnected?.(err));
    watcher.on('connected', () => handlers.onConnected?.());
    return {
      cancel: async () => {
        if (dropped) return;
        dropped = true;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, WATCH_CANCEL_TIMEOUT_MS);
        });
        await Promise.race([watcher.cancel().catch(() => undefined), timeout]);
        clearTimeout(timer);
      },
    };
  }

  /** A raw etcd3 lease; use KeptLease for one whose loss is noticed in time. */
  rawLease(ttlSeconds: number): Lease {
    return this.#etcd.lease(ttlSeconds);
  }

  /** Drops history up to `revision` (operators and tests; glint never compacts on its own). */
  async compact(revision: number): Promise<void> {
    await atEdge('compacting', () => this.#etcd.kv.compact({ revision, physical: true }));
  }

  close(): void {
    this.#etcd.close();
  }
}

/** Connects and checks that etcd answers within `dialTimeoutMs`, so a wrong address fails fast. */
export async function connectEtcd(opts: EtcdConnectOptions): Promise<EtcdClient> {
  const callTimeoutMs = opts.callTimeoutMs ?? 5_000;
  const dialTimeoutMs = opts.dialTimeoutMs ?? 5_000;
  // First contact retries only within the dial timeout, so a wrong address fails fast; later
  // calls wait out an election or a restart for the full budget.
  let dialing = true;
  const etcd = new Etcd3({
    hosts: opts.endpoints,
    ...(opts.auth ? { auth: opts.auth } : {}),
    // cockatiel 4's policies run as etcd3's own cockatiel 3 ones do (execute with a signal);
    // only the typing of their failure events differs.
    faultHandling: etcdFaultHandling({
      retryBudgetMs: () => (dialing ? dialTimeoutMs : DEFAULT_RETRY_BUDGET_MS),
    }) as unknown as IOptions['faultHandling'],
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: new Date(Date.now() + callTimeoutMs) }),
  });
  const client = new EtcdClient(etcd, etcdKeys(opts.prefix));
  try {
    // Each try has the call deadline, not one deadline for all: a try still under way when the
    // budget ends would otherwise always end as a timeout, hiding a refusal behind it.
    await etcd.kv.range({ key: Buffer.from(client.keys.leader()) });
  } catch (err) {
    etcd.close();
    const translated = translateEtcdError(err, 'connecting');
    if (translated.code !== EtcdErrorCode.Unavailable) throw translated;
    throw new TransientError(
      EtcdErrorCode.Unavailable,
      describeDialFailure(opts.endpoints, dialTimeoutMs, err),
      {
        cause: err,
      },
    );
  }
  dialing = false;
  return client;
}

/** What went wrong on first contact, in the words a user can act on. */
export function describeDialFailure(endpoints: string[], dialTimeoutMs: number, err: unknown): string {
  const at = `etcd at ${endpoints.join(', ')}`;
  const detail = err instanceof Error ? err.message : String(err);
  const fix = 'start etcd (npm run stack:up) or fix etcd.endpoints in the glint config';
  if (/ECONNREFUSED/.test(detail)) return `${at} refused the connection (nothing listens there): ${fix}`;
  if (/Name resolution failed|ENOTFOUND|EAI_AGAIN/.test(detail)) {
    return `${at}: the host name does not resolve: fix etcd.endpoints in the glint config`;
  }
  if (/deadline/i.test(detail)) return `${at} did not answer within ${dialTimeoutMs} ms: ${fix}`;
  return `${at} could not be reached (${detail}): ${fix}`;
}
