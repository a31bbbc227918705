import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CachedSources,
  connectEtcd,
  type EtcdClient,
  EtcdStateStore,
  StateReadCache,
} from '../../../src/etcd/index.ts';
import { silentLogger } from '../../../src/log/index.ts';
import { deploymentRecord } from '../../support/deployment-records.ts';
import { type EtcdHandle, startEtcd } from '../../support/etcd-container.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'etcd-state-read-cache';
let handle: EtcdHandle;
let etcd: EtcdClient;
let store: EtcdStateStore;
let cache: StateReadCache;
/** How many reads reached etcd, by kind. */
const reads = { list: 0, get: 0 };

beforeAll(async () => {
  handle = await startEtcd(SUITE);
  etcd = await connectEtcd({ endpoints: [handle.endpoint], prefix: '/glint' });
  store = new EtcdStateStore(etcd);
  const sources: CachedSources = {
    getApp: (app) => store.getApp(app),
    getDeployment: (app, id) => {
      reads.get++;
      return store.getDeployment(app, id);
    },
    activeDeployment: (app) => store.activeDeployment(app),
    listDeployments: (app, opts) => {
      reads.list++;
      return store.listDeployments(app, opts);
    },
    ready: async () => [],
  };
  cache = new StateReadCache(etcd, sources, silentLogger());
  await cache.start();
});

afterAll(async () => {
  await cache?.stop();
  etcd?.close();
  await handle?.container.stop();
});

/**
 * Until the watch has delivered every write made so far: a marker written now comes after
 * them on the same ordered stream, so once the cache sees it, it has seen them too.
 */
let markers = 0;
async function untilWatched() {
  const id = `zz-20260101T0000${String(markers++).padStart(2, '0')}-0001`;
  await cache.listDeployments('zz', { limit: 50 });
  await etcd.put(
    etcd.keys.deployment('zz', id),
    JSON.stringify(deploymentRecord('zz', id, '1.0.0', '2026-01-01T00:00:00.000Z')),
  );
  await waitFor(
    async () =>
      (await cache.listDeployments('zz', { limit: 50 })).some((d) => d.id === id) ? true : undefined,
    { what: 'the cache to see the marker write', timeoutMs: 30_000 },
  );
}

describe('StateReadCache against a real etcd', () => {
  it('answers repeated reads from memory, concurrent ones with one read', async () => {
    await store.beginDeployment(
      deploymentRecord('ca', 'ca-20260101T000000-0001', '1.0.0', '2026-01-01T00:00:00.000Z'),
    );
    await untilWatched();
    const before = reads.list;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => cache.listDeployments('ca', { limit: 50 })),
    );
    await cache.listDeployments('ca', { limit: 50 });
    expect(reads.list - before).toBe(1);
    for (const a of answers) expect(a.map((d) => d.id)).toEqual(['ca-20260101T000000-0001']);
  });

  it("forgets an app's answers when etcd reports a change under its keys, and only that app's", async () => {
    await store.beginDeployment(
      deploymentRecord('cb', 'cb-20260101T000000-0001', '1.0.0', '2026-01-01T00:00:00.000Z'),
    );
    await store.beginDeployment(
      deploymentRecord('cc', 'cc-20260101T000000-0001', '1.0.0', '2026-01-01T00:00:00.000Z'),
    );
    await untilWatched();
    expect(await cache.listDeployments('cb')).toHaveLength(1);
    expect(await cache.listDeployments('cc')).toHaveLength(1);
    // A second deployment of cb, written by someone else (another daemon): seen once its event arrives.
    await etcd.put(
      etcd.keys.deployment('cb', 'cb-20260101T000100-0002'),
      JSON.stringify(deploymentRecord('cb', 'cb-20260101T000100-0002', '1.1.0', '2026-01-01T00:01:00.000Z')),
    );
    await waitFor(async () => ((await cache.listDeployments('cb')).length === 2 ? true : undefined), {
      what: 'the cache to see the new deployment of cb',
      timeoutMs: 30_000,
    });
    const before = reads.list;
    expect(await cache.listDeployments('cc')).toHaveLength(1);
    expect(reads.list).toBe(before);
  });

  it('does not keep "not found": a deployment written a moment later is found at once', async () => {
    const id = 'cd-20260101T000000-0001';
    expect(await cache.getDeployment('cd', id)).toBeUndefined();
    await store.beginDeployment(deploymentRecord('cd', id, '1.0.0', '2026-01-01T00:00:00.000Z'));
    expect((await cache.getDeployment('cd', id))?.record.id).toBe(id);
  });
});
