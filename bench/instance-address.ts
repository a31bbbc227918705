/**
 * What the way HAProxy reaches instances costs each request: the same app of 3 instances behind
 * the same HAProxy, reached at a port published on 127.0.0.1 (`addressMode: 'host'`, the
 * default: Docker's port proxy, a process per container, copies every byte) and at the
 * container's own IP on the bridge (`addressMode: 'container'`: nothing published). wrk at
 * `--connections` keep-alive connections through HAProxy for `--seconds`, one mode after the
 * other on one machine; also the port-proxy processes each mode leaves running.
 *
 *   npx tsx bench/instance-address.ts [--connections 16] [--seconds 10]
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AddressMode } from '../src/docker/index.ts';
import { forgetRegistryImages } from '../test/support/demo-registry.ts';
import { startRolloutStack } from '../test/support/rollout-stack.ts';
import { benchArg, prepareBenchRun } from './support/bench-run.ts';
import { killWrks, startWrk, type WrkSummary } from './support/wrk-load.ts';

const SUITE = 'bench-instance-address';
prepareBenchRun();
const CONNECTIONS = Number(benchArg('connections', '16'));
const SECONDS = Number(benchArg('seconds', '10'));
const INSTANCES = 3;
const run = promisify(execFile);

/** docker-proxy processes on this machine (pgrep exits 1 when there are none). */
async function portProxies(): Promise<number> {
  const out = await run('pgrep', ['-c', '-x', 'docker-proxy']).catch((err: { stdout?: string }) => err);
  return Number(String(out.stdout ?? '0').trim()) || 0;
}

type Row = { mode: AddressMode; load: WrkSummary; proxies: number; avgLatency: string };

async function measure(mode: AddressMode): Promise<Row> {
  const stack = await startRolloutStack(
    `${SUITE}-${mode}`,
    (frontendPort) => ({
      image: 'unused',
      version: '1.0.0',
      instances: INSTANCES,
      port: 8080,
      health: { type: 'http', path: '/healthz', interval: '1s', timeout: '1s' },
      strategy: { maxSurge: '100%', maxUnavailable: 0, minHealthyTime: '1s' },
      routing: { frontendPort },
    }),
    'web',
    {},
    { addressMode: mode },
  );
  try {
    // The stack's own etcd and registry publish ports too: count only what the deploy adds.
    const before = await portProxies();
    await stack.push('1.0.0');
    const started = await stack.engine.startDeployment('web', { kind: 'deploy', version: '1.0.0' });
    const done = await stack.finished('web', started.id);
    if (done.state !== 'succeeded') throw new Error(`the deploy in ${mode} mode ended ${done.state}`);
    const proxies = (await portProxies()) - before;
    const wrk = startWrk(`http://127.0.0.1:${stack.frontendPort}/`, {
      connections: CONNECTIONS,
      maxSeconds: SECONDS,
    });
    const load = await new Promise<WrkSummary>((resolve, reject) => {
      setTimeout(() => wrk.stop().then(resolve, reject), SECONDS * 1000 + 2000);
    });
    const avgLatency = /Latency\s+(\S+)/.exec(load.raw)?.[1] ?? '?';
    return { mode, load, proxies, avgLatency };
  } finally {
    await stack.close();
    await forgetRegistryImages(stack.registry.host);
  }
}

async function main() {
  const rows: Row[] = [];
  for (const mode of ['host', 'container'] as const) rows.push(await measure(mode));
  console.log(
    `demo app, ${INSTANCES} instances behind HAProxy, wrk ${CONNECTIONS} keep-alive connections for ${SECONDS} s:`,
  );
  for (const r of rows) {
    const rate = r.load.requests / r.load.seconds;
    console.log(
      `  addressMode ${r.mode.padEnd(9)} ${rate.toFixed(0).padStart(6)} requests/s, latency avg ${r.avgLatency}, ` +
        `${r.load.errors} errors; port-proxy processes the app added: ${r.proxies}`,
    );
  }
  const [host, container] = rows as [Row, Row];
  const ratio = container.load.requests / container.load.seconds / (host.load.requests / host.load.seconds);
  console.log(`  container / host throughput: ${ratio.toFixed(2)}`);
  console.log(`command: npx tsx bench/instance-address.ts --connections ${CONNECTIONS} --seconds ${SECONDS}`);
}

try {
  await main();
} finally {
  killWrks();
}
