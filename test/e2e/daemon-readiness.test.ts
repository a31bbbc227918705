import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeTestContainers } from '../support/cleanup.ts';
import { type DaemonProcess, readReadiness, startDaemonProcess } from '../support/daemon-process.ts';
import { type EtcdHandle, startEtcd } from '../support/etcd-container.ts';
import { freePort } from '../support/free-port.ts';
import { startHaproxy } from '../support/haproxy-container.ts';
import { testRunId } from '../support/labels.ts';
import { waitFor } from '../support/wait-for.ts';

const SUITE = 'e2e-daemon-readiness';
let etcd: EtcdHandle;
let daemon: DaemonProcess;
let frontendPort: number;

beforeAll(async () => {
  etcd = await startEtcd(SUITE);
  frontendPort = await freePort();
  daemon = await startDaemonProcess({ etcdEndpoint: etcd.endpoint, frontendPort });
});

afterAll(async () => {
  if (daemon && daemon.proc.exitCode === null) daemon.proc.kill('SIGKILL');
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
});

it('is not ready until HAProxy runs, and writes a config HAProxy starts from', async () => {
  const waiting = await waitFor(
    async () => {
      const r = await readReadiness(daemon.apiUrl);
      return r.status === 503 && r.body.checks.etcd?.ok ? r : undefined;
    },
    { what: 'daemon /readyz answering' },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; daemon output: ${daemon.output()}`);
  });
  expect(waiting.body.checks.haproxy?.ok).toBe(false);

  await startHaproxy(SUITE, join(daemon.dir, 'haproxy'));
  const frontend = await waitFor(async () => {
    const res = await fetch(`http://127.0.0.1:${frontendPort}/`);
    return res.status === 503 ? ((await res.json()) as { error: { code: string } }) : undefined;
  });
  expect(frontend.error.code).toBe('NoReadyInstance');
});

it('is ready once Docker, HAProxy and etcd answer, leads, and keeps its admin token private', async () => {
  const ready = await waitFor(async () => {
    const r = await readReadiness(daemon.apiUrl);
    return r.status === 200 && r.body.isLeader ? r : undefined;
  });
  expect(ready.body.checks).toEqual({ docker: { ok: true }, haproxy: { ok: true }, etcd: { ok: true } });
  expect(ready.body.leader).toBe(daemon.apiUrl);
  expect(statSync(join(daemon.dir, 'api-token')).mode & 0o777).toBe(0o600);
  expect((await fetch(`${daemon.apiUrl}/healthz`)).status).toBe(200);
});

it('reports not ready, naming etcd, while etcd is down', async () => {
  await etcd.container.stop();
  const notReady = await waitFor(async () => {
    const r = await readReadiness(daemon.apiUrl);
    return r.status === 503 ? r : undefined;
  });
  expect(notReady.body.ready).toBe(false);
  expect(notReady.body.checks.etcd?.ok).toBe(false);
  expect(notReady.body.checks.docker?.ok).toBe(true);
});

it('answers unknown routes with a JSON error and stops cleanly on SIGTERM', async () => {
  const res = await fetch(`${daemon.apiUrl}/nothing-here`);
  expect(res.status).toBe(404);
  expect(await res.json()).toMatchObject({ error: { code: 'NotFound' } });

  daemon.proc.kill('SIGTERM');
  expect(await daemon.exited).toBe(0);
  const token = readFileSync(join(daemon.dir, 'api-token'), 'utf8').trim();
  expect(token.length).toBeGreaterThanOrEqual(32);
  expect(daemon.output()).toContain('admin API token ready');
  expect(daemon.output()).not.toContain(token);
});
