import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectEtcd, type EtcdClient } from '../../../src/etcd/etcd-client.ts';
import { LeaderElection } from '../../../src/etcd/leader-election.ts';
import type { LeaderGuard } from '../../../src/etcd/leader-guard.ts';
import { EtcdStateStore } from '../../../src/etcd/state-store.ts';
import { type ChildEvent, spawnTsxChild, type TsxChild } from '../../support/child-process.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { type EtcdHandle, startEtcd } from '../../support/etcd-container.ts';
import { testRunId } from '../../support/labels.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'etcd-leader-election';
const TTL = 2;
let etcd: EtcdHandle;
let client: EtcdClient;
const children: TsxChild[] = [];

beforeAll(async () => {
  etcd = await startEtcd(SUITE);
  client = await connectEtcd({ endpoints: [etcd.endpoint], prefix: '/unused' });
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  client?.close();
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
});

function daemon(prefix: string, id: string, extra: Record<string, unknown> = {}): TsxChild {
  const child = spawnTsxChild('./etcd-daemon-child.ts', {
    mode: 'elect',
    endpoint: etcd.endpoint,
    prefix,
    id,
    ttlSeconds: TTL,
    ...extra,
  });
  children.push(child);
  return child;
}

const elected = (e: ChildEvent) => e.event === 'elected';

async function firstLeader(a: TsxChild, b: TsxChild): Promise<[TsxChild, TsxChild, ChildEvent]> {
  const winner = await waitFor(() => (a.events.some(elected) ? a : b.events.some(elected) ? b : undefined), {
    timeoutMs: 20_000,
    what: 'a leader',
  });
  const follower = winner === a ? b : a;
  return [winner, follower, (await winner.waitForEvent(elected)) as ChildEvent];
}

describe('leader election between two daemon processes', () => {
  it('elects exactly one; after kill -9 of the leader the follower leads once the lease expires, never before', async () => {
    const prefix = '/glint-elect-kill';
    const [a, b] = [daemon(prefix, 'daemon-a'), daemon(prefix, 'daemon-b')];
    const [leader, follower, first] = await firstLeader(a, b);
    await follower.waitForEvent((e) => e.event === 'ready');
    expect(follower.events.some(elected)).toBe(false);

    const killedAt = Date.now();
    leader.kill('SIGKILL');
    await leader.exited;
    // How fast is measured in bench/etcd-failover.ts; here only that it happens, and never
    // while the old leader was alive.
    const second = await follower.waitForEvent(elected, { timeoutMs: 60_000 });
    expect(second.at).toBeGreaterThanOrEqual(killedAt);
    expect(Number(second.createRevision)).toBeGreaterThan(Number(first.createRevision));

    const observer = new LeaderElection(await connectEtcd({ endpoints: [etcd.endpoint], prefix }), {
      id: 'observer',
      address: 'x',
    });
    expect((await observer.leader())?.id).toBe(follower === a ? 'daemon-a' : 'daemon-b');

    // The killed daemon comes back as a new process: it follows, and its old guard can't write.
    const returned = daemon(prefix, leader === a ? 'daemon-a' : 'daemon-b');
    await returned.waitForEvent((e) => e.event === 'ready');
    const store = new EtcdStateStore(await connectEtcd({ endpoints: [etcd.endpoint], prefix }));
    const stale: LeaderGuard = {
      key: `${prefix}/state/leader`,
      createRevision: Number(first.createRevision),
      leaderId: String(first.id),
    };
    const record = { app: 'web', history: [], updatedAt: new Date().toISOString() };
    await expect(store.saveApp(record, { expectedModRevision: 0, guard: stale })).rejects.toMatchObject({
      code: 'NotLeader',
    });
    const current: LeaderGuard = { ...stale, createRevision: Number(second.createRevision) };
    await expect(store.saveApp(record, { expectedModRevision: 0, guard: current })).resolves.toBeGreaterThan(
      0,
    );
    expect(returned.events.some(elected)).toBe(false);
  });

  it('a frozen leader that comes back is deposed, campaigns again, and etcd refuses its writes', async () => {
    const prefix = '/glint-elect-freeze';
    const [a, b] = [
      daemon(prefix, 'zombie-a', { zombieWrites: true }),
      daemon(prefix, 'zombie-b', { zombieWrites: true }),
    ];
    const [leader, follower] = await firstLeader(a, b);
    await leader.waitForEvent((e) => e.event === 'write' && e.ok === true);

    leader.kill('SIGSTOP');
    const takeover = await follower.waitForEvent(elected, { timeoutMs: 60_000 });
    const mark = leader.events.length;
    leader.kill('SIGCONT');

    await leader.waitForEvent((e) => e.event === 'deposed', { since: mark });
    const rejected = await leader.waitForEvent((e) => e.event === 'write' && e.ok === false, { since: mark });
    expect(rejected.code).toBe('NotLeader');
    // Every write the old leader got through happened before the new leader's key existed.
    const accepted = leader.events.filter((e) => e.event === 'write' && e.ok === true);
    for (const w of accepted) expect(Number(w.revision)).toBeLessThan(Number(takeover.createRevision));
    // It did not exit: it keeps running as a follower, and etcd keeps refusing its old guard.
    const later = await leader.waitForEvent((e) => e.event === 'write' && e.ok === false, {
      since: leader.events.indexOf(rejected) + 1,
    });
    expect(later.code).toBe('NotLeader');
  });

  it('in one process: isLeader, guard and stop hand leadership over at once', async () => {
    const prefix = '/glint-elect-local';
    const c1 = await connectEtcd({ endpoints: [etcd.endpoint], prefix });
    const c2 = await connectEtcd({ endpoints: [etcd.endpoint], prefix });
    const one = new LeaderElection(c1, { id: 'one', address: 'http://127.0.0.1:1', ttlSeconds: 5 });
    const two = new LeaderElection(c2, { id: 'two', address: 'http://127.0.0.1:2', ttlSeconds: 5 });
    one.start();
    await waitFor(() => (one.isLeader() ? true : undefined), { what: 'one leads' });
    two.start();
    await waitFor(async () => ((await two.leader())?.address === 'http://127.0.0.1:1' ? true : undefined));
    expect(two.isLeader()).toBe(false);
    expect(() => two.guard('deploying')).toThrow(/not the leader/);

    const handedOver = new Promise<void>((resolve) => two.once('elected', () => resolve()));
    await one.stop();
    await handedOver;
    expect(two.isLeader()).toBe(true);
    await two.stop();
    c1.close();
    c2.close();
  });

  it('each daemon keeps one watch on the leader key however often it re-checks', async () => {
    const prefix = '/glint-elect-one-watch';
    const c1 = await connectEtcd({ endpoints: [etcd.endpoint], prefix });
    const c2 = await connectEtcd({ endpoints: [etcd.endpoint], prefix });
    const watches1 = vi.spyOn(c1, 'watchRange');
    const watches2 = vi.spyOn(c2, 'watchRange');
    const leaderReads = vi.spyOn(c1, 'list');
    const campaigns = vi.spyOn(c2, 'txn');
    const one = new LeaderElection(c1, { id: 'one', address: 'http://127.0.0.1:1', ttlSeconds: TTL });
    const two = new LeaderElection(c2, { id: 'two', address: 'http://127.0.0.1:2', ttlSeconds: TTL });
    try {
      one.start();
      await waitFor(() => (one.isLeader() ? true : undefined), { what: 'one leads' });
      two.start();
      // Five re-checks each: the leader re-reads its key, the follower campaigns again.
      await waitFor(
        () => (leaderReads.mock.calls.length >= 5 && campaigns.mock.calls.length >= 5 ? true : undefined),
        { timeoutMs: 60_000, what: 'five re-checks by the leader and by the follower' },
      );
      expect(watches1).toHaveBeenCalledTimes(1);
      expect(watches2).toHaveBeenCalledTimes(1);
      expect(two.isLeader()).toBe(false);
    } finally {
      await two.stop();
      await one.stop();
      c1.close();
      c2.close();
    }
  });
});
