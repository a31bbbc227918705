import { GlintError } from '../errors/index.ts';
import type { EtcdClient } from './etcd-client.ts';
import type { Compare, TxnRequest, TxnResponse } from './txn.ts';

/**
 * Proof of leadership to put into a write: the leader key's create revision at election
 * time. Once the key expires or another daemon recreates it, the revision differs and every
 * write carrying the guard fails in etcd itself, whatever the deposed daemon believes.
 */
export type LeaderGuard = { key: string; createRevision: number; leaderId: string };

export const NOT_LEADER = 'NotLeader';

export function notLeaderError(doing: string, details: Record<string, unknown> = {}): GlintError {
  return new GlintError(
    NOT_LEADER,
    `this daemon is not the leader, so it must not be ${doing}; send the request to the leader`,
    { details },
  );
}

export function guardCompare(guard: LeaderGuard): Compare {
  return { key: guard.key, target: 'create', op: '==', value: guard.createRevision };
}

/** The outcome of the caller's own transaction once the guard held. */
export type GuardedResult = { succeeded: boolean; revision: number; responses: TxnResponse[] };

/**
 * Runs `req` inside an outer transaction whose only compare is the guard, so a failed guard
 * (NotLeader) is told apart from the caller's own compares failing (a conflict). Without a
 * guard the request runs as is.
 */
export async function guardedTxn(
  client: EtcdClient,
  guard: LeaderGuard | undefined,
  req: TxnRequest,
  doing: string,
): Promise<GuardedResult> {
  if (!guard) return client.txn(req, doing);
  const res = await client.txn(
    { compare: [guardCompare(guard)], success: [{ type: 'txn', txn: req }] },
    doing,
  );
  const inner = res.responses[0]?.txn;
  if (!res.succeeded || !inner) throw notLeaderError(doing, { leaderId: guard.leaderId });
  return { succeeded: inner.succeeded, revision: res.revision, responses: inner.responses };
}
