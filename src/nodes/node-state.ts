/**
 * How glint sees one Docker engine. `unreachable`: its last ping failed, but not for long
 * enough to give up on it (nothing new is placed there; its instances still count). `down`:
 * unanswered for `downAfterMs`; its instances count as lost and are replaced elsewhere.
 */
export type NodeState = 'up' | 'unreachable' | 'down';

export type NodeStatus = {
  state: NodeState;
  /** When this state began (epoch ms). */
  since: number;
  /** When the engine last answered; absent until it ever did. */
  lastContact?: number | undefined;
  /** When it began failing to answer, while it does. */
  failingSince?: number | undefined;
  /** Why the last ping failed, while it fails. */
  lastError?: string | undefined;
};

export type PingResult = { ok: true; at: number } | { ok: false; at: number; error: string };

/** Before the first ping: unknown engines are not placed on, and nothing of theirs is lost yet. */
export function initialNodeStatus(now: number): NodeStatus {
  return { state: 'unreachable', since: now, failingSince: now, lastError: 'not contacted yet' };
}

/**
 * The next status after a ping. One answer brings a node up; failures make it `down` only
 * once it has failed for `downAfterMs` without a single answer, so one slow ping never costs
 * a node its instances. Pure.
 */
export function nextNodeStatus(prev: NodeStatus, ping: PingResult, downAfterMs: number): NodeStatus {
  if (ping.ok)
    return prev.state === 'up'
      ? { ...prev, lastContact: ping.at }
      : { state: 'up', since: ping.at, lastContact: ping.at };
  const failingSince = prev.failingSince ?? ping.at;
  const state: NodeState =
    prev.state === 'down' || ping.at - failingSince >= downAfterMs ? 'down' : 'unreachable';
  return {
    state,
    since: state === prev.state ? prev.since : ping.at,
    lastContact: prev.lastContact,
    failingSince,
    lastError: ping.error,
  };
}
