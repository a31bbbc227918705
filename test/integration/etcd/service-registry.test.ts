import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  etcd = await startEtcd(SUITE);
  client = await connectEtcd({ endpoints: [etcd.endpoint], prefix: '/glint' });
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
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

async function revokeLease(id: string): Promise<void> {
  const raw = new Etcd3({ hosts: etcd.endpoint });
  try {
    await raw.leaseClient.leaseRevoke({ ID: id });
  } finally {
    raw.close();
  }
}

/**
 * Holds every put of `key` through `via` until `release()`, so a test can line up a race. A
 * released put also waits for deletes of the key already sent, as a slow network would, so
 * the put is the one etcd applies last unless the registry itself kept them in order.
 */
function holdPuts(via: EtcdClient, key: string) {
  const put = via.put.bind(via);
  const del = via.delete.bind(via);
  let arrive: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const deletes: Promise<number>[] = [];
  vi.spyOn(via, 'delete').mockImplementation((k, opts) => {
    const call = del(k, opts);
    if (k === key) deletes.push(call);
    return call;
  });
  const calls: Promise<number>[] = [];
  vi.spyOn(via, 'put').mockImplementation((k, value, opts) => {
    if (k !== key) return put(k, value, opts);
    const call = (async () => {
      arrive();
      await released;
      await Promise.allSettled(deletes);
      return put(k, value, opts);
    })();
    calls.push(call);
    return call;
  });
  return { arrived, release, settled: () => Promise.allSettled(calls) };
}

async function ownClient(): Promise<EtcdClient> {
  const via = await connectEtcd({ endpoints: [etcd.endpoint], prefix: '/glint' });
  cleanups.push(() => via.close());
  return via;
}

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

  it('an instance deregistered while it is written again under a new lease stays gone', async () => {
    const via = await ownClient();
    const registry = new EtcdServiceRegistry(via, { ttlSeconds: 3, retryDelayMs: 100 });
    await registry.register(entry('race-1', 5101));
    const key = '/glint/services/db/race-1';
    const held = holdPuts(via, key);
    await revokeLease(await registry.leaseId());
    await held.arrived; // the re-register after the lost lease is on its way to etcd

    const deregistered = registry.deregister('db', 'race-1');
    held.release();
    await deregistered;
    await held.settled();
    expect(await client.get(key)).toBeUndefined();
    await registry.close();
  });

  it('a deregister issued while the register is in flight wins once both settle', async () => {
    const via = await ownClient();
    const registry = new EtcdServiceRegistry(via, { ttlSeconds: 5 });
    await registry.leaseId();
    const key = '/glint/services/db/race-2';
    const held = holdPuts(via, key);
    const registering = registry.register(entry('race-2', 5102));
    await held.arrived;
    const deregistering = registry.deregister('db', 'race-2');
    held.release();
    await Promise.all([registering, deregistering]);
    await held.settled();
    expect(await client.get(key)).toBeUndefined();
    await registry.close();
  });

  it('an entry whose register failed is not written later; the others come back after a lost lease', async () => {
    const registry = new EtcdServiceRegistry(client, { ttlSeconds: 3, retryDelayMs: 100 });
    await expect(registry.register({ ...entry('bad-1', 5201), port: 0 })).rejects.toThrow();
    await registry.register(entry('good-1', 5202));
    const firstLease = await registry.leaseId();
    await revokeLease(firstLease);

    const back = await waitFor(
      async () => {
        const kv = await client.get('/glint/services/db/good-1');
        return kv && kv.lease !== firstLease ? kv : undefined;
      },
      { timeoutMs: 15_000, what: 'good-1 registered again under a new lease' },
    );
    expect(JSON.parse(back.value)).toMatchObject({ instance: 'good-1', port: 5202 });
    expect(await client.get('/glint/services/db/bad-1')).toBeUndefined();
    await registry.close();
  });

  it('list skips a key that does not hold a glint entry and returns the others', async () => {
    const registry = new EtcdServiceRegistry(client, { ttlSeconds: 5 });
    await client.put('/glint/services/mixed/foreign', 'written by another program');
    await registry.register({ ...entry('mixed-1', 5301), app: 'mixed' });
    expect((await registry.list('mixed')).map((e) => e.instance)).toEqual(['mixed-1']);
    await registry.close();
    await client.delete('/glint/services/mixed/foreign');
  });
});
