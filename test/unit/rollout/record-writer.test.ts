import { describe, expect, it } from 'vitest';
import type { DeploymentRecord, Versioned } from '../../../src/etcd/index.ts';
import type { DeploymentStore } from '../../../src/rollout/index.ts';
import { RecordWriter } from '../../../src/rollout/record-writer.ts';

// Only the fields the writer reads; the rest of a record does not matter to it.
const initial = { id: 'd1', app: 'web', state: 'running', steps: [] } as unknown as DeploymentRecord;

/** An etcd-like store: every write is a compare-and-swap on the revision, and is counted. */
function casStore() {
  let revision = 1;
  const writes: DeploymentRecord[] = [];
  const finished: string[] = [];
  const cas = (record: DeploymentRecord, expected: number) => {
    if (expected !== revision) throw new Error(`revision ${expected} is stale (now ${revision})`);
    writes.push(record);
    return ++revision;
  };
  const store = {
    updateDeployment: async (record: DeploymentRecord, o: { expectedModRevision: number }) =>
      cas(record, o.expectedModRevision),
    finishDeployment: async (record: DeploymentRecord, o: { expectedModRevision: number }) => {
      const modRevision = cas(record, o.expectedModRevision);
      finished.push(record.state);
      return { record, modRevision };
    },
    bump: () => revision++,
  };
  return { store: store as unknown as DeploymentStore & { bump(): number }, writes, finished };
}

const writer = (store: DeploymentStore) =>
  new RecordWriter({ record: initial, modRevision: 1 } as Versioned<DeploymentRecord>, store, {
    now: () => 0,
  });

const withStep = (instance: string) => (r: DeploymentRecord) =>
  ({ ...r, steps: [...r.steps, { instance }] }) as unknown as DeploymentRecord;
const instances = (r: DeploymentRecord) => r.steps.map((s) => s.instance);

describe('RecordWriter', () => {
  it('stores changes made in one turn in one write, each caller seeing its change stored', async () => {
    const { store, writes } = casStore();
    const w = writer(store);
    const results = await Promise.all([
      w.update(withStep('a')),
      w.update(withStep('b')),
      w.update(withStep('c')),
    ]);
    expect(writes.map(instances)).toEqual([['a', 'b', 'c']]);
    for (const r of results) expect(instances(r)).toEqual(['a', 'b', 'c']);
  });

  it('batches what arrives during a write into the next one, in call order', async () => {
    const { store, writes } = casStore();
    const w = writer(store);
    const first = w.update(withStep('a'));
    await Promise.resolve();
    await Promise.resolve();
    const later = [w.update(withStep('b')), w.update(withStep('c'))];
    await Promise.all([first, ...later]);
    expect(writes.map(instances)).toEqual([['a'], ['a', 'b', 'c']]);
    expect(instances(w.record)).toEqual(['a', 'b', 'c']);
  });

  it('writes nothing for a change that returns the record as it is', async () => {
    const { store, writes } = casStore();
    const w = writer(store);
    expect(await w.update((r) => r)).toBe(initial);
    expect(writes).toEqual([]);
  });

  it('rejects only the change that threw; the others are stored', async () => {
    const { store, writes } = casStore();
    const w = writer(store);
    const bad = w.update(() => {
      throw new Error('bad change');
    });
    const good = w.update(withStep('a'));
    await expect(bad).rejects.toThrow('bad change');
    expect(instances(await good)).toEqual(['a']);
    expect(writes).toHaveLength(1);
  });

  it('rejects every change of a write another writer got in before, and stores none of them', async () => {
    const { store, writes } = casStore();
    const w = writer(store);
    store.bump();
    const results = await Promise.allSettled([w.update(withStep('a')), w.update(withStep('b'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(writes).toEqual([]);
    expect(instances(w.record)).toEqual([]);
  });

  it('finishes the deployment when the batch ends in a terminal state', async () => {
    const { store, writes, finished } = casStore();
    const w = writer(store);
    const [, done] = await Promise.all([
      w.update(withStep('a')),
      w.update((r) => ({ ...r, state: 'succeeded' }) as DeploymentRecord),
    ]);
    expect(done.state).toBe('succeeded');
    expect(writes).toHaveLength(1);
    expect(finished).toEqual(['succeeded']);
  });

  it('holds a change made with updateLater for the next write, which stores both in call order', async () => {
    const { store, writes } = casStore();
    const w = writer(store);
    const ended = w.updateLater(withStep('a'));
    await Promise.resolve();
    await Promise.resolve();
    expect(writes).toEqual([]);
    const begun = w.update(withStep('b'));
    const [afterA, afterB] = await Promise.all([ended, begun]);
    expect(writes.map(instances)).toEqual([['a', 'b']]);
    expect(instances(afterA)).toEqual(['a', 'b']);
    expect(instances(afterB)).toEqual(['a', 'b']);
  });

  it('sends a held change on flush, and by itself when nobody writes', async () => {
    const { store, writes } = casStore();
    const w = writer(store);
    const flushed = w.updateLater(withStep('a'));
    w.flush();
    expect(instances(await flushed)).toEqual(['a']);
    // Nobody writes after this one: it goes out on its own, a moment later.
    expect(instances(await w.updateLater(withStep('b')))).toEqual(['a', 'b']);
    expect(writes.map(instances)).toEqual([['a'], ['a', 'b']]);
  });
});
