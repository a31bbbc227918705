/**
 * Resident memory of a real daemon process while it manages many instances: one app of
 * `--instances` demo-app instances (HTTP health every 5 s, each probed by glint and checked
 * by HAProxy), brought up by the daemon itself, then watched for `--seconds` with a reconcile
 * pass every 2 s and `--kills` instances killed and healed on the way. RSS is read from
 * /proc/<pid>/status every 500 ms; the figure is the daemon process alone, not HAProxy, etcd or
 * the instances. It builds dist/ first, so the daemon runs compiled JavaScript with the V8 flags
 * every launch point passes (`--node-options` adds to them), as `npm start` runs it.
 *
 *   npx tsx bench/daemon-memory.ts [--instances 100] [--seconds 60] [--kills 3] [--surge 10]
 *     [--node-options '...'] [--node-flags '--flag --flag'] [--env 'NAME=value,NAME=value']
 *
 * `--env` sets the daemon's environment on top of what every launch point sets, e.g. to compare
 * allocator settings: `--env MALLOC_ARENA_MAX=8`; `--node-flags` passes V8 flags NODE_OPTIONS refuses.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { startDaemonStack } from '../test/support/daemon-stack.ts';
import { testLabels } from '../test/support/labels.ts';
import { waitFor } from '../test/support/wait-for.ts';
import { benchArg, prepareBenchRun } from './support/bench-run.ts';

const SUITE = 'bench-daemon-memory';
prepareBenchRun();
const INSTANCES = Number(benchArg('instances', '100'));
const SECONDS = Number(benchArg('seconds', '60'));
const KILLS = Number(benchArg('kills', '3'));
const NODE_OPTIONS = benchArg('node-options', '');
const NODE_FLAGS = benchArg('node-flags', '')
  .split(' ')
  .filter((f) => f.length > 0);
const EXTRA_ENV = Object.fromEntries(
  benchArg('env', '')
    .split(',')
    .filter((pair) => pair.includes('='))
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
// The replacements of killed instances; the first deployment has nothing old to keep and
// starts all of them at once whatever this says, as Kubernetes scales a new ReplicaSet.
const SURGE = ((s: string) => (s.endsWith('%') ? s : Number(s)))(benchArg('surge', '10'));
const APP = 'membench';
const docker = new Docker();

const rssMb = (pid: number) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) / 1024;
};

async function main() {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  const stack = await startDaemonStack(SUITE, {
    versions: ['1.0.0'],
    ports: 1,
    env: { ...(NODE_OPTIONS ? { NODE_OPTIONS } : {}), ...EXTRA_ENV },
    nodeFlags: NODE_FLAGS,
    declaration: (ctx) => ({
      etcd: { endpoints: [ctx.etcdEndpoint], leaseTtl: '5s' },
      registries: { [ctx.registryHost]: { insecure: true } },
      haproxy: { runDir: join(ctx.dir, 'haproxy') },
      api: { listen: `127.0.0.1:${ctx.apiPort}`, tokenFile: join(ctx.dir, 'api-token') },
      reconcile: { interval: '2s' },
      apps: {
        [APP]: {
          image: `${ctx.registryHost}/demo-app`,
          version: '1.0.0',
          instances: INSTANCES,
          port: 8080,
          labels: testLabels(SUITE),
          resources: { memory: '64m' },
          // Kubernetes-like cadence (its default period is 10 s, Marathon's 60 s). The first
          // deployment boots all hundred at once (nothing old to keep, so no surge bound): on two
          // cores a 1 s timeout fails instances that were ready, and the deployment rolls back.
          health: { type: 'http', path: '/healthz', interval: '5s', timeout: '2s', healthyThreshold: 1 },
          strategy: { maxSurge: SURGE, maxUnavailable: 0, minHealthyTime: '1s', healthyDeadline: '5m' },
          routing: { frontendPort: ctx.ports[0]! },
        },
      },
    }),
  });
  const pid = stack.daemon.proc.pid!;
  // Ctrl-C still removes the stack and its instances.
  process.once('SIGINT', () => void stack.close().finally(() => process.exit(130)));
  try {
    const started = Date.now();
    await waitFor(
      async () => {
        const app = (await stack.call('GET', `/v1/apps/${APP}`).catch(() => undefined))?.json;
        return app?.instances?.ready === INSTANCES && !app.activeDeployment ? true : undefined;
      },
      { timeoutMs: 900_000, intervalMs: 1_000, what: `${INSTANCES} instances ready` },
    ).catch((e: Error) => stack.withOutput(e));
    console.log(
      `${INSTANCES} instances ready in ${((Date.now() - started) / 1000).toFixed(0)} s; RSS ${rssMb(pid).toFixed(0)} MB`,
    );
    const samples: number[] = [];
    const end = Date.now() + SECONDS * 1000;
    let killed = 0;
    const killEvery = KILLS > 0 ? Math.floor((SECONDS * 1000) / (KILLS + 1)) : Number.POSITIVE_INFINITY;
    let nextKill = Date.now() + killEvery;
    while (Date.now() < end) {
      samples.push(rssMb(pid));
      if (killed < KILLS && Date.now() >= nextKill) {
        const [victim] = (await stack.call('GET', `/v1/apps/${APP}`)).json.instances.list;
        await docker
          .getContainer(victim.containerId)
          .kill()
          .catch(() => undefined);
        killed++;
        nextKill += killEvery;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const metrics = await (await fetch(`${stack.api}/metrics`)).text();
    const gauge = (name: string) =>
      Number(metrics.match(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm'))?.[1] ?? Number.NaN) /
      1e6;
    console.log(
      `heap used ${gauge('glint_nodejs_heap_size_used_bytes').toFixed(0)} MB of ` +
        `${gauge('glint_nodejs_heap_size_total_bytes').toFixed(0)} MB, external ` +
        `${gauge('glint_nodejs_external_memory_bytes').toFixed(0)} MB`,
    );
    const sorted = [...samples].sort((a, b) => a - b);
    const app = (await stack.call('GET', `/v1/apps/${APP}`)).json;
    console.log(
      `daemon RSS over ${SECONDS} s managing ${INSTANCES} instances (${killed} killed and healed, ` +
        `${app.instances.ready} ready at the end)${NODE_OPTIONS ? ` with NODE_OPTIONS=${NODE_OPTIONS}` : ''}` +
        `${Object.keys(EXTRA_ENV).length > 0 ? ` with ${benchArg('env', '')}` : ''}` +
        `${NODE_FLAGS.length > 0 ? ` with ${NODE_FLAGS.join(' ')}` : ''}: ` +
        `median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} MB, max ${sorted.at(-1)!.toFixed(0)} MB (target < 150 MB)`,
    );
  } finally {
    await stack.close();
  }
}

await main();
