import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEtcd, type EtcdClient } from '../../../src/etcd/etcd-client.ts';
import { EtcdServiceRegistry } from '../../../src/etcd/service-registry.ts';
import { spawnTsxChild, type TsxChild } from '../../support/child-process.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { type EtcdHandle, startEtcd } from '../../support/etcd-container.ts';
import { testRunId } from '../../support/labels.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'etcd-service-registry';
let etcd: EtcdHandle;
let client: EtcdClient;
const children: TsxChild[] = [];

beforeAll(async () => {
  etcd = await startEtcd(SUITE);
  client = await connectEtcd({ endpoints: [etcd.endpoint], prefix: '/glint' });
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  client?.close();
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
});

const entry = (instance: string, port: number) => ({
  app: 'db',
  instance,
  host: '127.0.0.1',
  port,
  version: '1.2.3',
  digest: 'sha256:abc',
  startedAt: '2026-01-01T00:00:00.000Z',
});

describe('EtcdServiceRegistry', () => {
  it('registers, lists and deregisters instances as plain JSON other programs can read', async () => {
    const registry = new EtcdServiceRegistry(client, { ttlSeconds: 5 });
    await registry.register(entry('db-2', 5002));
    await registry.register(entry('db-1', 5001));
    expect((await registry.list('db')).map((e) => e.instance)).toEqual(['db-1', 'db-2']);

    const raw = await client.get('/glint/services/db/db-1');
    expect(JSON.parse(raw?.value ?? '{}')).toMatchObject({ host: '127.0.0.1', port: 5001, version: '1.2.3' });
    expect(raw?.lease).toBe(await registry.leaseId());

    await registry.deregister('db', 'db-2');
    expect((await registry.list('db')).map((e) => e.instance)).toEqual(['db-1']);
    await registry.close();
    expect(await registry.list('db')).toEqual([]);
  });

  it('writes its entries again under a new lease when the lease is lost', async () => {
    const registry = new EtcdServiceRegistry(client, { ttlSeconds: 3, retryDelayMs: 100 });
    await registry.register(entry('db-9', 5009));
    const firstLease = await registry.leaseId();
    const raw = new Etcd3({ hosts: etcd.endpoint });
    await raw.leaseClient.leaseRevoke({ ID: firstLease });
    raw.close();
    expect(await client.get('/glint/services/db/db-9')).toBeUndefined();

    const back = await waitFor(async () => (await client.get('/glint/services/db/db-9')) ?? undefined, {
      timeoutMs: 15_000,
      what: 'entry registered again',
    });
    expect(back.lease).not.toBe(firstLease);
    await registry.close();
  });

  it('the entry of a daemon killed with SIGKILL disappears when its lease expires', async () => {
    const child = spawnTsxChild('./etcd-daemon-child.ts', {
      mode: 'register',
      endpoint: etcd.endpoint,
      prefix: '/glint',
      id: 'orphan-1',
      app: 'orphan',
      ttlSeconds: 2,
      port: 7001,
    });
    children.push(child);
    await child.waitForEvent((e) => e.event === 'registered');
    const registry = new EtcdServiceRegistry(client);
    expect((await registry.list('orphan')).map((e) => e.instance)).toEqual(['orphan-1']);

    child.kill('SIGKILL');
    await child.exited;
    await waitFor(async () => ((await registry.list('orphan')).length === 0 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the orphan entry to expire',
    });
    expect(await client.get('/glint/services/orphan/orphan-1')).toBeUndefined();
  });
});
