import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DockerEngine, type EngineEvent, EngineEvents } from '../../../src/docker/index.ts';
import { createLogger } from '../../../src/log/index.ts';
import { waitFor } from '../../support/wait-for.ts';

/** A stand-in engine on a unix socket: `/events` stays open and streams what the test sends. */
async function startFakeEngine(dir: string) {
  const socketPath = join(dir, 'docker.sock');
  const streams: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    if (!req.url?.startsWith('/events')) {
      res.writeHead(404).end('{"message":"not here"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    streams.push(res);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  let time = Math.floor(Date.now() / 1000);
  return {
    socketPath,
    streams,
    send(action: string, id: string) {
      const raw = { Type: 'container', Action: action, Actor: { ID: id, Attributes: {} }, time: ++time };
      for (const res of streams) res.write(`${JSON.stringify(raw)}\n`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of streams) res.destroy();
        server.close(() => resolve());
      }),
  };
}

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ destination, level: 'debug' }) };
}

describe('EngineEvents with callbacks that fail', () => {
  let dir: string;
  let engine: Awaited<ReturnType<typeof startFakeEngine>>;
  let events: EngineEvents | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'glint-engine-events-'));
    engine = await startFakeEngine(dir);
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });

  afterEach(async () => {
    await events?.close();
    await engine.close();
    process.off('unhandledRejection', onUnhandled);
    await rm(dir, { recursive: true, force: true });
  });

  it('logs a rejected async onEvent and keeps delivering the next events', async () => {
    const { lines, logger } = logCapture();
    const seen: EngineEvent[] = [];
    events = new EngineEvents(new DockerEngine({ socketPath: engine.socketPath }), {
      logger,
      onEvent: async (event) => {
        seen.push(event);
        if (event.containerId === 'first') throw new Error('handler broke');
      },
    });
    await events.start();
    await waitFor(() => engine.streams.length > 0 || undefined, {
      timeoutMs: 10_000,
      what: 'the event stream to open',
    });
    engine.send('start', 'first');
    engine.send('die', 'second');
    await waitFor(() => seen.find((e) => e.containerId === 'second'), {
      timeoutMs: 10_000,
      what: 'the second event',
    });
    const logged = await waitFor(() => lines.find((l) => l.msg === 'engine event handler failed'), {
      what: 'the handler failure in the log',
    });
    expect(logged).toMatchObject({ containerId: 'first', err: { message: 'handler broke' } });
    // A macrotask boundary: an unhandled rejection would have been reported by now.
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  }, 30_000);

  it('logs a rejected async onConnection and still delivers events', async () => {
    const { lines, logger } = logCapture();
    const seen: EngineEvent[] = [];
    events = new EngineEvents(new DockerEngine({ socketPath: engine.socketPath }), {
      logger,
      onEvent: (event) => {
        seen.push(event);
      },
      onConnection: async (state) => {
        throw new Error(`connection handler broke on ${state}`);
      },
    });
    await events.start();
    await waitFor(() => engine.streams.length > 0 || undefined, {
      timeoutMs: 10_000,
      what: 'the event stream to open',
    });
    engine.send('start', 'only');
    await waitFor(() => seen.find((e) => e.containerId === 'only'), { timeoutMs: 10_000, what: 'the event' });
    const logged = await waitFor(() => lines.find((l) => l.msg === 'engine connection handler failed'), {
      what: 'the handler failure in the log',
    });
    expect(logged).toMatchObject({
      state: 'connected',
      err: { message: 'connection handler broke on connected' },
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  }, 30_000);
});
