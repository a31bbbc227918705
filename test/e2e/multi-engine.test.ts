import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GlintConfigInput } from '../../src/config/index.ts';
import { type DaemonStack, type DaemonStackContext, startDaemonStack } from '../support/daemon-stack.ts';
import { expectEveryRequestAnswered } from '../support/expect-every-request-answered.ts';
import { formatLoad, ROLLOUT_LOAD, startLoad } from '../support/http-load.ts';
import { testLabels } from '../support/labels.ts';
import { type SecondEngine, startSecondEngine } from '../support/second-engine.ts';
import { waitFor } from '../support/wait-for.ts';

const SUITE = 'e2e-multi-engine';
// A name of this suite's own: a glint engine takes every container of its app name on an engine.
const APP = 'spread';
const COUNT = 6;
const LOCAL = 'local';
const REMOTE = 'node-b';

const health = {
  type: 'http',
  path: '/healthz',
  interval: '500ms',
  timeout: '500ms',
  healthyThreshold: 1,
  unhealthyThreshold: 2,
} as const;

function declaration(ctx: DaemonStackContext, remote: SecondEngine): GlintConfigInput {
  return {
    docker: {
      endpoints: [
        { name: LOCAL, socketPath: '/var/run/docker.sock', hostIp: '127.0.0.1' },
        {
          name: REMOTE,
          url: remote.url.replace(/^http:/, 'tcp:'),
          insecure: true,
          hostIp: remote.hostIp,
          serviceAddress: remote.hostSideAddress,
        },
      ],
      pingInterval: '1s',
      nodeDownAfter: '4s',
    },
    etcd: { endpoints: [ctx.etcdEndpoint], leaseTtl: '2s' },
    registries: { [ctx.registryHost]: { insecure: true } },
    haproxy: { runDir: join(ctx.dir, 'haproxy') },
    api: { listen: `127.0.0.1:${ctx.apiPort}`, tokenFile: join(ctx.dir, 'api-token') },
    reconcile: { interval: '2s' },
    apps: {
      [APP]: {
        image: `${ctx.registryHost}/demo-app`,
        version: '1.0.0',
        instances: COUNT,
        port: 8080,
        labels: testLabels(SUITE),
        health,
        strategy: {
          maxSurge: 2,
          maxUnavailable: 0,
          minHealthyTime: '500ms',
          healthyDeadline: '60s',
          drainTimeout: '2s',
          stopTimeout: '3s',
        },
        // The demo's POST /echo is idempotent: HAProxy may resend one whose instance was lost.
        routing: { frontendPort: ctx.ports[0]!, retryWrites: true },
      },
    },
  };
}

let stack: DaemonStack;
let remote: SecondEngine | undefined;

type Instance = { id: string; node: string; health: string; version: string };
const appState = async () => (await stack.call('GET', `/v1/apps/${APP}`)).json;
const byNode = (list: Instance[]) => {
  const out: Record<string, number> = {};
  for (const i of list) out[i.node] = (out[i.node] ?? 0) + 1;
  return out;
};

/** The app's running containers on the second engine, asked of that engine directly. */
async function runningOnRemote(): Promise<number> {
  const docker = new Docker({ socketPath: remote!.socketPath });
  const list = await docker.listContainers({ filters: { label: [`glint.app=${APP}`] } });
  return list.length;
}

/** Waits until `n` instances are ready with no deployment active, and returns them. */
function settled(n: number, what: string, accept: (list: Instance[]) => boolean = () => true) {
  return waitFor(
    async () => {
      const app = await appState();
      // While an engine is unreachable but not yet down, the answer may be an error.
      if (!app?.instances) return undefined;
      const list: Instance[] = app.instances.list;
      return !app.activeDeployment &&
        list.length === n &&
        list.every((i) => i.health === 'ready') &&
        accept(list)
        ? list
        : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 250, what },
  ).catch((e: Error) => stack.withOutput(e));
}

const load = () =>
  startLoad({
    url: `http://127.0.0.1:${stack.ports[0]}/`,
    ...ROLLOUT_LOAD,
    rate: 150,
    maxDurationSec: 240,
  });

beforeAll(async () => {
  stack = await startDaemonStack(SUITE, {
    versions: ['1.0.0', '1.1.0'],
    ports: 1,
    prepare: async (registryHost) => {
      remote = await startSecondEngine({
        suite: SUITE,
        name: REMOTE,
        registryPort: Number(registryHost.split(':')[1]),
      });
    },
    declaration: (ctx) => declaration(ctx, remote!),
  }).catch(async (err) => {
    await remote?.stop();
    throw err;
  });
}, 300_000);

afterAll(async () => {
  await stack?.close();
  await remote?.stop();
}, 120_000);

describe('one app across two real Docker engines', () => {
  it('spreads 6 instances 3 and 3, and GET /v1/nodes shows both engines up with their instances', async () => {
    const list = await settled(COUNT, '6 ready instances of 1.0.0');
    expect(byNode(list)).toEqual({ [LOCAL]: 3, [REMOTE]: 3 });
    const nodes = (await stack.call('GET', '/v1/nodes')).json.nodes;
    expect(
      nodes.map((n: { name: string; state: string; instances: number }) => [n.name, n.state, n.instances]),
    ).toEqual([
      [LOCAL, 'up', 3],
      [REMOTE, 'up', 3],
    ]);
  });

  it('rolls 1.0.0 → 1.1.0 across both engines under load with no client error, each replaced on its own engine', async () => {
    const traffic = load();
    try {
      const started = await stack.call('POST', `/v1/apps/${APP}/deployments`, { body: { version: '1.1.0' } });
      expect(started.status, JSON.stringify(started.json)).toBe(202);
      const done = await stack.call('GET', `/v1/deployments/${started.json.id}?wait=240`);
      expect(done.json.state, JSON.stringify(done.json.error)).toBe('succeeded');
    } finally {
      traffic.stop();
    }
    const summary = await traffic.result;
    console.log(formatLoad('rolling 1.0.0 → 1.1.0 over two engines', summary));
    expectEveryRequestAnswered(summary, { atLeast: 101 });
    const list = await settled(COUNT, '6 ready instances of 1.1.0');
    expect(list.every((i) => i.version === '1.1.0')).toBe(true);
    expect(byNode(list)).toEqual({ [LOCAL]: 3, [REMOTE]: 3 });
  });

  it('replaces a lost engine’s instances on the other under load, then removes its leftovers when it returns', async () => {
    const traffic = load();
    const lostAt = Date.now();
    let healedAt = 0;
    try {
      await remote!.kill();
      await settled(COUNT, '6 ready instances, all on the engine left', (l) => byNode(l)[LOCAL] === COUNT);
      healedAt = Date.now();
    } finally {
      traffic.stop();
    }
    const summary = await traffic.result;
    console.log(
      formatLoad(
        `engine ${REMOTE} killed; healed on ${LOCAL} after ${((healedAt - lostAt) / 1000).toFixed(1)} s`,
        summary,
      ),
    );
    expectEveryRequestAnswered(summary, { atLeast: 101 });
    const nodes = (await stack.call('GET', '/v1/nodes')).json.nodes;
    expect(nodes.find((n: { name: string }) => n.name === REMOTE)).toMatchObject({
      state: 'down',
      instances: null,
    });

    await remote!.restart();
    // The killed containers are back as exited ones: glint removes them, and places nothing new.
    await waitFor(
      async () => {
        const docker = new Docker({ socketPath: remote!.socketPath });
        const left = await docker.listContainers({ all: true, filters: { label: [`glint.app=${APP}`] } });
        const node = (await stack.call('GET', '/v1/nodes')).json.nodes.find(
          (n: { name: string }) => n.name === REMOTE,
        );
        return left.length === 0 && node.state === 'up' ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: `glint's leftovers on ${REMOTE} removed` },
    ).catch((e: Error) => stack.withOutput(e));
    const list = await settled(COUNT, '6 ready instances after the engine returned');
    expect(byNode(list)).toEqual({ [LOCAL]: COUNT });
  });

  it('after a partition heals, never runs more instances than declared', async () => {
    // A rotation spreads the instances over both engines again.
    const rotated = await stack.call('POST', `/v1/apps/${APP}/rotations`, { body: {} });
    expect(rotated.status, JSON.stringify(rotated.json)).toBe(202);
    await stack.call('GET', `/v1/deployments/${rotated.json.id}?wait=240`);
    const spread = await settled(COUNT, 'instances on both engines', (l) => (byNode(l)[REMOTE] ?? 0) > 0);
    const stranded = byNode(spread)[REMOTE]!;

    await remote!.cutLink();
    try {
      await settled(COUNT, '6 ready instances on the reachable engine', (l) => byNode(l)[LOCAL] === COUNT);
    } finally {
      await remote!.restoreLink();
    }
    // Cut off, the stranded instances ran on: they are still there when the link returns.
    expect(await runningOnRemote()).toBe(stranded);
    await waitFor(async () => ((await runningOnRemote()) === 0 ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: `the stranded instances on ${REMOTE} removed`,
    }).catch((e: Error) => stack.withOutput(e));
    const list = await settled(COUNT, '6 ready instances once the partition healed');
    expect(byNode(list)).toEqual({ [LOCAL]: COUNT });
    const registered = (await appState()).instances;
    expect(registered.ready).toBe(COUNT);
  });
});
