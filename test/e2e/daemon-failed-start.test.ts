import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeTestContainers } from '../support/cleanup.ts';
import { type DaemonProcess, startDaemonProcess } from '../support/daemon-process.ts';
import { type EtcdHandle, startEtcd } from '../support/etcd-container.ts';
import { freePort } from '../support/free-port.ts';
import { testRunId } from '../support/labels.ts';

const SUITE = 'e2e-daemon-failed-start';
const LEADER_KEY = '/glint/state/leader';
let etcd: EtcdHandle;
let client: Etcd3;
let daemon: DaemonProcess | undefined;

/** A `haproxy` that answers `-v` (so the daemon picks it) and rejects every file given to `-c`. */
function refusingHaproxy(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const script = join(bin, 'haproxy');
  writeFileSync(
    script,
    '#!/bin/sh\n[ "$1" = "-v" ] && exit 0\necho "[ALERT] (test) configuration refused" >&2\nexit 1\n',
  );
  chmodSync(script, 0o755);
  return bin;
}

beforeAll(async () => {
  etcd = await startEtcd(SUITE);
  client = new Etcd3({ hosts: etcd.endpoint });
});

afterAll(async () => {
  if (daemon && daemon.proc.exitCode === null && daemon.proc.signalCode === null) daemon.proc.kill('SIGKILL');
  client?.close();
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
});

it('a daemon whose HAProxy config cannot be validated exits non-zero and never campaigns', async () => {
  const before = await client.get(LEADER_KEY).exec();
  const dir = mkdtempSync(join(tmpdir(), 'glint-failed-start-'));
  daemon = await startDaemonProcess({
    etcdEndpoint: etcd.endpoint,
    frontendPort: await freePort(),
    leaseTtl: '2s',
    dir,
    env: { PATH: `${refusingHaproxy(dir)}:${process.env.PATH ?? ''}` },
  });

  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    daemon.exited,
    new Promise<'still running'>((resolve) => {
      timer = setTimeout(() => resolve('still running'), 60_000);
    }),
  ]).finally(() => clearTimeout(timer));

  expect(code, `daemon output: ${daemon.output().slice(-2000)}`).not.toBe('still running');
  expect(code).not.toBe(0);
  expect(daemon.output()).toContain('LbConfigInvalid');
  const after = await client.get(LEADER_KEY).exec();
  expect(after.kvs).toEqual([]);
  // No write reached etcd at all, so the leader key was never held, not even for a moment.
  expect(after.header.revision).toBe(before.header.revision);
});
