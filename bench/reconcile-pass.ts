/**
 * Time of one full reconcile pass over many glint containers: one list call to the Docker
 * engine for every glint container, the app record and deployment lock of each app read from
 * etcd, the pure decision, and the HAProxy comparison of each app.
 *
 * The containers are cheap (`registry:2`'s busybox running `sleep`), labelled as glint labels its own
 * and spread over `--apps` apps whose records in a real etcd say they run exactly these: a pass
 * decides "ok" for every app, so what is timed is the observing, not a deployment. HAProxy's
 * answer is taken as every instance in rotation (its runtime API reads are timed by
 * bench/lb-membership.ts).
 *
 *   npx tsx bench/reconcile-pass.ts [--containers 500] [--apps 10] [--passes 20]
 */
import Docker from 'dockerode';
import { validateConfig } from '../src/config/index.ts';
import { DockerEngine, DockerNodes } from '../src/docker/index.ts';
import { connectEtcd, EtcdStateStore } from '../src/etcd/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { type ReconcileAction, Reconciler } from '../src/reconcile/index.ts';
import { removeTestContainers } from '../test/support/cleanup.ts';
import { startEtcd } from '../test/support/etcd-container.ts';
import { testLabels } from '../test/support/labels.ts';
import { benchArg, prepareBenchRun } from './support/bench-run.ts';

const SUITE = 'bench-reconcile-pass';
prepareBenchRun();
const CONTAINERS = Number(benchArg('containers', '500'));
const APPS = Number(benchArg('apps', '10'));
const PASSES = Number(benchArg('passes', '20'));
const SPEC = 'bench-spec';
// A small image with a sleep (busybox's, in the offline stand-in).
const IMAGE = 'registry:2';

const docker = new Docker();
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.ceil((p / 100) * xs.length) - 1]!;

async function createSleepers(apps: string[], labels: Record<string, string>) {
  const started = performance.now();
  const made: Array<{ app: string; instance: string }> = [];
  // A few at a time: the engine serialises most of the work anyway.
  const queue = Array.from({ length: CONTAINERS }, (_, i) => ({
    app: apps[i % apps.length]!,
    instance: `b${i}`,
  }));
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const c = await docker.createContainer({
          name: `glint-${next.app}-${next.instance}`,
          Image: IMAGE,
          Entrypoint: ['sleep'],
          Cmd: ['100000'],
          Labels: {
            ...labels,
            'glint.managed': 'true',
            'glint.app': next.app,
            'glint.instance': next.instance,
            'glint.spec': SPEC,
            'glint.version': '1.0.0',
          },
          HostConfig: { Init: true, Memory: 16 * 1024 * 1024 },
        });
        await c.start();
        made.push(next);
      }
    }),
  );
  return { made, seconds: (performance.now() - started) / 1000 };
}

async function main() {
  const labels = testLabels(SUITE);
  const etcdHandle = await startEtcd(SUITE);
  const etcd = await connectEtcd({ endpoints: [etcdHandle.endpoint], prefix: '/glint' });
  try {
    const apps = Array.from({ length: APPS }, (_, i) => `bench${i}`);
    const perApp = Math.ceil(CONTAINERS / APPS);
    const parsed = validateConfig({
      etcd: { endpoints: [etcdHandle.endpoint] },
      apps: Object.fromEntries(
        apps.map((a) => [
          a,
          {
            image: '127.0.0.1:1/bench',
            version: '1.0.0',
            instances: perApp,
            port: 8080,
            health: { type: 'tcp' },
            routing: { frontendPort: 20000 + apps.indexOf(a) },
          },
        ]),
      ),
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const store = new EtcdStateStore(etcd);
    const { made, seconds } = await createSleepers(apps, labels);
    for (const app of apps) {
      const count = made.filter((m) => m.app === app).length;
      const release = {
        imageRef: `127.0.0.1:1/bench@sha256:${'0'.repeat(64)}`,
        version: '1.0.0',
        digest: `sha256:${'0'.repeat(64)}`,
        specHash: SPEC,
        env: { fingerprint: 'f', readRevision: 0, values: {}, secretNames: [] },
        deploymentId: 'bench',
        deployedAt: new Date().toISOString(),
      };
      await store.saveApp(
        { app, current: release, history: [release], instances: count, updatedAt: new Date().toISOString() },
        { expectedModRevision: 0 },
      );
    }
    console.log(
      `${made.length} sleeping glint containers over ${APPS} apps created in ${seconds.toFixed(1)} s`,
    );

    // Only listed, never launched on: the service address is never used.
    const nodes = new DockerNodes(
      [{ name: 'local', engine: new DockerEngine(), hostIp: '127.0.0.1', serviceAddress: '172.17.0.1' }],
      { scope: labels },
    );
    const names = new Map(apps.map((a) => [a, made.filter((m) => m.app === a).map((m) => m.instance)]));
    const heals: string[] = [];
    const reconciler = new Reconciler({
      apps: () => parsed.config.apps,
      list: (app) => nodes.list(app),
      store,
      engine: {
        startDeployment: async (app) => {
          heals.push(app);
          throw new Error('the bench starts no deployment');
        },
        isActive: () => false,
        failingInstances: () => new Map(),
        watchInstances: () => {},
      },
      servers: async (app) => (names.get(app) ?? []).map((name) => ({ name, state: 'ready' as const })),
      allServers: async () =>
        new Map(
          [...names].map(([app, list]) => [app, list.map((name) => ({ name, state: 'ready' as const }))]),
        ),
      forgetGone: async () => {},
      retireUndeclared: async () => {},
      logTail: async () => [],
      clock: { now: () => Date.now() },
      log: silentLogger(),
      intervalMs: 60_000,
      undeclaredGraceMs: 60_000,
    });
    const times: number[] = [];
    let last: ReconcileAction[] = [];
    await reconciler.pass(); // warm: connections, JIT
    for (let i = 0; i < PASSES; i++) {
      const t = performance.now();
      last = await reconciler.pass();
      times.push(performance.now() - t);
    }
    const kinds = last.reduce<Record<string, number>>((acc, a) => {
      acc[a.kind] = (acc[a.kind] ?? 0) + 1;
      return acc;
    }, {});
    console.log(`decisions of the last pass: ${JSON.stringify(kinds)}; heals attempted: ${heals.length}`);
    console.log(
      `full pass over ${made.length} containers, ${APPS} apps, ${PASSES} passes: ` +
        `median ${percentile(times, 50).toFixed(1)} ms, p90 ${percentile(times, 90).toFixed(1)} ms, ` +
        `max ${Math.max(...times).toFixed(1)} ms (target < 500 ms)`,
    );
  } finally {
    etcd.close();
    const removed = await removeTestContainers({ runId: process.env.GLINT_TEST_RUN, suite: SUITE });
    console.log(`removed ${removed} containers`);
  }
}

await main();
