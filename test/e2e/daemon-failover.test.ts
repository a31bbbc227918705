import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeTestContainers } from '../support/cleanup.ts';
import { type DaemonProcess, readReadiness, startDaemonProcess } from '../support/daemon-process.ts';
import { type EtcdHandle, startEtcd } from '../support/etcd-container.ts';
import { freePort } from '../support/free-port.ts';
import { testRunId } from '../support/labels.ts';
import { waitFor } from '../support/wait-for.ts';

const SUITE = 'e2e-daemon-failover';
const LEASE_TTL_S = 2;
let etcd: EtcdHandle;
const daemons: DaemonProcess[] = [];

async function start(): Promise<DaemonProcess> {
  const daemon = await startDaemonProcess({
    etcdEndpoint: etcd.endpoint,
    frontendPort: await freePort(),
    leaseTtl: `${LEASE_TTL_S}s`,
  });
  daemons.push(daemon);
  return daemon;
}

async function leaderSeenBy(daemon: DaemonProcess, expected: string, isLeader: boolean) {
  return waitFor(
    async () => {
      const r = await readReadiness(daemon.apiUrl);
      return r.body.leader === expected && r.body.isLeader === isLeader ? r : undefined;
    },
    { timeoutMs: 60_000, what: `${daemon.apiUrl} to see ${expected} as leader` },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; daemon output: ${daemon.output().slice(-2000)}`);
  });
}

/** A deploy with an empty body, under the daemon's own admin token: it never starts anything. */
function write(daemon: DaemonProcess) {
  const token = readFileSync(join(daemon.dir, 'api-token'), 'utf8').trim();
  return fetch(`${daemon.apiUrl}/v1/apps/web/deployments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({}),
  });
}

beforeAll(async () => {
  etcd = await startEtcd(SUITE);
});

afterAll(async () => {
  for (const d of daemons) if (d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill('SIGKILL');
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
});

it('two daemons: one leads, the follower answers writes with 503 and the leader address', async () => {
  const a = await start();
  await leaderSeenBy(a, a.apiUrl, true);
  const b = await start();
  await leaderSeenBy(b, a.apiUrl, false);

  const onFollower = await write(b);
  expect(onFollower.status).toBe(503);
  expect(await onFollower.json()).toEqual({
    error: { code: 'NotLeader', message: expect.stringContaining(a.apiUrl), details: { leader: a.apiUrl } },
  });
  // The leader lets writes through to the routes, which refuse the empty body (400, not 503).
  expect((await write(a)).status).toBe(400);
});

it('kill -9 the leader: the follower leads after the lease expires; the old one comes back as follower', async () => {
  const [a, b] = daemons as [DaemonProcess, DaemonProcess];
  a.proc.kill('SIGKILL');
  await a.exited;
  // How fast is measured in bench/etcd-failover.ts; here only that it happens.
  await leaderSeenBy(b, b.apiUrl, true);

  const again = await start();
  // Until the newcomer has found the leader, never both claim to lead.
  let bothLed = 0;
  await waitFor(
    async () => {
      const [onB, onAgain] = await Promise.all([readReadiness(b.apiUrl), readReadiness(again.apiUrl)]);
      if (onB.body.isLeader && onAgain.body.isLeader) bothLed++;
      return onAgain.body.leader === b.apiUrl && onAgain.body.isLeader === false ? true : undefined;
    },
    { timeoutMs: 60_000, what: `${again.apiUrl} to follow ${b.apiUrl}` },
  );
  expect(bothLed).toBe(0);
  expect((await readReadiness(b.apiUrl)).body.isLeader).toBe(true);
  expect((await write(again)).status).toBe(503);
  expect((await write(b)).status).toBe(400);
});
