import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ConfigChangeEvent, ConfigWatcher } from '../../../src/etcd/config-watcher.ts';
import { connectEtcd, type EtcdClient } from '../../../src/etcd/etcd-client.ts';
import { resolveAppEnv } from '../../../src/etcd/resolve-app-env.ts';
import { createLogger } from '../../../src/log/index.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { type ConnectionRelay, startRelay } from '../../support/connection-relay.ts';
import { type EtcdHandle, startEtcd } from '../../support/etcd-container.ts';
import { freePort } from '../../support/free-port.ts';
import { testRunId } from '../../support/labels.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'etcd-config-watcher';
let etcd: EtcdHandle;
let hostPort: number;
let client: EtcdClient;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  hostPort = await freePort();
  etcd = await startEtcd(SUITE, { hostPort });
  client = await connectEtcd({ endpoints: [etcd.endpoint], prefix: '/glint' });
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  client?.close();
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
});

function collect(watcher: ConfigWatcher): ConfigChangeEvent[] {
  const events: ConfigChangeEvent[] = [];
  watcher.on('change', (e) => events.push(e));
  return events;
}

async function watch(via: EtcdClient, apps: string[], debounceMs = 150) {
  const watcher = new ConfigWatcher(via, {
    apps: apps.map((name) => ({ name })),
    debounceMs,
    frontends: () => new Map(),
  });
  const events = collect(watcher);
  await watcher.start();
  cleanups.push(() => watcher.stop());
  return { watcher, events };
}

async function ownClient(): Promise<EtcdClient> {
  const via = await connectEtcd({ endpoints: [etcd.endpoint], prefix: '/glint' });
  cleanups.push(() => via.close());
  return via;
}

/** Every key etcd delivers to watches opened through `via`. */
function recordDeliveredKeys(via: EtcdClient): string[] {
  const watchRange = via.watchRange.bind(via);
  const keys: string[] = [];
  vi.spyOn(via, 'watchRange').mockImplementation((range, from, handlers) =>
    watchRange(range, from, {
      ...handlers,
      onEvents: (events, revision) => {
        keys.push(...events.map((e) => e.kv.key));
        handlers.onEvents(events, revision);
      },
    }),
  );
  return keys;
}

/** Watches opened through `via` and not cancelled yet. */
function trackOpenWatches(via: EtcdClient): Set<object> {
  const watchRange = via.watchRange.bind(via);
  const open = new Set<object>();
  vi.spyOn(via, 'watchRange').mockImplementation((range, from, handlers) => {
    const handle = watchRange(range, from, handlers);
    const token = {};
    open.add(token);
    return {
      cancel: async () => {
        open.delete(token);
        await handle.cancel();
      },
    };
  });
  return open;
}

async function proxiedClient(): Promise<{ proxy: ConnectionRelay; via: EtcdClient }> {
  const proxy = await startRelay({ port: hostPort }, { port: 0 });
  const via = await connectEtcd({ endpoints: [`http://127.0.0.1:${proxy.port}`], prefix: '/glint' });
  cleanups.push(async () => {
    via.close();
    await proxy.close();
  });
  return { proxy, via };
}

const forApp = (events: ConfigChangeEvent[], app: string) => () => {
  const hit = events.filter((e) => e.app === app);
  return hit.length > 0 ? hit : undefined;
};

describe('ConfigWatcher against a real etcd', () => {
  it('a burst of writes ends in an event carrying the final env, and writes that change nothing emit nothing', async () => {
    await client.put('/glint/config/burst/SAME', 'v');
    const { events } = await watch(client, ['burst', 'other']);
    const keys = Array.from({ length: 10 }, (_, i) => `/glint/config/burst/K${i}`);
    for (const [i, key] of keys.entries()) await client.put(key, String(i));
    // How many windows the burst spans depends on the scheduler; the unit tests of
    // KeyedDebouncer pin the windowing. Here: no event is lost, none is doubled, the last wins.
    const final = (await resolveAppEnv(client, { app: 'burst', frontends: new Map() })).fingerprint;
    await waitFor(() => events.find((e) => e.app === 'burst' && e.fingerprint === final), {
      what: 'an event carrying the final env of burst',
    });
    const burst = events.filter((e) => e.app === 'burst');
    expect(burst.length).toBeLessThanOrEqual(keys.length);
    expect(burst.flatMap((e) => e.keys).sort()).toEqual([...keys].sort());
    expect(burst.every((e) => e.reason === 'config')).toBe(true);
    expect(burst.at(-1)?.fingerprint).toBe(final);

    const before = events.length;
    await client.put('/glint/config/burst/SAME', 'v');
    await client.put('/glint/config/other/X', '1');
    // Both windows open in write order and last equally long, so "burst" flushes before "other".
    await waitFor(forApp(events, 'other'), { what: 'event for the other app' });
    expect(events.slice(before).filter((e) => e.app === 'burst')).toEqual([]);
  });

  it('watches only config, secrets and services: writes under state/ never reach it', async () => {
    const via = await ownClient();
    const delivered = recordDeliveredKeys(via);
    const { events } = await watch(via, ['quietstate']);
    for (let i = 0; i < 5; i++) await client.put(`/glint/state/deployments/d-${i}`, `step ${i}`);
    await client.put('/glint/secrets/quietstate/TOKEN', 's3cret');
    await waitFor(forApp(events, 'quietstate'), { what: 'event for the secret' });
    expect(delivered).toContain('/glint/secrets/quietstate/TOKEN');
    expect(delivered.filter((key) => key.startsWith('/glint/state/'))).toEqual([]);
  });

  it('a stop while the first read is in flight leaves no watch open', async () => {
    const via = await ownClient();
    const open = trackOpenWatches(via);
    const watcher = new ConfigWatcher(via, {
      apps: [{ name: 'early' }],
      debounceMs: 50,
      frontends: () => new Map(),
    });
    const started = watcher.start();
    await watcher.stop();
    await started;
    expect(open.size).toBe(0);
  });

  it('a listener that throws or rejects is logged; the other listeners still hear every change', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'error',
      destination: new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const watcher = new ConfigWatcher(client, {
      apps: [{ name: 'fragile' }],
      debounceMs: 50,
      frontends: () => new Map(),
      logger,
    });
    watcher.on('change', () => {
      throw new Error('listener bug');
    });
    watcher.on('change', async () => {
      throw new Error('async listener bug');
    });
    const events = collect(watcher);
    await watcher.start();
    cleanups.push(() => watcher.stop());
    await client.put('/glint/config/fragile/A', '1');
    await waitFor(forApp(events, 'fragile'), { what: 'first change' });
    await client.put('/glint/config/fragile/A', '2');
    await waitFor(() => (events.length === 2 ? true : undefined), { what: 'second change' });
    await waitFor(() => (lines.filter((l) => l.includes('listener failed')).length >= 4 ? true : undefined), {
      what: 'both listener failures logged for both changes',
    });
    expect(lines.join('')).toContain('async listener bug');
  });

  it("fires for apps whose env reads a service's instances when they change, not for apps using its frontend", async () => {
    await client.put('/glint/config/shop/DB', '{{service:pg.instances}}');
    await client.put('/glint/config/mall/DB', 'pg://{{service:pg}}/mall');
    await client.put('/glint/services/pg/pg-1', JSON.stringify(entry('pg', 'pg-1', 5001)));
    const watcher = new ConfigWatcher(client, {
      apps: [{ name: 'shop' }, { name: 'mall' }],
      // pg is declared (with a frontend of its own) but takes no config from etcd: not watched.
      frontends: () => new Map([['pg', 15432]]),
      debounceMs: 150,
    });
    const events = collect(watcher);
    await watcher.start();
    cleanups.push(() => watcher.stop());
    await client.put('/glint/services/pg/pg-2', JSON.stringify(entry('pg', 'pg-2', 5002)));
    const [event] = await waitFor(forApp(events, 'shop'));
    expect(event).toMatchObject({ reason: 'service', keys: ['/glint/services/pg/pg-2'] });
    // A change of mall's own config after pg's: its event carries that key alone.
    await client.put('/glint/config/mall/MARK', '1');
    const [mall] = await waitFor(forApp(events, 'mall'));
    expect(mall).toMatchObject({ reason: 'config', reasons: ['config'], keys: ['/glint/config/mall/MARK'] });
    expect(events.filter((e) => e.app === 'mall')).toHaveLength(1);
  });

  it('resumes from the last seen revision after a partition and sees what changed meanwhile', async () => {
    const { proxy, via } = await proxiedClient();
    const { events } = await watch(via, ['cut']);
    await proxy.cut();
    const revision = await client.put('/glint/config/cut/DURING', 'partition');
    await proxy.restore();
    const [event] = await waitFor(forApp(events, 'cut'), {
      timeoutMs: 30_000,
      what: 'event after partition',
    });
    expect(event?.revision).toBe(revision);
    expect(event?.keys).toEqual(['/glint/config/cut/DURING']);
  });

  it('recovers from a compacted revision by re-reading and reports what differs', async () => {
    const { proxy, via } = await proxiedClient();
    const { events, watcher } = await watch(via, ['compact']);
    await proxy.cut();
    await client.put('/glint/config/compact/LEVEL', 'changed');
    let latest = 0;
    for (let i = 0; i < 5; i++) latest = await client.put('/glint/unrelated/noise', String(i));
    await client.compact(latest);
    await proxy.restore();
    const [event] = await waitFor(forApp(events, 'compact'), {
      timeoutMs: 30_000,
      what: 'event after compaction',
    });
    expect(event).toMatchObject({ reason: 'resync', keys: ['/glint/config/compact/LEVEL'] });
    expect(watcher.revision).toBeGreaterThanOrEqual(latest);

    // And it keeps watching from the new revision.
    await client.put('/glint/config/compact/LEVEL', 'again');
    await waitFor(() => (events.filter((e) => e.app === 'compact').length === 2 ? true : undefined));
  });

  it('keeps watching after etcd itself is restarted', async () => {
    const { events } = await watch(client, ['restart']);
    await etcd.container.restart();
    const revision = await waitFor(() => client.put('/glint/config/restart/AFTER', 'up'), {
      timeoutMs: 30_000,
      what: 'etcd back',
    });
    const [event] = await waitFor(forApp(events, 'restart'), {
      timeoutMs: 30_000,
      what: 'event after restart',
    });
    expect(event?.revision).toBe(revision);
  });

  it('leaves out apps that ignore config changes unless asked', async () => {
    const watcher = new ConfigWatcher(client, {
      apps: [
        { name: 'quiet', onConfigChange: 'ignore' },
        { name: 'loud', onConfigChange: 'rotate' },
      ],
      debounceMs: 100,
      frontends: () => new Map(),
    });
    const events = collect(watcher);
    await watcher.start();
    cleanups.push(() => watcher.stop());
    await client.put('/glint/config/quiet/X', '1');
    await client.put('/glint/config/loud/X', '1');
    await waitFor(forApp(events, 'loud'));
    expect(events.map((e) => e.app)).toEqual(['loud']);
  });
});

function entry(app: string, instance: string, port: number) {
  return { app, instance, host: '127.0.0.1', port, version: '1', digest: 'sha256:x', startedAt: 'now' };
}
