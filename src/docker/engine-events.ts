import type { Readable } from 'node:stream';
import type { Logger } from '../log/index.ts';
import { silentLogger } from '../log/index.ts';
import { sleep } from '../time/index.ts';
import { type DockerEngine, dockerodeOf } from './engine.ts';
import {
  type EngineEvent,
  EventCursor,
  type RawEngineMessage,
  toEngineEvent,
  WATCHED_ACTIONS,
} from './engine-event.ts';
import { GLINT_LABELS } from './instance-spec.ts';
import { JsonLineSplitter } from './json-lines.ts';

export type EngineEventsOptions = {
  /** May be async: a throw or a rejection is logged and the stream goes on. */
  onEvent: (event: EngineEvent) => unknown;
  /** Connection changes, so the caller can re-observe after a gap. May be async, as `onEvent`. */
  onConnection?: (state: 'connected' | 'disconnected', error?: Error) => unknown;
  logger?: Logger;
  /** Extra label filters (glint.managed=true is always applied). */
  labels?: Record<string, string>;
  /** Reconnect backoff: doubles from `initialDelayMs` up to `maxDelayMs` (default 250 ms → 10 s). */
  initialDelayMs?: number;
  maxDelayMs?: number;
};

/**
 * The engine's event stream for glint's containers, kept open: when the engine closes it
 * (restart, socket gone) it reconnects with backoff and resumes from the last event's second
 * with `since`, dropping the replayed events it already delivered.
 */
export class EngineEvents {
  readonly #engine: DockerEngine;
  readonly #opts: EngineEventsOptions;
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  #cursor: EventCursor | undefined;
  #loop: Promise<void> | undefined;

  constructor(engine: DockerEngine, opts: EngineEventsOptions) {
    this.#engine = engine;
    this.#opts = opts;
    this.#logger = opts.logger ?? silentLogger();
  }

  /** Starts listening; resolves once the first connection is open (or failed once). */
  start(): Promise<void> {
    return new Promise((resolve) => {
      this.#loop = this.#run(resolve);
    });
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  async #run(firstAttempt: () => void): Promise<void> {
    let attempt = 0;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        const stream = await this.#open(signal);
        attempt = 0;
        this.#notifyConnection('connected');
        firstAttempt();
        await this.#consume(stream);
        if (signal.aborted) break;
        throw new Error('the engine closed the event stream');
      } catch (err) {
        firstAttempt();
        if (signal.aborted) break;
        const delay = Math.min(
          this.#opts.maxDelayMs ?? 10_000,
          (this.#opts.initialDelayMs ?? 250) * 2 ** attempt++,
        );
        this.#logger.warn(
          { err: (err as Error).message, delayMs: delay },
          'engine event stream lost, reconnecting',
        );
        this.#notifyConnection('disconnected', err as Error);
        await sleep(delay, signal);
      }
    }
  }

  async #open(signal: AbortSignal): Promise<Readable> {
    // Before any event, resume from when glint first connected (this host's clock).
    this.#cursor ??= new EventCursor(Math.floor(Date.now() / 1000));
    const label = [
      `${GLINT_LABELS.managed}=true`,
      ...Object.entries(this.#opts.labels ?? {}).map(([k, v]) => `${k}=${v}`),
    ];
    const opts = {
      since: this.#cursor.sinceSec,
      filters: { type: ['container'], event: [...WATCHED_ACTIONS], label },
      abortSignal: signal,
    };
    return (await dockerodeOf(this.#engine).getEvents(opts as object)) as unknown as Readable;
  }

  async #consume(stream: Readable): Promise<void> {
    const splitter = new JsonLineSplitter();
    const onBad = (line: string) =>
      this.#logger.warn({ line: line.slice(0, 200) }, 'unparsable engine event');
    try {
      for await (const chunk of stream) {
        for (const raw of splitter.push(chunk as Buffer, onBad)) this.#deliver(raw as RawEngineMessage);
      }
      for (const raw of splitter.end(onBad)) this.#deliver(raw as RawEngineMessage);
    } finally {
      stream.destroy();
    }
  }

  #deliver(raw: RawEngineMessage): void {
    if (!this.#cursor?.accept(raw)) return;
    const event = toEngineEvent(raw);
    if (!event) return;
    this.#guard(() => this.#opts.onEvent(event), 'engine event handler failed', {
      kind: event.kind,
      containerId: event.containerId,
    });
  }

  #notifyConnection(state: 'connected' | 'disconnected', error?: Error): void {
    const onConnection = this.#opts.onConnection;
    if (onConnection)
      this.#guard(() => onConnection(state, error), 'engine connection handler failed', { state });
  }

  /**
   * Runs a caller's callback so that neither a throw nor a rejected promise escapes: an
   * unhandled rejection would end the daemon, and one bad handler must not stop the stream.
   */
  #guard(callback: () => unknown, what: string, scope: Record<string, unknown>): void {
    const report = (err: unknown) => this.#logger.error({ err, ...scope }, what);
    try {
      const result = callback();
      if (result instanceof Promise) result.catch(report);
    } catch (err) {
      report(err);
    }
  }
}
