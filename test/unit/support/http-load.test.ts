import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type LoadOptions, startLoad } from '../../support/http-load.ts';

/** What a local server saw, counted on its side of the wire. */
type Seen = {
  get: number;
  post: number;
  other: number;
  closeHeader: number;
  keepAliveHeader: number;
  sockets: number;
  /** Requests between arrival and answer; a connection carries one at a time. */
  inFlight: number;
  mostInFlight: number;
  /** POST bodies whose length differs from content-length or that are not the JSON sent. */
  badBodies: number;
  postSizes: number[];
};

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

type ServerOptions = {
  /** What a POST's answer claims arrived. */
  echoBytes?: (received: number) => number;
  /** How long each answer waits once the request has arrived. */
  delayMs?: number;
};

/** A counting server on 127.0.0.1. */
async function countingServer({ echoBytes = (received) => received, delayMs = 0 }: ServerOptions = {}) {
  const seen: Seen = {
    get: 0,
    post: 0,
    other: 0,
    closeHeader: 0,
    keepAliveHeader: 0,
    sockets: 0,
    inFlight: 0,
    mostInFlight: 0,
    badBodies: 0,
    postSizes: [],
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    seen.inFlight += 1;
    seen.mostInFlight = Math.max(seen.mostInFlight, seen.inFlight);
    res.on('finish', () => {
      seen.inFlight -= 1;
    });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.headers.connection === 'close') seen.closeHeader += 1;
      if (req.headers.connection === 'keep-alive') seen.keepAliveHeader += 1;
      const body = Buffer.concat(chunks);
      if (req.method === 'GET') seen.get += 1;
      else if (req.method === 'POST') {
        seen.post += 1;
        seen.postSizes.push(body.length);
        if (body.length !== Number(req.headers['content-length']) || !isNumberedJson(body))
          seen.badBodies += 1;
      } else seen.other += 1;
      const payload = req.method === 'POST' ? JSON.stringify({ bytes: echoBytes(body.length) }) : '{}';
      const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(payload);
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  };
  server = createServer(handle);
  server.on('connection', () => {
    seen.sockets += 1;
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { seen, url: `http://127.0.0.1:${port}/` };
}

function isNumberedJson(body: Buffer): boolean {
  try {
    return typeof JSON.parse(body.toString('utf8')).seq === 'number';
  } catch {
    return false;
  }
}

const base = (url: string): LoadOptions => ({ url, connections: 32, rate: 400, maxDurationSec: 2 });

describe('startLoad', () => {
  it('mixes GET and POST over keep-alive and fresh connections, and counts exactly what the server saw', async () => {
    const { seen, url } = await countingServer();
    const s = await startLoad({ ...base(url), postShare: 0.5, newConnectionShare: 0.5 }).result;

    // 2 s at 400 started per second: far above 200 unless the generator stalled.
    expect(s.requests).toBeGreaterThan(200);
    expect(s).toMatchObject({ ok2xx: s.requests, non2xx: 0, errors: 0, timeouts: 0, unanswered: 0 });
    expect(s.errorCodes).toEqual({});
    expect(s.failedByKind).toEqual({ get: 0, post: 0, keepAlive: 0, fresh: 0 });

    expect(s.byKind.get + s.byKind.post).toBe(s.requests);
    expect(s.byKind.keepAlive + s.byKind.fresh).toBe(s.requests);
    expect(seen).toMatchObject({ get: s.byKind.get, post: s.byKind.post, other: 0 });
    expect(seen).toMatchObject({ closeHeader: s.byKind.fresh, keepAliveHeader: s.byKind.keepAlive });
    for (const count of Object.values(s.byKind)) expect(count).toBeGreaterThan(s.requests / 4);

    expect(seen.badBodies).toBe(0);
    expect(Math.min(...seen.postSizes)).toBeGreaterThanOrEqual(1024);
    expect(Math.max(...seen.postSizes)).toBeLessThanOrEqual(4096);

    // Fresh connections: many more sockets than the 32 keep-alive ones, counted by both sides.
    expect(seen.sockets).toBeGreaterThan(32);
    expect(s.socketsOpened).toBe(seen.sockets);
  });

  it('holds fresh connections to the connection cap when the server is slower than the rate', async () => {
    // 200 started per second against 100 ms answers wants about 20 at once; the cap is 8.
    const { seen, url } = await countingServer({ delayMs: 100 });
    const s = await startLoad({ url, connections: 8, rate: 200, maxDurationSec: 1, newConnectionShare: 1 })
      .result;

    expect(s.byKind.fresh).toBeGreaterThan(100);
    expect(s.ok2xx).toBe(s.requests);
    expect(seen.mostInFlight).toBe(8);
    expect(seen.sockets).toBe(s.requests);
  });

  it('sends only GETs over its keep-alive connections by default', async () => {
    const { seen, url } = await countingServer();
    const s = await startLoad({ url, connections: 8, rate: 200, maxDurationSec: 1 }).result;

    expect(s.requests).toBeGreaterThan(50);
    expect(s.ok2xx).toBe(s.requests);
    expect(s.byKind).toEqual({ get: s.requests, post: 0, keepAlive: s.requests, fresh: 0 });
    expect(seen).toMatchObject({ get: s.requests, post: 0, closeHeader: 0 });
    expect(seen.sockets).toBeLessThanOrEqual(8);
    expect(s.socketsOpened).toBe(seen.sockets);
  });

  it('counts a 2xx answer to a POST that reports the wrong length as a BAD_ECHO error', async () => {
    const { seen, url } = await countingServer({ echoBytes: (received) => received - 1 });
    const s = await startLoad({ ...base(url), rate: 100, maxDurationSec: 1, postShare: 1 }).result;

    expect(s.requests).toBeGreaterThan(20);
    expect(seen.post).toBe(s.requests);
    expect(s).toMatchObject({ ok2xx: 0, errors: s.requests, errorCodes: { BAD_ECHO: s.requests } });
    expect(s.failedByKind.post).toBe(s.requests);
  });

  it('takes the echo on trust when told not to check it', async () => {
    const { url } = await countingServer({ echoBytes: () => -1 });
    const s = await startLoad({ ...base(url), rate: 100, maxDurationSec: 1, postShare: 1, verifyEcho: false })
      .result;

    expect(s.byKind.post).toBeGreaterThan(20);
    expect(s.ok2xx).toBe(s.requests);
  });

  it.each<[string, Partial<LoadOptions>, RegExp]>([
    ['a host off loopback', { url: 'http://10.0.0.1:8080/' }, /only goes to loopback/],
    [
      'a name that is not a loopback address',
      { url: 'http://localhost.example:80/' },
      /only goes to loopback/,
    ],
    ['zero connections', { connections: 0 }, /connections must be an integer in 1\.\.256/],
    ['more connections than the cap', { connections: 1000 }, /connections/],
    ['a rate above the cap', { rate: 1_000_000 }, /rate must be in 1\.\.5000/],
    ['a duration above the cap', { maxDurationSec: 86_400 }, /maxDurationSec/],
    ['a share above one', { postShare: 1.5 }, /postShare must be in 0\.\.1/],
    ['a negative share', { newConnectionShare: -0.1 }, /newConnectionShare/],
    ['a POST path on another host', { postPath: '//example.com/echo' }, /postPath must be a path on/],
    ['a POST size range upside down', { postMinBytes: 4096, postMaxBytes: 1024 }, /postMaxBytes/],
  ])('refuses %s', (_name, override, message) => {
    expect(() => startLoad({ ...base('http://127.0.0.1:9/'), ...override })).toThrow(message);
  });
});
