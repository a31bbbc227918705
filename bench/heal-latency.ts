/**
 * How fast a real daemon heals an instance killed behind its back: `docker kill` of one
 * instance, then
 *   detection → replacement start = the kill → the heal deployment's first `start` step begins
 *   kill → ready again           = the kill → the replacement's `promote` step ends (in rotation)
 * read from the heal deployment's own record (step times are the daemon's clock, the kill time
 * this process's: same machine). The app runs `--instances` demo-app instances with a 500 ms
 * HTTP check, healthyThreshold 1 and minHealthyTime `--min-healthy`; each kill waits until the
 * app is whole again.
 *
 *   npx tsx bench/heal-latency.ts [--kills 5] [--instances 3] [--min-healthy 500ms]
 */
import { join } from 'node:path';
import Docker from 'dockerode';
import { type DaemonStack, startDaemonStack } from '../test/support/daemon-stack.ts';
import { testLabels } from '../test/support/labels.ts';
import { waitFor } from '../test/support/wait-for.ts';
import { benchArg, prepareBenchRun } from './support/bench-run.ts';

const SUITE = 'bench-heal-latency';
prepareBenchRun();
const KILLS = Number(benchArg('kills', '5'));
const INSTANCES = Number(benchArg('instances', '3'));
const MIN_HEALTHY = benchArg('min-healthy', '500ms');
const APP = 'healbench';
const docker = new Docker();

type Step = { kind: string; instance: string; startedAt: string; finishedAt?: string };
type Deployment = { id: string; kind: string; state: string; steps: Step[]; createdAt: string };

async function whole(stack: DaemonStack, healsBefore: number) {
  return waitFor(
    async () => {
      const app = (await stack.call('GET', `/v1/apps/${APP}`)).json;
      const list: Deployment[] = (await stack.call('GET', `/v1/deployments?app=${APP}&limit=500`)).json
        .deployments;
      const heals = list.filter((d) => d.kind === 'heal');
      const ready = app.instances.list.filter((i: { health: string }) => i.health === 'ready').length;
      return heals.length > healsBefore &&
        heals.every((d) => d.state !== 'running' && d.state !== 'pending') &&
        ready === INSTANCES &&
        app.instances.list.length === INSTANCES
        ? heals
        : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 100, what: `${APP} whole again` },
  );
}

async function main() {
  const stack = await startDaemonStack(SUITE, {
    versions: ['1.0.0'],
    ports: 1,
    declaration: (ctx) => ({
      etcd: { endpoints: [ctx.etcdEndpoint], leaseTtl: '2s' },
      registries: { [ctx.registryHost]: { insecure: true } },
      haproxy: { runDir: join(ctx.dir, 'haproxy') },
      api: { listen: `127.0.0.1:${ctx.apiPort}`, tokenFile: join(ctx.dir, 'api-token') },
      apps: {
        [APP]: {
          image: `${ctx.registryHost}/demo-app`,
          version: '1.0.0',
          instances: INSTANCES,
          port: 8080,
          labels: testLabels(SUITE),
          health: {
            type: 'http',
            path: '/healthz',
            interval: '500ms',
            timeout: '500ms',
            healthyThreshold: 1,
          },
          strategy: {
            maxSurge: 1,
            maxUnavailable: 0,
            minHealthyTime: MIN_HEALTHY,
            drainTimeout: '2s',
            stopTimeout: '3s',
          },
          routing: { frontendPort: ctx.ports[0]! },
        },
      },
    }),
  });
  try {
    await waitFor(
      async () => {
        const app = (await stack.call('GET', `/v1/apps/${APP}`).catch(() => undefined))?.json;
        return app?.instances?.ready === INSTANCES && !app.activeDeployment ? true : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 250, what: `${APP} serving` },
    );
    const rows: Array<{ detect: number; ready: number }> = [];
    for (let k = 0; k < KILLS; k++) {
      const before = (
        await stack.call('GET', `/v1/deployments?app=${APP}&limit=500`)
      ).json.deployments.filter((d: Deployment) => d.kind === 'heal').length;
      const [victim] = (await stack.call('GET', `/v1/apps/${APP}`)).json.instances.list;
      const killedAt = Date.now();
      await docker.getContainer(victim.containerId).kill();
      const heals = await whole(stack, before);
      const heal = heals.find((d) => Date.parse(d.createdAt) >= killedAt - 1_000)!;
      const start = heal.steps.find((s) => s.kind === 'start')!;
      const promote = heal.steps.find((s) => s.kind === 'promote' && s.instance === start.instance)!;
      const row = {
        detect: Date.parse(start.startedAt) - killedAt,
        ready: Date.parse(promote.finishedAt!) - killedAt,
      };
      rows.push(row);
      console.log(
        `kill ${k + 1}: replacement start after ${row.detect} ms, in rotation after ${row.ready} ms`,
      );
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `${KILLS} kills of 1 of ${INSTANCES} instances (min-healthy ${MIN_HEALTHY}): detection → replacement start ` +
        `median ${med(rows.map((r) => r.detect))} ms, max ${Math.max(...rows.map((r) => r.detect))} ms (target < 1000 ms); ` +
        `kill → ready again median ${med(rows.map((r) => r.ready))} ms`,
    );
  } finally {
    await stack.close();
  }
}

await main();
