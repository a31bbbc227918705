import { EventEmitter } from 'node:events';
import type { Logger } from '../log/index.ts';
import { initialNodeStatus, type NodeState, type NodeStatus, nextNodeStatus } from './node-state.ts';

/** An engine as node health needs it: a name and a way to ask whether it answers. */
export type PingTarget = { name: string; ping(signal: AbortSignal): Promise<void> };

export type NodeHealthOptions = {
  intervalMs: number;
  /** Unanswered this long, a node is `down` and its instances are replaced elsewhere. */
  downAfterMs: number;
  /** How long one ping may take; default the interval, at most 5 s. */
  timeoutMs?: number;
  clock?: { now(): number };
  log: Logger;
};

type NodeHealthEvents = { change: [node: string, status: NodeStatus, previous: NodeStatus] };

const MAX_PING_MS = 5_000;

/**
 * Pings every engine each interval (each on its own, so one slow engine never delays the
 * others' verdicts) and keeps each one's `nextNodeStatus`. Runs in every daemon, leader or
 * not, so `GET /v1/nodes` answers anywhere; only the leader acts on what it says.
 */
export class NodeHealth extends EventEmitter<NodeHealthEvents> {
  readonly #targets: readonly PingTarget[];
  readonly #opts: NodeHealthOptions;
  readonly #clock: { now(): number };
  readonly #status = new Map<string, NodeStatus>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #inFlight = new Set<AbortController>();
  #stopped = true;

  constructor(targets: readonly PingTarget[], opts: NodeHealthOptions) {
    super();
    this.#targets = targets;
    this.#opts = opts;
    this.#clock = opts.clock ?? { now: () => Date.now() };
    const now = this.#clock.now();
    for (const t of targets) this.#status.set(t.name, initialNodeStatus(now));
  }

  /** Starts pinging; resolves once every engine answered or failed its first ping. */
  async start(): Promise<void> {
    if (!this.#stopped) return;
    this.#stopped = false;
    await Promise.all(this.#targets.map((t) => this.#round(t)));
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    for (const c of this.#inFlight) c.abort();
  }

  state(node: string): NodeState {
    return this.#status.get(node)?.state ?? 'down';
  }

  /** Every engine's status, in declaration order. */
  statuses(): Array<{ node: string } & NodeStatus> {
    return this.#targets.map((t) => ({
      node: t.name,
      ...(this.#status.get(t.name) ?? initialNodeStatus(0)),
    }));
  }

  async #round(target: PingTarget): Promise<void> {
    const controller = new AbortController();
    this.#inFlight.add(controller);
    const timeoutMs = this.#opts.timeoutMs ?? Math.min(this.#opts.intervalMs, MAX_PING_MS);
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs}ms`)), timeoutMs);
    let error: string | undefined;
    try {
      await target.ping(controller.signal);
    } catch (err) {
      error = controller.signal.aborted
        ? `no answer within ${timeoutMs}ms`
        : err instanceof Error
          ? err.message
          : String(err);
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(controller);
    }
    if (this.#stopped) return;
    this.#note(target.name, error);
    this.#timers.set(
      target.name,
      setTimeout(() => void this.#round(target), this.#opts.intervalMs),
    );
  }

  #note(node: string, error: string | undefined): void {
    const at = this.#clock.now();
    const previous = this.#status.get(node) ?? initialNodeStatus(at);
    const next = nextNodeStatus(
      previous,
      error === undefined ? { ok: true, at } : { ok: false, at, error },
      this.#opts.downAfterMs,
    );
    this.#status.set(node, next);
    if (next.state === previous.state) return;
    const log =
      next.state === 'up'
        ? this.#opts.log.info.bind(this.#opts.log)
        : this.#opts.log.warn.bind(this.#opts.log);
    log(
      {
        node,
        state: next.state,
        previous: previous.state,
        ...(next.lastError ? { err: next.lastError } : {}),
      },
      next.state === 'down'
        ? `docker endpoint ${node} is down: its instances are replaced on the others`
        : next.state === 'up'
          ? `docker endpoint ${node} answers`
          : `docker endpoint ${node} does not answer; nothing new is placed there`,
    );
    this.emit('change', node, next, previous);
  }
}
