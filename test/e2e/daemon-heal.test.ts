import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GlintConfigInput } from '../../src/config/index.ts';
import { type DaemonStack, type DaemonStackContext, startDaemonStack } from '../support/daemon-stack.ts';
import { expectEveryRequestAnswered } from '../support/expect-every-request-answered.ts';
import { HAPROXY_IMAGE } from '../support/haproxy-container.ts';
import { ROLLOUT_LOAD, type RunningLoad, startLoad } from '../support/http-load.ts';
import { testLabels } from '../support/labels.ts';
import { waitFor } from '../support/wait-for.ts';

const SUITE = 'e2e-daemon-heal';
// Names of this suite's own: a glint engine takes every container of its app name on the engine.
const APP = 'healdemo';
const CRASHY = 'healcrashy';
const GONE = 'healgone';
const VERSION = '1.0.0';
const docker = new Docker();

const health = {
  type: 'http',
  path: '/healthz',
  interval: '500ms',
  timeout: '500ms',
  healthyThreshold: 1,
  unhealthyThreshold: 2,
} as const;
const strategy = {
  maxSurge: 1,
  maxUnavailable: 0,
  minHealthyTime: '500ms',
  drainTimeout: '2s',
  stopTimeout: '3s',
};

/** `all`: with the two apps the last test takes out of the declaration. */
function declaration(ctx: DaemonStackContext, all: boolean): GlintConfigInput {
  return {
    etcd: { endpoints: [ctx.etcdEndpoint], leaseTtl: '2s' },
    registries: { [ctx.registryHost]: { insecure: true } },
    haproxy: { runDir: join(ctx.dir, 'haproxy') },
    api: { listen: `127.0.0.1:${ctx.apiPort}`, tokenFile: join(ctx.dir, 'api-token') },
    reconcile: { interval: '2s', undeclaredGrace: '3s' },
    apps: {
      [APP]: {
        image: `${ctx.registryHost}/demo-app`,
        version: VERSION,
        instances: 2,
        port: 8080,
        labels: testLabels(SUITE),
        health,
        strategy,
        // The demo's POST /echo is idempotent: HAProxy may resend one whose instance was killed.
        routing: { frontendPort: ctx.ports[0]!, retryWrites: true },
      },
      ...(all
        ? {
            [GONE]: {
              image: `${ctx.registryHost}/demo-app`,
              version: VERSION,
              instances: 1,
              port: 8080,
              labels: testLabels(SUITE),
              health,
              strategy,
              routing: { frontendPort: ctx.ports[2]! },
            },
            // No instance until the crash-loop test scales it up: its churn stays out of the others.
            [CRASHY]: {
              image: `${ctx.registryHost}/demo-app`,
              version: VERSION,
              instances: 0,
              port: 8080,
              labels: testLabels(SUITE),
              env: { CRASH_AFTER_MS: '6000' },
              health,
              strategy,
              routing: { frontendPort: ctx.ports[1]! },
            },
          }
        : {}),
    },
  };
}

let stack: DaemonStack;
let ctx: DaemonStackContext;

type Instance = { id: string; containerId: string; health: string };
const appState = async (app = APP) => (await stack.call('GET', `/v1/apps/${app}`)).json;
const instances = async (app = APP): Promise<Instance[]> => (await appState(app)).instances.list;
const deployments = async (app = APP) =>
  (await stack.call('GET', `/v1/deployments?app=${app}&limit=500`)).json.deployments as Array<{
    id: string;
    kind: string;
    state: string;
    cause?: string;
  }>;
const healsSucceeded = async (app = APP) =>
  (await deployments(app)).filter((d) => d.kind === 'heal' && d.state === 'succeeded').length;

/** The app serves `n` ready instances, none of them `gone`, with no deployment running. */
async function whole(n: number, gone: string, healsBefore: number, what: string) {
  return waitFor(
    async () => {
      const app = await appState();
      const list: Instance[] = app.instances.list;
      const ready = list.filter((i) => i.health === 'ready');
      const healed = (await healsSucceeded()) > healsBefore;
      return list.length === n &&
        ready.length === n &&
        !list.some((i) => i.containerId === gone) &&
        healed &&
        !app.activeDeployment
        ? list
        : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 250, what },
  ).catch((e: Error) => stack.withOutput(e));
}

beforeAll(async () => {
  stack = await startDaemonStack(SUITE, {
    versions: [VERSION],
    ports: 3,
    declaration: (c) => {
      ctx = c;
      return declaration(c, true);
    },
  });
  await waitFor(
    async () => {
      const [app, gone] = await Promise.all([
        appState().catch(() => undefined),
        appState(GONE).catch(() => undefined),
      ]);
      return app?.instances?.ready === 2 && !app.activeDeployment && gone?.instances?.ready === 1
        ? true
        : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 500, what: `${APP} serving 2 instances and ${GONE} 1` },
  ).catch((e: Error) => stack.withOutput(e));
}, 420_000);

afterAll(async () => {
  await stack?.close();
});

describe('the reconciler of a real daemon', () => {
  it('heals an instance killed, removed or stopped by hand under load, with 0 client errors', async () => {
    const load: RunningLoad = startLoad({
      url: `http://127.0.0.1:${ctx.ports[0]}/`,
      ...ROLLOUT_LOAD,
      rate: 300,
      maxDurationSec: 600,
    });
    try {
      for (const how of ['docker kill', 'docker rm -f', 'docker stop'] as const) {
        const [victim] = await instances();
        const before = await healsSucceeded();
        const c = docker.getContainer(victim!.containerId);
        if (how === 'docker kill') await c.kill();
        else if (how === 'docker rm -f') await c.remove({ force: true });
        else await c.stop({ t: 3 });
        await whole(2, victim!.containerId, before, `${APP} healed after ${how}`);
      }
    } finally {
      load.stop();
    }
    const summary = await load.result;
    expectEveryRequestAnswered(summary, { atLeast: 101, label: 'heal under load' });
  });

  it('replaces an instance whose health starts failing', async () => {
    const [sick] = await instances();
    const before = await healsSucceeded();
    const info = await docker.getContainer(sick!.containerId).inspect();
    const port = info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
    const res = await fetch(`http://127.0.0.1:${port}/admin/fail-health`, { method: 'POST' });
    expect(res.status).toBe(200);
    const after = await whole(2, sick!.containerId, before, `${APP} healed after its health failed`);
    const heal = (await deployments()).find((d) => d.kind === 'heal' && d.cause?.includes(sick!.id));
    expect(heal?.cause).toMatch(/failed its health check/);
    expect(after.map((i) => i.containerId)).not.toContain(sick!.containerId);
  });

  it('replaces a container started by hand with glint labels but another spec', async () => {
    const [model] = await instances();
    const info = await docker.getContainer(model!.containerId).inspect();
    const before = await healsSucceeded();
    const forged = await docker.createContainer({
      name: `glint-${APP}-forged-${Date.now()}`,
      Image: info.Image,
      Env: info.Config.Env,
      Labels: { ...info.Config.Labels, 'glint.instance': 'forged', 'glint.spec': 'not-the-spec' },
      HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
      ExposedPorts: { '8080/tcp': {} },
    });
    await forged.start();
    await whole(2, forged.id, before, `the forged ${APP} container replaced`);
    await expect(forged.inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('a HAProxy restarted by hand serves the ready instances again', async () => {
    const ids = (await instances()).map((i) => i.id).sort();
    const [haproxy] = await docker.listContainers({
      filters: { label: [`glint.test.suite=${SUITE}`], ancestor: [HAPROXY_IMAGE] },
    });
    expect(haproxy).toBeDefined();
    await docker.getContainer(haproxy!.Id).restart({ t: 1 });
    // Every instance answers through the frontend again: in rotation, none left draining.
    const seen = new Set<string>();
    await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${ctx.ports[0]}/`).catch(() => undefined);
        if (res?.status === 200) seen.add(((await res.json()) as { instance: string }).instance);
        else await res?.body?.cancel();
        return seen.size === ids.length ? true : undefined;
      },
      {
        timeoutMs: 120_000,
        intervalMs: 100,
        what: `both ${APP} instances answering after HAProxy restarted`,
      },
    ).catch((e: Error) => stack.withOutput(e));
    // Healed in place: the same instances serve.
    expect((await instances()).map((i) => i.id).sort()).toEqual(ids);
  });

  it('backs off a crash-looping app and shows why, with its last log lines', async () => {
    const scaled = await stack.call('PUT', `/v1/apps/${CRASHY}/scale`, { body: { instances: 1 } });
    expect(scaled.status).toBe(202);
    // Each instance exits 6 s after it starts: healed again and again, the streak grows.
    const healing = await waitFor(
      async () => {
        const h = (await appState(CRASHY)).healing;
        return h?.streak >= 2 ? h : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 250, what: `${CRASHY} healed twice in a row` },
    ).catch((e: Error) => stack.withOutput(e));
    expect(healing.reason).toMatch(/exited with code 3|the last heal failed/);
    expect(healing.logTail?.join('\n') ?? '').toContain('crashing on purpose');
  });

  it('removes the containers of apps no longer declared, after their grace period', async () => {
    expect(await docker.listContainers({ filters: { label: [`glint.app=${GONE}`] } })).toHaveLength(1);
    writeFileSync(
      join(stack.dir, 'scheduler.config.ts'),
      `export default ${JSON.stringify(declaration(ctx, false))};\n`,
    );
    stack.daemon.proc.kill('SIGHUP');
    await waitFor(
      async () => {
        const left = await Promise.all(
          [GONE, CRASHY].map((app) =>
            docker.listContainers({ all: true, filters: { label: [`glint.app=${app}`] } }),
          ),
        );
        return left.flat().length === 0 ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: `the containers of ${GONE} and ${CRASHY} removed` },
    ).catch((e: Error) => stack.withOutput(e));
    expect(stack.daemon.output()).toContain('removing the containers of an app that is no longer declared');
    // The declared app was left as it was.
    expect((await instances()).filter((i) => i.health === 'ready')).toHaveLength(2);
  });
});
