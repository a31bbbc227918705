import type { ICompare, IKeyValue, IRequestOp, IResponseOp } from 'etcd3';

/** A key as glint sees it: strings and numbers, no Buffers or int64 strings. */
export type KeyValue = {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: string;
};

export type CompareOp = '==' | '!=' | '<' | '>';

export type Compare =
  | { key: string; target: 'create' | 'mod' | 'version'; op: CompareOp; value: number }
  | { key: string; target: 'value'; op: CompareOp; value: string };

export type TxnOp =
  | { type: 'put'; key: string; value: string; lease?: string }
  | { type: 'delete'; key: string; prefix?: boolean }
  | { type: 'get'; key: string; prefix?: boolean }
  | { type: 'txn'; txn: TxnRequest };

export type TxnRequest = { compare: Compare[]; success: TxnOp[]; failure?: TxnOp[] };

export type TxnResult = {
  succeeded: boolean;
  revision: number;
  /** One entry per op of the branch that ran; `kvs` for gets, `txn` for nested transactions. */
  responses: TxnResponse[];
};

export type TxnResponse = { kvs?: KeyValue[]; txn?: { succeeded: boolean; responses: TxnResponse[] } };

// Numeric values on purpose: etcd3's exported enums can be undefined under tsx/vitest.
const COMPARE_RESULT: Record<CompareOp, number> = { '==': 0, '>': 1, '<': 2, '!=': 3 };
const COMPARE_TARGET = { version: 0, create: 1, mod: 2, value: 3 } as const;

/** The key just past every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] ?? 0) < 0xff) {
      end[i] = (end[i] ?? 0) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export function toRpcCompare(c: Compare): ICompare {
  const base: ICompare = {
    key: Buffer.from(c.key),
    result: COMPARE_RESULT[c.op],
    target: COMPARE_TARGET[c.target],
  };
  if (c.target === 'value') return { ...base, value: Buffer.from(c.value) };
  if (c.target === 'create') return { ...base, create_revision: c.value };
  if (c.target === 'mod') return { ...base, mod_revision: c.value };
  return { ...base, version: c.value };
}

export function toRpcOp(op: TxnOp): IRequestOp {
  if (op.type === 'txn') {
    return {
      request_txn: {
        compare: op.txn.compare.map(toRpcCompare),
        success: op.txn.success.map(toRpcOp),
        failure: (op.txn.failure ?? []).map(toRpcOp),
      },
    };
  }
  const key = Buffer.from(op.key);
  if (op.type === 'put') {
    return { request_put: { key, value: Buffer.from(op.value), ...(op.lease ? { lease: op.lease } : {}) } };
  }
  const range = op.prefix ? { range_end: prefixEnd(op.key) } : {};
  if (op.type === 'delete') return { request_delete_range: { key, ...range } };
  return { request_range: { key, ...range } };
}

export function fromRpcKv(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    lease: String(kv.lease ?? '0'),
  };
}

export function fromRpcResponse(res: IResponseOp): TxnResponse {
  if (res.response_range) return { kvs: (res.response_range.kvs ?? []).map(fromRpcKv) };
  if (res.response_txn) {
    return {
      txn: {
        succeeded: res.response_txn.succeeded,
        responses: (res.response_txn.responses ?? []).map(fromRpcResponse),
      },
    };
  }
  return {};
}
