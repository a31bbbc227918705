import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type { DeploymentRecord } from '../etcd/index.ts';
import type { RolloutEventMap, RolloutEvents } from '../rollout/index.ts';
import { deploymentEventView } from './api-views.ts';
import { type EventFilter, EventRing, matchesFilter, parseTypes, type StreamEvent } from './event-ring.ts';
import { parseRequestPart } from './parse-request.ts';
import { eventsQuery } from './request-schemas.ts';

export type EventStreamOptions = {
  /** Events kept for `Last-Event-ID` resume. */
  capacity?: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs?: number;
  /** A client this far behind (bytes not yet sent) is dropped; it resumes with its last id. */
  maxBufferedBytes?: number;
};

type Client = { res: Response; filter: EventFilter; heartbeat: NodeJS.Timeout };

const DEPLOYMENT_EVENTS = ['deployment:started', 'deployment:updated', 'deployment:finished'] as const;
const STEP_EVENTS = ['step:started', 'step:finished', 'step:failed'] as const;
/** Events that carry their app and are streamed as they are. */
const APP_EVENTS = [
  'instance:failed',
  'instance:backoff',
  'rotation:started',
  'rotation:skipped',
  'config:changed',
] as const;
/** Every type the stream carries, for the OpenAPI document. */
export const STREAMED_EVENT_TYPES: readonly string[] = [...DEPLOYMENT_EVENTS, ...STEP_EVENTS, ...APP_EVENTS];

function frame(event: StreamEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/**
 * `GET /v1/events`: the rollout engine's events as Server-Sent Events, with ids, a bounded ring
 * of recent events for `Last-Event-ID` resume, and `?types=` / `?app=` filters. Streams end
 * when the daemon shuts down, so an open one never holds the server. It listens to every
 * source it is given: the leader's engine, and on a follower the events read back from etcd;
 * only one of them emits at a time, and both go through the same mapping.
 */
export class EventStream {
  readonly #ring: EventRing;
  readonly #clients = new Set<Client>();
  readonly #unsubscribe: Array<() => void> = [];
  readonly #heartbeatMs: number;
  readonly #maxBuffered: number;

  constructor(sources: readonly RolloutEvents[], opts: EventStreamOptions = {}) {
    this.#ring = new EventRing(randomBytes(4).toString('hex'), opts.capacity ?? 1_000);
    this.#heartbeatMs = opts.heartbeatMs ?? 15_000;
    this.#maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
    for (const events of sources) this.#listen(events);
  }

  #listen(events: RolloutEvents): void {
    for (const type of DEPLOYMENT_EVENTS) {
      const listener = (record: DeploymentRecord) =>
        this.#publish(type, record.app, deploymentEventView(record));
      events.on(type, listener);
      this.#unsubscribe.push(() => events.off(type, listener));
    }
    for (const type of STEP_EVENTS) {
      const listener = (step: RolloutEventMap[typeof type][0]) => this.#publish(type, step.app, step);
      events.on(type, listener);
      this.#unsubscribe.push(() => events.off(type, listener));
    }
    for (const type of APP_EVENTS) {
      const listener = (data: RolloutEventMap[typeof type][0]) => this.#publish(type, data.app, data);
      events.on(type, listener);
      this.#unsubscribe.push(() => events.off(type, listener));
    }
  }

  readonly handle = (req: Request, res: Response) => {
    const query = parseRequestPart(eventsQuery, 'query', req.query);
    const filter: EventFilter = { types: parseTypes(query.types), app: query.app };
    const replay = this.#ring.after(req.get('last-event-id'));
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write('retry: 3000\n\n');
    if (replay.gap) {
      const message = 'some events after Last-Event-ID are no longer kept; read the current state again';
      res.write(`event: stream:gap\ndata: ${JSON.stringify({ message })}\n\n`);
    }
    for (const event of replay.events) if (matchesFilter(event, filter)) res.write(frame(event));
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), this.#heartbeatMs);
    heartbeat.unref();
    const client = { res, filter, heartbeat };
    this.#clients.add(client);
    res.once('close', () => this.#drop(client));
  };

  /** Ends every open stream and stops listening to the engine (daemon shutdown). */
  close(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
    for (const client of [...this.#clients]) this.#drop(client);
  }

  #publish(type: string, app: string, data: unknown): void {
    const event = this.#ring.push(type, app, data);
    for (const client of this.#clients) {
      if (!matchesFilter(event, client.filter)) continue;
      if (client.res.writableLength > this.#maxBuffered) this.#drop(client);
      else client.res.write(frame(event));
    }
  }

  #drop(client: Client): void {
    if (!this.#clients.delete(client)) return;
    clearInterval(client.heartbeat);
    client.res.end();
  }
}
