/** One event of the stream, as sent: `id: <epoch>-<seq>`, `event: <type>`, `data: <json>`. */
export type StreamEvent = { id: string; seq: number; type: string; app: string; data: unknown };

export type EventFilter = {
  /** Exact types (`step:failed`) or namespaces (`deployment`); empty: every type. */
  types: readonly string[];
  app?: string | undefined;
};

/** What a (re)connecting client is sent first; `gap` says some events it asked for are gone. */
export type Replay = { events: StreamEvent[]; gap: boolean };

const ID = /^([A-Za-z0-9]+)-(\d{1,15})$/;

/**
 * The recent events in memory, bounded, for `Last-Event-ID` resume. Ids carry an epoch (one per
 * process) beside the sequence number, so an id from before a restart or from another daemon is
 * recognised as foreign instead of being read as a position in this stream.
 */
export class EventRing {
  readonly #events: StreamEvent[] = [];
  #seq = 0;

  constructor(
    private readonly epoch: string,
    private readonly capacity = 1_000,
  ) {}

  push(type: string, app: string, data: unknown): StreamEvent {
    this.#seq += 1;
    const event = { id: `${this.epoch}-${this.#seq}`, seq: this.#seq, type, app, data };
    this.#events.push(event);
    if (this.#events.length > this.capacity) this.#events.shift();
    return event;
  }

  /** The events after `lastEventId`; none for a first connection (no id). */
  after(lastEventId: string | undefined): Replay {
    if (lastEventId === undefined) return { events: [], gap: false };
    const match = ID.exec(lastEventId.trim());
    const all = [...this.#events];
    if (!match || match[1] !== this.epoch) return { events: all, gap: true };
    const last = Number(match[2]);
    if (last > this.#seq) return { events: all, gap: true };
    const oldest = this.#events[0]?.seq ?? this.#seq + 1;
    return { events: all.filter((e) => e.seq > last), gap: last < oldest - 1 };
  }
}

/** `?types=deployment,step:failed` → ['deployment', 'step:failed']. */
export function parseTypes(types: string | undefined): string[] {
  return (types ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

export function matchesFilter(event: Pick<StreamEvent, 'type' | 'app'>, filter: EventFilter): boolean {
  if (filter.app !== undefined && event.app !== filter.app) return false;
  if (filter.types.length === 0) return true;
  return filter.types.some((t) => event.type === t || event.type.startsWith(`${t}:`));
}
