import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEtcd, type EtcdClient, LeaderElection } from '../../../src/etcd/index.ts';
import { EtcdRotationStore, type RotationRecord } from '../../../src/rotation/index.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { type EtcdHandle, startEtcd } from '../../support/etcd-container.ts';
import { testRunId } from '../../support/labels.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'rotation-store';
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

const taken = (app: string, slot: string): RotationRecord => ({
  app,
  lastSlot: slot,
  last: { trigger: 'cron', at: slot, slot, outcome: 'started' },
  updatedAt: slot,
});

describe('EtcdRotationStore against a real etcd', () => {
  it('lets one of two daemons that read the same revision take a slot', async () => {
    const [a, b] = [new EtcdRotationStore(client), new EtcdRotationStore(client)];
    const slot = '2026-12-02T03:00:00.000Z';
    expect(await a.save(taken('web', slot), { expectedModRevision: 0 })).toBeGreaterThan(0);
    expect(await b.save(taken('web', slot), { expectedModRevision: 0 })).toBeUndefined();
    const read = await b.get('web');
    expect(read?.record.lastSlot).toBe(slot);
    const next = '2026-12-03T03:00:00.000Z';
    const rev = await b.save(taken('web', next), { expectedModRevision: read!.modRevision });
    expect(await a.save(taken('web', next), { expectedModRevision: read!.modRevision })).toBeUndefined();
    expect((await a.get('web'))?.modRevision).toBe(rev);
    const { kvs } = await client.list('/glint/state/rotations/');
    expect(kvs.map((kv) => kv.key)).toEqual(['/glint/state/rotations/web']);
  });

  it("refuses a deposed leader's write", async () => {
    const election = new LeaderElection(client, { id: 'solo', address: 'http://127.0.0.1:1', ttlSeconds: 3 });
    election.start();
    await waitFor(() => (election.isLeader() ? true : undefined), { what: 'leadership' });
    const guard = election.guard();
    const store = new EtcdRotationStore(client, { guard: () => guard });
    const rev = await store.save(taken('guarded', '2026-12-02T03:00:00.000Z'), { expectedModRevision: 0 });
    expect(rev).toBeGreaterThan(0);
    await election.stop();
    await expect(
      store.save(taken('guarded', '2026-12-03T03:00:00.000Z'), { expectedModRevision: rev! }),
    ).rejects.toMatchObject({ code: 'NotLeader' });
    expect((await store.get('guarded'))?.record.lastSlot).toBe('2026-12-02T03:00:00.000Z');
  });

  it('names the key of a record that does not validate, and how to fix it', async () => {
    await client.put('/glint/state/rotations/broken', '{"app":"broken","lastSlot":"yesterday"}');
    await expect(new EtcdRotationStore(client).get('broken')).rejects.toMatchObject({
      code: 'InvalidStateRecord',
      message:
        '/glint/state/rotations/broken does not hold a valid rotation record; delete it (the next run starts afresh)',
    });
  });
});
