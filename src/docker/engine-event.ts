import { GLINT_LABELS } from './instance-spec.ts';

export const EngineEventKind = {
  Start: 'start',
  Die: 'die',
  Oom: 'oom',
  Health: 'health',
  Destroy: 'destroy',
} as const;
export type EngineEventKind = (typeof EngineEventKind)[keyof typeof EngineEventKind];

/** A container event of one of glint's containers, in glint's words. */
export type EngineEvent = {
  kind: EngineEventKind;
  containerId: string;
  name?: string;
  app?: string;
  instance?: string;
  /** Engine time of the event, ms since the epoch. */
  at: number;
  /** For `die`: the process's exit code (137 after SIGKILL). */
  exitCode?: number;
  /** For `health`: Docker's new HEALTHCHECK status. */
  health?: 'healthy' | 'unhealthy' | 'starting';
};

/** The engine's raw message (API 1.41 shape). */
export type RawEngineMessage = {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
};

export const WATCHED_ACTIONS = ['start', 'die', 'oom', 'health_status', 'destroy'] as const;

/** Maps one raw message to an EngineEvent; undefined for anything glint does not watch. */
export function toEngineEvent(raw: RawEngineMessage): EngineEvent | undefined {
  if (raw.Type !== undefined && raw.Type !== 'container') return undefined;
  const action = raw.Action ?? raw.status ?? '';
  const containerId = raw.Actor?.ID ?? raw.id;
  if (!containerId) return undefined;
  const attrs = raw.Actor?.Attributes ?? {};
  const at = raw.timeNano !== undefined ? Math.floor(raw.timeNano / 1e6) : (raw.time ?? 0) * 1000;
  let kind: EngineEventKind;
  let health: EngineEvent['health'];
  if (action.startsWith('health_status')) {
    kind = EngineEventKind.Health;
    const status = action.split(':')[1]?.trim();
    if (status === 'healthy' || status === 'unhealthy' || status === 'starting') health = status;
  } else if (action === 'start' || action === 'die' || action === 'oom' || action === 'destroy') {
    kind = action;
  } else {
    return undefined;
  }
  const event: EngineEvent = { kind, containerId, at };
  if (attrs.name) event.name = attrs.name;
  if (attrs[GLINT_LABELS.app]) event.app = attrs[GLINT_LABELS.app];
  if (attrs[GLINT_LABELS.instance]) event.instance = attrs[GLINT_LABELS.instance];
  if (kind === 'die' && attrs.exitCode !== undefined) event.exitCode = Number(attrs.exitCode);
  if (health) event.health = health;
  return event;
}

/** Identity of a message, to drop the replay of events already seen when resuming with `since`. */
export function eventKey(raw: RawEngineMessage): string {
  return `${raw.timeNano ?? raw.time}|${raw.Actor?.ID ?? raw.id}|${raw.Action ?? raw.status}`;
}

/**
 * Where to resume the stream after a reconnect. The engine's `since` has one-second precision,
 * so the last second is replayed; events of that second already delivered are dropped.
 */
export class EventCursor {
  #sinceSec: number | undefined;
  #seen = new Set<string>();

  constructor(sinceSec?: number) {
    this.#sinceSec = sinceSec;
  }

  get sinceSec(): number | undefined {
    return this.#sinceSec;
  }

  /** True when the message is new and should be delivered; advances the cursor. */
  accept(raw: RawEngineMessage): boolean {
    const sec = raw.time ?? Math.floor((raw.timeNano ?? 0) / 1e9);
    const key = eventKey(raw);
    if (this.#sinceSec !== undefined && sec < this.#sinceSec) return false;
    if (sec === this.#sinceSec) {
      if (this.#seen.has(key)) return false;
    } else {
      this.#sinceSec = sec;
      this.#seen = new Set();
    }
    this.#seen.add(key);
    return true;
  }
}
