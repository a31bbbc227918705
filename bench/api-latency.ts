/**
 * The REST API under read load: throughput and latency of `GET /v1/apps` and
 * `GET /v1/deployments/:id` with 100 apps declared (each with 5 finished deployments in etcd),
 * from separate load processes, half the requests on keep-alive connections and half on new
 * ones, against a real daemon process on a real stack (etcd, registry, HAProxy). The apps
 * declare no instances: the figure is of the API, not of rollouts; the daemon brings each app
 * to its declaration first, and the load starts once no deployment is active.
 *
 * Three instruments, each with its own floor (bench/load-floor.ts prints them against a server
 * that only sends a fixed body): h2load, whose figures judge the target (compiled, each new
 * connection opened at a fixed interval whatever the answers' latency, keep-alive connections
 * each paced by its own timer); the bench's own Node load process (open loop, but its own event
 * loop's lag is in every figure); and hey (compiled, but its workers tick in step, so it
 * measures bursts of up to 32 requests sent at once). `/healthz`, the daemon's cheapest route, is
 * measured too, as a reference. Also the daemon's resident memory after the load. One second
 * of the same load warms each route up first and is not counted.
 *
 *   npx tsx bench/api-latency.ts [--rate 1000] [--seconds 10] [--apps 100] [--new-share 0.5] [--node-flags '--flag']
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectEtcd, EtcdStateStore } from '../src/etcd/index.ts';
import { type DaemonStack, startDaemonStack } from '../test/support/daemon-stack.ts';
import { deploymentRecord } from '../test/support/deployment-records.ts';
import { type LoadSummary, startLoad } from '../test/support/http-load.ts';
import { waitFor } from '../test/support/wait-for.ts';
import { benchArg, prepareBenchRun } from './support/bench-run.ts';
import { type DaemonSide, daemonSide, describeDaemonSide, parseMetrics } from './support/daemon-metrics.ts';
import { describeH2loadMix, type H2loadMix, runH2loadMix } from './support/h2load-load.ts';
import { describeHeyMix, type HeyMix, runHeyMix } from './support/hey-load.ts';

const SUITE = 'bench-api-latency';
prepareBenchRun();
const RATE = Number(benchArg('rate', '1000'));
const SECONDS = Number(benchArg('seconds', '10'));
const APPS = Number(benchArg('apps', '100'));
// Share of the requests on new connections (CI jobs connect anew; dashboards keep theirs).
const NEW_SHARE = Number(benchArg('new-share', '0.5'));
// V8 flags after the ones every launch point passes, to compare settings (e.g. --optimize-for-size).
const NODE_FLAGS = benchArg('node-flags', '')
  .split(' ')
  .filter((f) => f.length > 0);
const DEPLOYMENTS_PER_APP = 5;

const appName = (i: number) => `app-${String(i).padStart(3, '0')}`;

function residentMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
  return kb / 1024;
}

function load(url: string, token: string, seconds: number, newConnectionShare: number): Promise<LoadSummary> {
  return startLoad({
    url,
    connections: 32,
    rate: RATE,
    maxDurationSec: seconds,
    newConnectionShare,
    headers: { authorization: `Bearer ${token}` },
    timeoutSec: 10,
  }).result;
}

/** Each app's history: five finished deployments of no instances; returns the newest id. */
async function seedHistory(etcdEndpoint: string): Promise<string> {
  const etcd = await connectEtcd({ endpoints: [etcdEndpoint], prefix: '/glint' });
  const store = new EtcdStateStore(etcd);
  let newest = '';
  for (let i = 0; i < APPS; i++)
    for (let d = 0; d < DEPLOYMENTS_PER_APP; d++) {
      const at = new Date(Date.UTC(2026, 0, 1, 0, d)).toISOString();
      // The engine's id format (`<app>-<yyyymmdd>T<hhmmss>-<hex>`): the API finds the app from it.
      const id = `${appName(i)}-20260101T00${String(d).padStart(2, '0')}00-000${d}`;
      const begun = await store.beginDeployment(
        deploymentRecord(appName(i), id, `1.0.${d}`, at, { instances: 0 }),
      );
      await store.finishDeployment(
        { ...begun.record, state: 'succeeded', finishedAt: at },
        { expectedModRevision: begun.modRevision },
      );
      newest = id;
    }
  etcd.close();
  return newest;
}

async function main() {
  let stack: DaemonStack | undefined;
  let someId = '';
  try {
    stack = await startDaemonStack(SUITE, {
      versions: ['1.0.0'],
      ports: 1,
      nodeFlags: NODE_FLAGS,
      prepare: async (_registryHost, etcdEndpoint) => {
        someId = await seedHistory(etcdEndpoint);
      },
      declaration: (ctx) => ({
        etcd: { endpoints: [ctx.etcdEndpoint] },
        registries: { [ctx.registryHost]: { insecure: true } },
        api: { listen: `127.0.0.1:${ctx.apiPort}`, tokenFile: join(ctx.dir, 'api-token') },
        haproxy: { runDir: join(ctx.dir, 'haproxy'), sharedFrontend: `127.0.0.1:${ctx.ports[0]}` },
        apps: Object.fromEntries(
          Array.from({ length: APPS }, (_, i) => [
            appName(i),
            {
              image: `${ctx.registryHost}/demo-app`,
              version: '1.0.0',
              instances: 0,
              port: 8080,
              health: { type: 'http', path: '/healthz' },
              routing: { hosts: [`${appName(i)}.example`] },
            },
          ]),
        ),
      }),
    });
    const s = stack;
    await waitFor(
      async () => {
        const answer = await s.call('GET', '/v1/apps').catch(() => undefined);
        const apps = (answer?.json?.apps ?? []) as Array<{
          activeDeployment?: unknown;
          running?: { version?: string };
        }>;
        // Declared 1.0.0 over a history of 1.0.x: each app gets a deployment of its own first.
        const settled = (a: (typeof apps)[number]) => !a.activeDeployment && a.running?.version === '1.0.0';
        return apps.length === APPS && apps.every(settled) ? true : undefined;
      },
      {
        what: `${APPS} apps at their declaration, no deployment active`,
        timeoutMs: 600_000,
        intervalMs: 1_000,
      },
    ).catch((err: Error) => s.withOutput(err));
    const token = stack.adminToken();
    const api = stack.api;
    const pid = stack.daemon.proc.pid!;

    // One second of the same load first, not counted: the figures are of a daemon that has
    // been serving, not of its first requests.
    for (const path of ['/v1/apps', `/v1/deployments/${someId}`]) await load(`${api}${path}`, token, 1, 0);
    const metrics = async () => parseMetrics(await (await fetch(`${api}/metrics`)).text());
    const headers = { authorization: `Bearer ${token}` };
    const routes = [
      ['/v1/apps', '/v1/apps'],
      [`/v1/deployments/${someId}`, '/v1/deployments/:id'],
      // `/healthz` last, as a reference: no token, no state read, a 40-byte answer. When its tail
      // is as long as the routes', the tail is the process and the machine, not the routes' work.
      ['/healthz', '/healthz'],
    ] as const;
    const mixed = NEW_SHARE > 0 && NEW_SHARE < 1;
    const h2loadRows: [string, H2loadMix, DaemonSide][] = [];
    if (mixed)
      for (const [path, route] of routes) {
        const before = await metrics();
        const mix = await runH2loadMix({
          url: `${api}${path}`,
          rate: RATE,
          seconds: SECONDS,
          newShare: NEW_SHARE,
          headers,
        });
        h2loadRows.push([route, mix, daemonSide(before, await metrics(), route)]);
      }
    const rows: [string, LoadSummary, DaemonSide][] = [];
    for (const [path, route] of routes.slice(0, 2)) {
      const before = await metrics();
      const summary = await load(`${api}${path}`, token, SECONDS, NEW_SHARE);
      rows.push([route, summary, daemonSide(before, await metrics(), route)]);
    }
    const heyRows: [string, HeyMix, DaemonSide][] = [];
    if (mixed)
      for (const [path, route] of routes) {
        const before = await metrics();
        const runs = await runHeyMix({
          url: `${api}${path}`,
          rate: RATE,
          seconds: SECONDS,
          newShare: NEW_SHARE,
          headers,
        });
        heyRows.push([route, runs, daemonSide(before, await metrics(), route)]);
      }
    const rss = residentMb(pid);

    const reference = "reference: the daemon's cheapest route";
    console.log(
      `REST API of a daemon with ${APPS} apps declared (${DEPLOYMENTS_PER_APP} deployments each in etcd), ` +
        `${RATE} requests/s for ${SECONDS} s each, ${Math.round(NEW_SHARE * 100)} % of them on new connections.`,
    );
    if (h2loadRows.length > 0)
      console.log(
        'From h2load (compiled, paced by its own timers; the instrument the target is judged by: its own floor, from bench/load-floor.ts, is the lowest of the three):',
      );
    for (const [route, mix, daemon] of h2loadRows) {
      const { line, met } = describeH2loadMix(mix, RATE);
      const verdict =
        route === '/healthz' ? reference : `target p99 < 10 ms at 1,000/s: ${met ? 'met' : 'NOT met'}`;
      console.log(`  GET ${route}: ${line} (${verdict})`);
      console.log(`    ${describeDaemonSide(daemon)}`);
    }
    if (h2loadRows[0]) console.log(`  e.g. ${h2loadRows[0][1].fresh.command}`);
    console.log(
      "From the bench's own Node load process (open loop, 32 connections; its own loop lag is in each figure, so its floor sits near 10 ms):",
    );
    for (const [route, s, daemon] of rows) {
      const ok = s.ok2xx === s.requests;
      console.log(
        `  GET ${route}: ${s.ratePerSec}/s answered of ${RATE}/s asked, ` +
          `p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms; ${s.requests} requests, ${s.ok2xx} 2xx${ok ? '' : `, ${s.requests - s.ok2xx} failed`} ` +
          `(p99 < 10 ms: ${s.p99Ms < 10 && ok && s.ratePerSec >= RATE * 0.95 ? 'yes' : 'no'})`,
      );
      console.log(
        `    ${describeDaemonSide(daemon)}; load process's own loop lag p99 ${s.loopDelayP99Ms} ms, max ${s.loopDelayMaxMs} ms`,
      );
    }
    if (heyRows.length > 0)
      console.log(
        'From hey (compiled; its 16 + 16 workers tick in step, so up to 32 requests arrive at once, and the last waits for the others):',
      );
    for (const [route, mix, daemon] of heyRows) {
      const { line, met } = describeHeyMix(mix, RATE);
      console.log(
        `  GET ${route}: ${line} (${route === '/healthz' ? reference : `p99 < 10 ms: ${met ? 'yes' : 'no'}`})`,
      );
      console.log(`    ${describeDaemonSide(daemon)}`);
    }
    if (heyRows[0]) console.log(`  e.g. ${heyRows[0][1].fresh.command}`);
    console.log(`  daemon resident memory after the load: ${rss.toFixed(0)} MB (no instances running)`);
    console.log(
      `command: npx tsx bench/api-latency.ts --rate ${RATE} --seconds ${SECONDS} --apps ${APPS} --new-share ${NEW_SHARE}`,
    );
  } finally {
    await stack?.close();
  }
}

await main();
