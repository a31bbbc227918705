import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_TIMEOUTS,
  HaproxyLoadBalancer,
  type LbApp,
  type LbModel,
  LocalBinaryValidator,
} from '../../../src/lb/index.ts';
import { freePort } from '../../support/free-port.ts';
import { type HaproxyHandle, startHaproxy } from '../../support/haproxy-container.ts';

export const fastCheck = {
  type: 'http' as const,
  path: '/healthz',
  intervalMs: 500,
  rise: 2,
  fall: 2,
  timeoutMs: 1_000,
};

export function appModel(name: string, port: number, extra: Partial<LbApp> = {}): LbApp {
  return {
    name,
    frontend: { bind: `127.0.0.1:${port}` },
    check: fastCheck,
    drainTimeoutMs: 10_000,
    servers: [],
    ...extra,
  };
}

export type LbFixture = { lb: HaproxyLoadBalancer; haproxy: HaproxyHandle; runDir: string; model: LbModel };

/** A real HAProxy container started from the config the load balancer renders. */
export async function startLbFixture(suite: string, apps: LbApp[], extra: Partial<LbModel> = {}) {
  const runDir = mkdtempSync(join(tmpdir(), `glint-${suite}-`));
  const model: LbModel = { runDir, hardStopAfterMs: 30_000, timeouts: DEFAULT_TIMEOUTS, apps, ...extra };
  const lb = new HaproxyLoadBalancer({ model, validator: new LocalBinaryValidator(), pollIntervalMs: 50 });
  await lb.writeInitialConfig();
  const haproxy = await startHaproxy(suite, runDir);
  return { lb, haproxy, runDir, model } satisfies LbFixture;
}

export type TestBackend = {
  server: Server;
  port: number;
  hits: { path: string }[];
  healthy: boolean;
  /** Answers every `/hold` request waiting so far. */
  release(): void;
  close(): Promise<void>;
};

/**
 * An HTTP backend in the test process: quicker than a container for membership tests, and it
 * records what reached it. `/slow?ms=N` answers after N ms; `/hold` answers once `release()`
 * is called; `/healthz` follows `healthy`.
 */
export async function startTestBackend(name: string, healthy = true): Promise<TestBackend> {
  const backend = {
    hits: [] as { path: string }[],
    healthy,
  } as TestBackend;
  const held: Array<() => void> = [];
  backend.release = () => {
    for (const answer of held.splice(0)) answer();
  };
  backend.server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/healthz') {
      res.statusCode = backend.healthy ? 200 : 503;
      return res.end(backend.healthy ? 'ok' : 'failing');
    }
    backend.hits.push({ path: url.pathname });
    if (url.pathname === '/hold') return held.push(() => res.end(`served by ${name}`));
    const delay = url.pathname === '/slow' ? Number(url.searchParams.get('ms') ?? 1000) : 0;
    setTimeout(() => res.end(`served by ${name}`), delay);
  });
  await new Promise<void>((resolve) => backend.server.listen(0, '127.0.0.1', resolve));
  backend.port = (backend.server.address() as AddressInfo).port;
  backend.close = () =>
    new Promise<void>((resolve) => {
      backend.server.closeAllConnections();
      backend.server.close(() => resolve());
    });
  return backend;
}

export { freePort };
