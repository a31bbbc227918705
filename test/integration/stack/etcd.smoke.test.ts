import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type EtcdHandle, startEtcd } from '../../support/etcd-container.ts';

let etcd: EtcdHandle;
let client: Etcd3;

beforeAll(async () => {
  etcd = await startEtcd('stack-etcd-smoke');
  client = new Etcd3({ hosts: etcd.endpoint });
});

afterAll(async () => {
  client?.close();
  await etcd?.container.stop();
});

it('stores, reads back and watches a key on a real etcd', async () => {
  const watcher = await client.watch().key('/glint-smoke/key').create();
  const seen = new Promise<string>((resolve) => watcher.on('put', (kv) => resolve(kv.value.toString())));

  await client.put('/glint-smoke/key').value('hello');

  expect(await client.get('/glint-smoke/key').string()).toBe('hello');
  expect(await seen).toBe('hello');
  await watcher.cancel();
});
