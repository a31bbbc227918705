import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEtcd, type EtcdClient } from '../../../src/etcd/etcd-client.ts';
import { LeaderElection } from '../../../src/etcd/leader-election.ts';
import type { DeploymentRecord } from '../../../src/etcd/state-records.ts';
import { EtcdStateStore } from '../../../src/etcd/state-store.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { deploymentRecord } from '../../support/deployment-records.ts';
import { type EtcdHandle, startEtcd } from '../../support/etcd-container.ts';
import { testRunId } from '../../support/labels.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'etcd-state-store';
let etcd: EtcdHandle;
let client: EtcdClient;

beforeAll(async () => {
  etcd = await startEtcd(SUITE);
  client = await connectEtcd({ endpoints: [etcd.endpoint], prefix: '/glint' });
});

afterAll(async () => {
  client?.close();
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
});

let seq = 0;
function deployment(app: string, version: string, over: Partial<DeploymentRecord> = {}): DeploymentRecord {
  seq++;
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString();
  return deploymentRecord(app, `${app}-${seq}`, version, at, over);
}

describe('EtcdStateStore against a real etcd', () => {
  it('allows one active deployment per app, enforced in etcd', async () => {
    const store = new EtcdStateStore(client);
    const first = await store.beginDeployment(deployment('web', '1.0.0'));
    await expect(store.beginDeployment(deployment('web', '1.0.1'))).rejects.toMatchObject({
      code: 'DeploymentInProgress',
      details: { activeDeploymentId: first.record.id },
    });
    // A second store (another daemon) sees the same lock.
    const other = new EtcdStateStore(await connectEtcd({ endpoints: [etcd.endpoint], prefix: '/glint' }));
    await expect(other.beginDeployment(deployment('web', '1.0.2'))).rejects.toMatchObject({
      code: 'DeploymentInProgress',
    });
    // Another app is independent.
    const api = await other.beginDeployment(deployment('api', '2.0.0'));
    // Every lock in one read, as each app's own read says.
    expect(await store.activeDeployments()).toEqual(
      new Map([
        ['api', api.record.id],
        ['web', first.record.id],
      ]),
    );

    const done = await store.finishDeployment(
      { ...first.record, state: 'succeeded' },
      { expectedModRevision: first.modRevision },
    );
    expect(done.record.finishedAt).toBeDefined();
    expect(await store.activeDeployment('web')).toBeUndefined();
    expect([...(await store.activeDeployments()).keys()]).toEqual(['api']);
    await expect(store.beginDeployment(deployment('web', '1.0.3'))).resolves.toBeDefined();
  });

  it('rejects a write based on a stale read (compare-and-swap)', async () => {
    const store = new EtcdStateStore(client);
    const d = await store.beginDeployment(deployment('cas', '1.0.0'));
    const next = await store.updateDeployment(
      { ...d.record, progress: { healthy: 2 } },
      { expectedModRevision: d.modRevision },
    );
    await expect(
      store.updateDeployment({ ...d.record, state: 'paused' }, { expectedModRevision: d.modRevision }),
    ).rejects.toMatchObject({ code: 'StateConflict' });
    expect((await store.getDeployment(d.record.app, d.record.id))?.record.progress).toEqual({ healthy: 2 });
    expect((await store.getDeployment(d.record.app, d.record.id))?.modRevision).toBe(next);
  });

  it('takes a write that etcd applied before its client retried it as done, not as a conflict', async () => {
    const store = new EtcdStateStore(client);
    const d = await store.beginDeployment(deployment('landed', '1.0.0'));
    const record = { ...d.record, progress: { healthy: 1 }, updatedAt: new Date().toISOString() };
    // The first try, applied by etcd; its answer is what a dead member's client never sees.
    const landed = await store.updateDeployment(record, { expectedModRevision: d.modRevision });
    // The retry: the same record, compared against the revision read before the first try.
    await expect(store.updateDeployment(record, { expectedModRevision: d.modRevision })).resolves.toBe(
      landed,
    );
    // Anything else written on that stale revision is still a conflict.
    await expect(
      store.updateDeployment({ ...record, progress: { healthy: 2 } }, { expectedModRevision: d.modRevision }),
    ).rejects.toMatchObject({ code: 'StateConflict' });
  });

  it('keeps the current release and the last 20 in history, across store instances (restarts)', async () => {
    const store = new EtcdStateStore(client);
    for (let i = 0; i < 22; i++) {
      const d = await store.beginDeployment(deployment('hist', `1.0.${i}`));
      await store.finishDeployment(
        { ...d.record, state: 'succeeded' },
        { expectedModRevision: d.modRevision },
      );
    }
    const failed = await store.beginDeployment(deployment('hist', '9.9.9'));
    await store.finishDeployment(
      { ...failed.record, state: 'failed', error: { reason: 'HealthCheckFailed', message: 'never healthy' } },
      { expectedModRevision: failed.modRevision },
    );

    const restarted = new EtcdStateStore(await connectEtcd({ endpoints: [etcd.endpoint], prefix: '/glint' }));
    const app = await restarted.getApp('hist');
    expect(app?.record.current?.version).toBe('1.0.21');
    expect(app?.record.history).toHaveLength(20);
    expect(app?.record.history.at(-1)?.version).toBe('1.0.2');
    const list = await restarted.listDeployments('hist', { limit: 3 });
    expect(list.map((d) => [d.to.version, d.state])).toEqual([
      ['9.9.9', 'failed'],
      ['1.0.21', 'succeeded'],
      ['1.0.20', 'succeeded'],
    ]);
    expect(list[0]?.error?.reason).toBe('HealthCheckFailed');
  });

  it('keeps the newest 50 finished records of an app, and lists one app without reading others', async () => {
    const store = new EtcdStateStore(client);
    for (let i = 0; i < 53; i++) {
      const d = await store.beginDeployment(deployment('pruned', `2.0.${i}`));
      await store.finishDeployment(
        { ...d.record, state: 'succeeded' },
        { expectedModRevision: d.modRevision },
      );
    }
    await store.beginDeployment(deployment('pruned-neighbour', '1.0.0'));
    const list = await store.listDeployments('pruned');
    expect(list).toHaveLength(50);
    expect(list[0]?.to.version).toBe('2.0.52');
    expect(list.at(-1)?.to.version).toBe('2.0.3');
    const { kvs } = await client.list('/glint/state/deployments/pruned/');
    expect(kvs).toHaveLength(50);
  });

  it("refuses leader-only writes once the writer's leadership is gone", async () => {
    const store = new EtcdStateStore(client);
    const election = new LeaderElection(client, { id: 'solo', address: 'http://127.0.0.1:1', ttlSeconds: 3 });
    election.start();
    await waitFor(() => (election.isLeader() ? true : undefined), { what: 'leadership' });
    const guard = election.guard();
    const d = await store.beginDeployment(deployment('guarded', '1.0.0'), { guard });
    await election.stop();

    await expect(
      store.updateDeployment(d.record, { expectedModRevision: d.modRevision, guard }),
    ).rejects.toMatchObject({ code: 'NotLeader' });
    await expect(store.beginDeployment(deployment('guarded2', '1.0.0'), { guard })).rejects.toMatchObject({
      code: 'NotLeader',
    });
    expect(await store.activeDeployment('guarded2')).toBeUndefined();
  });

  it('names the key of a record that does not validate', async () => {
    await client.put('/glint/state/apps/broken', '{"app":"broken"}');
    await expect(new EtcdStateStore(client).getApp('broken')).rejects.toMatchObject({
      code: 'InvalidStateRecord',
      message: expect.stringContaining('/glint/state/apps/broken'),
    });
  });
});
