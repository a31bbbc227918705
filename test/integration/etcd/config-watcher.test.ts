import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigChangeEvent, ConfigWatcher } from '../../../src/etcd/config-watcher.ts';
import { connectEtcd, type EtcdClient } from '../../../src/etcd/etcd-client.ts';
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
  const watcher = new ConfigWatcher(via, { apps: apps.map((name) => ({ name })), debounceMs });
  const events = collect(watcher);
  await watcher.start();
  cleanups.push(() => watcher.stop());
  return { watcher, events };
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
  it('turns a burst of writes into one event per app and skips writes that change nothing', async () => {
    await client.put('/glint/config/burst/SAME', 'v');
    const { events } = await watch(client, ['burst', 'other']);
    for (let i = 0; i < 10; i++) await client.put(`/glint/config/burst/K${i}`, String(i));
    const [event] = await waitFor(forApp(events, 'burst'), { what: 'burst event' });
    expect(event?.keys).toHaveLength(10);
    expect(event?.reason).toBe('config');

    const before = events.length;
    await client.put('/glint/config/burst/SAME', 'v');
    await client.put('/glint/config/other/X', '1');
    // Both windows open in write order, so by the time "other" flushes "burst" has flushed too.
    await waitFor(forApp(events, 'other'), { what: 'event for the other app' });
    expect(events.slice(before).filter((e) => e.app === 'burst')).toEqual([]);
  });

  it('fires for apps whose env references a service when its instances change', async () => {
    await client.put('/glint/config/shop/DB', '{{service:pg}}');
    await client.put('/glint/services/pg/pg-1', JSON.stringify(entry('pg', 'pg-1', 5001)));
    const { events } = await watch(client, ['shop']);
    await client.put('/glint/services/pg/pg-2', JSON.stringify(entry('pg', 'pg-2', 5002)));
    const [event] = await waitFor(forApp(events, 'shop'));
    expect(event).toMatchObject({ reason: 'service', keys: ['/glint/services/pg/pg-2'] });
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
