import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awaitDeploymentEnd } from '../../../src/api/await-deployment-end.ts';
import { connectEtcd, type EtcdClient } from '../../../src/etcd/etcd-client.ts';
import { nextDeploymentChange } from '../../../src/etcd/index.ts';
import { EtcdStateStore } from '../../../src/etcd/state-store.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { deploymentRecord } from '../../support/deployment-records.ts';
import { type EtcdHandle, startEtcd } from '../../support/etcd-container.ts';
import { testRunId } from '../../support/labels.ts';

const SUITE = 'etcd-deployment-changes';
let etcd: EtcdHandle;
let client: EtcdClient;
let store: EtcdStateStore;

beforeAll(async () => {
  etcd = await startEtcd(SUITE);
  client = await connectEtcd({ endpoints: [etcd.endpoint], prefix: '/glint' });
  store = new EtcdStateStore(client);
});

afterAll(async () => {
  client?.close();
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
});

const at = '2026-01-01T00:00:00.000Z';
const changes = {
  next: (app: string, id: string, rev: number, signal: AbortSignal) =>
    nextDeploymentChange(client, app, id, rev, signal),
};

/** A generous deadline whose expiry the test can tell apart from a real wake-up. */
function deadline(ms = 60_000) {
  const signal = AbortSignal.timeout(ms);
  return { signal, expired: () => signal.aborted };
}

describe('waiting on a stored deployment through etcd', () => {
  it('wakes when the record is written after the revision it was read at', async () => {
    const begun = await store.beginDeployment(deploymentRecord('wa', 'wa-20260101T000000-0001', '1.0.0', at));
    const limit = deadline();
    const woke = nextDeploymentChange(client, 'wa', begun.record.id, begun.modRevision, limit.signal);
    const rev = await store.updateDeployment(
      { ...begun.record, progress: { desired: 2, healthy: 2 } },
      { expectedModRevision: begun.modRevision },
    );
    await woke;
    expect(limit.expired()).toBe(false);
    expect((await store.getDeployment('wa', begun.record.id))?.modRevision).toBe(rev);
  });

  it('wakes at once for a write it did not see yet', async () => {
    const begun = await store.beginDeployment(deploymentRecord('wb', 'wb-20260101T000000-0001', '1.0.0', at));
    await store.updateDeployment(begun.record, { expectedModRevision: begun.modRevision });
    // Read at the older revision: the newer write is already in etcd's history.
    const limit = deadline();
    await nextDeploymentChange(client, 'wb', begun.record.id, begun.modRevision, limit.signal);
    expect(limit.expired()).toBe(false);
  });

  it('returns when the signal aborts with nothing written', async () => {
    const begun = await store.beginDeployment(deploymentRecord('wc', 'wc-20260101T000000-0001', '1.0.0', at));
    const stop = new AbortController();
    const waiting = nextDeploymentChange(client, 'wc', begun.record.id, begun.modRevision, stop.signal);
    stop.abort();
    await waiting;
    expect((await store.getDeployment('wc', begun.record.id))?.modRevision).toBe(begun.modRevision);
  });

  it('gives a long poll the finished record once another writer ends the deployment', async () => {
    const begun = await store.beginDeployment(deploymentRecord('wd', 'wd-20260101T000000-0001', '1.0.0', at));
    const waited = awaitDeploymentEnd(
      { state: store, changes },
      'wd',
      begun.record.id,
      AbortSignal.timeout(60_000),
    );
    const running = await store.updateDeployment(begun.record, { expectedModRevision: begun.modRevision });
    await store.finishDeployment({ ...begun.record, state: 'succeeded' }, { expectedModRevision: running });
    expect((await waited).state).toBe('succeeded');
  });
});
