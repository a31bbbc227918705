import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeTestContainers } from '../support/cleanup.ts';
import { type EtcdHandle, startEtcd } from '../support/etcd-container.ts';
import { freePort } from '../support/free-port.ts';
import { startHaproxy } from '../support/haproxy-container.ts';
import { testRunId } from '../support/labels.ts';
import { waitFor } from '../support/wait-for.ts';

const SUITE = 'e2e-daemon-readiness';
let etcd: EtcdHandle;
let daemon: ChildProcess;
let apiUrl: string;
let dir: string;
let output = '';
let frontendPort: number;

beforeAll(async () => {
  etcd = await startEtcd(SUITE);
  dir = mkdtempSync(join(tmpdir(), 'glint-daemon-'));
  const apiPort = await freePort();
  frontendPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  const config = {
    etcd: { endpoints: [etcd.endpoint] },
    api: { listen: `127.0.0.1:${apiPort}`, tokenFile: join(dir, 'api-token') },
    haproxy: { runDir: join(dir, 'haproxy') },
    apps: {
      web: {
        image: '127.0.0.1:5000/demo-app',
        version: '1.0.0',
        instances: 1,
        port: 8080,
        health: { type: 'http', path: '/healthz' },
        routing: { frontendPort },
      },
    },
  };
  writeFileSync(join(dir, 'scheduler.config.ts'), `export default ${JSON.stringify(config)};\n`);
  const env = { ...process.env, GLINT_API_TOKEN: '' };
  daemon = spawn(process.execPath, ['bin/glint.js', 'daemon', '--config', join(dir, 'scheduler.config.ts')], {
    env,
  });
  daemon.stdout?.on('data', (c) => {
    output += c;
  });
  daemon.stderr?.on('data', (c) => {
    output += c;
  });
});

afterAll(async () => {
  if (daemon && daemon.exitCode === null) daemon.kill('SIGKILL');
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
});

async function readyz(): Promise<{
  status: number;
  body: { ready: boolean; checks: Record<string, { ok: boolean }>; isLeader: boolean; leader: string | null };
}> {
  const res = await fetch(`${apiUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as never };
}

it('is not ready until HAProxy runs, and writes a config HAProxy starts from', async () => {
  const waiting = await waitFor(
    async () => {
      const r = await readyz();
      return r.status === 503 && r.body.checks.etcd?.ok ? r : undefined;
    },
    { what: 'daemon /readyz answering' },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; daemon output: ${output}`);
  });
  expect(waiting.body.checks.haproxy?.ok).toBe(false);

  await startHaproxy(SUITE, join(dir, 'haproxy'));
  const frontend = await waitFor(async () => {
    const res = await fetch(`http://127.0.0.1:${frontendPort}/`);
    return res.status === 503 ? ((await res.json()) as { error: { code: string } }) : undefined;
  });
  expect(frontend.error.code).toBe('NoReadyInstance');
});

it('is ready once Docker, HAProxy and etcd answer, leads, and keeps its admin token private', async () => {
  const ready = await waitFor(async () => {
    const r = await readyz();
    return r.status === 200 && r.body.isLeader ? r : undefined;
  });
  expect(ready.body.checks).toEqual({ docker: { ok: true }, haproxy: { ok: true }, etcd: { ok: true } });
  expect(ready.body.leader).toBe(apiUrl);
  expect(statSync(join(dir, 'api-token')).mode & 0o777).toBe(0o600);
  expect((await fetch(`${apiUrl}/healthz`)).status).toBe(200);
});

it('reports not ready, naming etcd, while etcd is down', async () => {
  await etcd.container.stop();
  const notReady = await waitFor(async () => {
    const r = await readyz();
    return r.status === 503 ? r : undefined;
  });
  expect(notReady.body.ready).toBe(false);
  expect(notReady.body.checks.etcd?.ok).toBe(false);
  expect(notReady.body.checks.docker?.ok).toBe(true);
});

it('answers unknown routes with a JSON error and stops cleanly on SIGTERM', async () => {
  const res = await fetch(`${apiUrl}/v1/nothing-here`);
  expect(res.status).toBe(404);
  expect(await res.json()).toMatchObject({ error: { code: 'NotFound' } });

  const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
  daemon.kill('SIGTERM');
  expect(await exited).toBe(0);
  const token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
  expect(token.length).toBeGreaterThanOrEqual(32);
  expect(output).toContain('admin API token ready');
  expect(output).not.toContain(token);
});
