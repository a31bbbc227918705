/**
 * The REST API under read load: throughput and latency of `GET /v1/apps` and
 * `GET /v1/deployments/:id` with 100 apps declared (each with 5 finished deployments in etcd),
 * from a separate load process (open loop: requests start at a fixed rate whatever the
 * latency, half on keep-alive connections, half on new ones), against a real daemon process
 * and a real etcd. Also the daemon's resident memory after the load. No instances run: the
 * registry named in the declaration does not answer, so the daemon starts nothing. One second
 * of the same load warms each route up first and is not counted.
 *
 *   npx tsx bench/api-latency.ts [--rate 1000] [--seconds 10] [--apps 100]
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEtcd, EtcdStateStore } from '../src/etcd/index.ts';
import { removeTestContainers } from '../test/support/cleanup.ts';
import { type DaemonProcess, spawnDaemon } from '../test/support/daemon-process.ts';
import { deploymentRecord } from '../test/support/deployment-records.ts';
import { startEtcd } from '../test/support/etcd-container.ts';
import { freePort } from '../test/support/free-port.ts';
import { type LoadSummary, startLoad } from '../test/support/http-load.ts';
import { waitFor } from '../test/support/wait-for.ts';
import { benchArg, prepareBenchRun } from './support/bench-run.ts';

const SUITE = 'bench-api-latency';
prepareBenchRun();
const RATE = Number(benchArg('rate', '1000'));
const SECONDS = Number(benchArg('seconds', '10'));
const APPS = Number(benchArg('apps', '100'));
const DEPLOYMENTS_PER_APP = 5;
const TOKEN = `bench-${randomUUID()}`;

const appName = (i: number) => `app-${String(i).padStart(3, '0')}`;

function residentMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
  return kb / 1024;
}

async function load(url: string): Promise<LoadSummary> {
  const run = startLoad({
    url,
    connections: 32,
    rate: RATE,
    maxDurationSec: SECONDS,
    newConnectionShare: 0.5,
    headers: { authorization: `Bearer ${TOKEN}` },
    timeoutSec: 10,
  });
  return run.result;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ba-'));
  let daemon: DaemonProcess | undefined;
  try {
    mkdirSync(join(dir, 'haproxy'));
    const etcdHandle = await startEtcd(SUITE);
    const apiPort = await freePort();
    const apps = Object.fromEntries(
      Array.from({ length: APPS }, (_, i) => [
        appName(i),
        {
          image: '127.0.0.1:1/demo-app',
          version: '1.0.0',
          instances: 0,
          port: 8080,
          health: { type: 'http', path: '/healthz' },
          routing: { hosts: [`${appName(i)}.example`] },
        },
      ]),
    );
    const file = join(dir, 'scheduler.config.ts');
    writeFileSync(
      file,
      `export default ${JSON.stringify({
        etcd: { endpoints: [etcdHandle.endpoint] },
        api: { listen: `127.0.0.1:${apiPort}`, tokenFile: join(dir, 'api-token') },
        haproxy: { runDir: join(dir, 'haproxy'), sharedFrontend: `127.0.0.1:${await freePort()}` },
        apps,
      })};\n`,
    );

    // Each app has a history: five finished deployments, the newest one the one read below.
    const etcd = await connectEtcd({ endpoints: [etcdHandle.endpoint], prefix: '/glint' });
    const store = new EtcdStateStore(etcd);
    let someId = '';
    for (let i = 0; i < APPS; i++)
      for (let d = 0; d < DEPLOYMENTS_PER_APP; d++) {
        const at = new Date(Date.UTC(2026, 0, 1, 0, d)).toISOString();
        // The engine's id format (`<app>-<yyyymmdd>T<hhmmss>-<hex>`): the API finds the app from it.
        const id = `${appName(i)}-20260101T00${String(d).padStart(2, '0')}00-000${d}`;
        const begun = await store.beginDeployment(deploymentRecord(appName(i), id, `1.0.${d}`, at));
        await store.finishDeployment(
          { ...begun.record, state: 'succeeded', finishedAt: at },
          { expectedModRevision: begun.modRevision },
        );
        someId = id;
      }
    etcd.close();

    const api = `http://127.0.0.1:${apiPort}`;
    daemon = spawnDaemon(file, { apiUrl: api, dir, env: { GLINT_API_TOKEN: TOKEN } });
    const d = daemon;
    await waitFor(
      async () => {
        const res = await fetch(`${api}/readyz`).catch(() => undefined);
        const body = (await res?.json().catch(() => undefined)) as { isLeader?: boolean } | undefined;
        return body?.isLeader ? true : undefined;
      },
      { what: 'the daemon to lead', timeoutMs: 120_000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; daemon output: ${d.output().slice(-2000)}`);
    });
    const apps0 = (await (
      await fetch(`${api}/v1/apps`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as {
      apps: unknown[];
    };
    if (apps0.apps.length !== APPS)
      throw new Error(`GET /v1/apps listed ${apps0.apps.length} apps, not ${APPS}`);

    // One second of the same load first, not counted: the figures are of a daemon that has
    // been serving, not of its first requests.
    for (const path of ['/v1/apps', `/v1/deployments/${someId}`])
      await startLoad({
        url: `${api}${path}`,
        connections: 32,
        rate: RATE,
        maxDurationSec: 1,
        headers: { authorization: `Bearer ${TOKEN}` },
      }).result;
    const rows: [string, LoadSummary][] = [];
    for (const path of ['/v1/apps', `/v1/deployments/${someId}`])
      rows.push([path, await load(`${api}${path}`)]);
    const rss = residentMb(daemon.proc.pid!);

    console.log(
      `REST API of a daemon with ${APPS} apps declared (${DEPLOYMENTS_PER_APP} deployments each in etcd), ` +
        `${RATE} requests/s for ${SECONDS} s from a separate process, 32 connections, half of the requests on new connections:`,
    );
    for (const [path, s] of rows) {
      const ok = s.ok2xx === s.requests;
      console.log(
        `  GET ${path.startsWith('/v1/deployments/') ? '/v1/deployments/:id' : path}: ${s.ratePerSec}/s answered of ${RATE}/s asked, ` +
          `p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms; ${s.requests} requests, ${s.ok2xx} 2xx${ok ? '' : `, ${s.requests - s.ok2xx} failed`} ` +
          `(target p99 < 10 ms at 1,000/s: ${s.p99Ms < 10 && ok && s.ratePerSec >= RATE * 0.95 ? 'met' : 'NOT met'})`,
      );
    }
    console.log(`  daemon resident memory after the load: ${rss.toFixed(0)} MB (no instances running)`);
    console.log(`command: npx tsx bench/api-latency.ts --rate ${RATE} --seconds ${SECONDS} --apps ${APPS}`);
  } finally {
    if (daemon && daemon.proc.exitCode === null) {
      daemon.proc.kill('SIGTERM');
      await daemon.exited;
    }
    await removeTestContainers({ runId: process.env.GLINT_TEST_RUN, suite: SUITE });
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
