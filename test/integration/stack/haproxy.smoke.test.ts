import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MasterCli, RuntimeApi } from '../../../src/lb/index.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { freePort } from '../../support/free-port.ts';
import { type HaproxyHandle, startHaproxy } from '../../support/haproxy-container.ts';
import { testRunId } from '../../support/labels.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'stack-haproxy-smoke';
let haproxy: HaproxyHandle;
let backend: Server;
let frontendPort: number;

beforeAll(async () => {
  backend = createServer((_req, res) => res.end('served by the test backend'));
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const backendPort = (backend.address() as AddressInfo).port;
  frontendPort = await freePort();

  const runDir = mkdtempSync(join(tmpdir(), 'glint-haproxy-smoke-'));
  writeFileSync(
    join(runDir, 'haproxy.cfg'),
    [
      'global',
      `  stats socket ${runDir}/admin.sock mode 600 level admin`,
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 10s',
      '  timeout server 10s',
      'frontend smoke',
      `  bind 127.0.0.1:${frontendPort}`,
      // Named as glint names its own: a read scoped to a proxy name finds a frontend first.
      '  default_backend be_smoke',
      'backend be_smoke',
      `  server one 127.0.0.1:${backendPort} check inter 500ms`,
      '',
    ].join('\n'),
  );
  haproxy = await startHaproxy(SUITE, runDir);
});

afterAll(async () => {
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
  backend?.close();
});

it('serves a backend through a real HAProxy on loopback', async () => {
  const body = await waitFor(async () => {
    const res = await fetch(`http://127.0.0.1:${frontendPort}/`);
    return res.status === 200 ? res.text() : undefined;
  });
  expect(body).toBe('served by the test backend');
});

it('runs in master-worker mode: the master socket lists a live worker', async () => {
  const proc = await new MasterCli(haproxy.masterSocket).showProc();
  expect(proc.masterPid).toBeGreaterThan(0);
  expect(proc.workers.length).toBeGreaterThanOrEqual(1);
});

it("answers on its admin socket with the backend's server passing its check", async () => {
  const runtime = new RuntimeApi(`${haproxy.runDir}/admin.sock`);
  const row = await waitFor(
    async () => {
      const stat = await runtime.serverStat('be_smoke', 'one');
      return stat?.status === 'UP' ? stat : undefined;
    },
    { what: 'server one UP' },
  );
  expect(row).toMatchObject({ proxy: 'be_smoke', server: 'one', status: 'UP' });
});
