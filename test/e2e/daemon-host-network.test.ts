import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GlintConfigInput } from '../../src/config/index.ts';
import { type DaemonProcess, spawnDaemon } from '../support/daemon-process.ts';
import { type DaemonStack, type DaemonStackContext, startDaemonStack } from '../support/daemon-stack.ts';
import { expectEveryRequestAnswered } from '../support/expect-every-request-answered.ts';
import { formatLoad, ROLLOUT_LOAD, startLoad } from '../support/http-load.ts';
import { testLabels } from '../support/labels.ts';
import { waitFor } from '../support/wait-for.ts';

const SUITE = 'e2e-daemon-host-network';
// A name of this suite's own: a glint engine takes every container of its app name on the engine.
const APP = 'hostnet';
// A range of the suite's own, apart from the integration test's.
const HOST_PORTS = { min: 24900, max: 25699 };
const docker = new Docker();

function declaration(ctx: DaemonStackContext): GlintConfigInput {
  return {
    etcd: { endpoints: [ctx.etcdEndpoint], leaseTtl: '2s' },
    docker: { endpoints: [{ name: 'local', socketPath: '/var/run/docker.sock', hostPorts: HOST_PORTS }] },
    registries: { [ctx.registryHost]: { insecure: true } },
    haproxy: { runDir: join(ctx.dir, 'haproxy') },
    api: { listen: `127.0.0.1:${ctx.apiPort}`, tokenFile: join(ctx.dir, 'api-token') },
    apps: {
      [APP]: {
        image: `${ctx.registryHost}/demo-app`,
        version: '1.0.0',
        instances: 2,
        port: 8080,
        network: 'host',
        labels: testLabels(SUITE),
        health: { type: 'http', path: '/healthz', interval: '500ms', timeout: '500ms', healthyThreshold: 1 },
        strategy: {
          maxSurge: 1,
          maxUnavailable: 0,
          minHealthyTime: '500ms',
          drainTimeout: '2s',
          stopTimeout: '3s',
        },
        routing: { frontendPort: ctx.ports[0]! },
      },
    },
  };
}

let stack: DaemonStack;
let ctx: DaemonStackContext;
/** The daemon started again by the test; the stack ends only the first. */
let restarted: DaemonProcess | undefined;

beforeAll(async () => {
  stack = await startDaemonStack(SUITE, {
    versions: ['1.0.0'],
    ports: 1,
    declaration: (c) => {
      ctx = c;
      return declaration(c);
    },
  });
}, 300_000);

afterAll(async () => {
  if (restarted && restarted.proc.exitCode === null && restarted.proc.signalCode === null) {
    restarted.proc.kill('SIGKILL');
    await restarted.exited;
  }
  await stack?.close();
});

type Instance = { id: string; containerId: string; health: string; address: string | null };

/** Both instances ready, each with an address, no deployment running. */
async function ready(what: string): Promise<Instance[]> {
  return waitFor(
    async () => {
      const app = (await stack.call('GET', `/v1/apps/${APP}`)).json;
      const list: Instance[] = app.instances?.list ?? [];
      return list.length === 2 &&
        list.every((i) => i.health === 'ready' && i.address) &&
        !app.activeDeployment
        ? list
        : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 250, what },
  ).catch((e: Error) => stack.withOutput(e));
}

describe("the daemon with an app in the host's network", () => {
  it("starts it on ports of the endpoint's hostPorts, reached at the host IP, and a restart keeps every instance", {
    timeout: 300_000,
  }, async () => {
    const before = await ready('both instances ready');
    const ports = before.map((i) => Number(i.address!.split(':')[1]));
    expect(new Set(ports).size).toBe(2);
    for (const i of before) {
      const port = Number(i.address!.split(':')[1]);
      expect(i.address).toBe(`127.0.0.1:${port}`);
      expect(port).toBeGreaterThanOrEqual(HOST_PORTS.min);
      expect(port).toBeLessThanOrEqual(HOST_PORTS.max);
      const info = await docker.getContainer(i.containerId).inspect();
      expect(info.HostConfig.NetworkMode).toBe('host');
      const res = await fetch(`http://${i.address}/version`, { headers: { connection: 'close' } });
      expect(((await res.json()) as { version: string }).version).toBe('1.0.0');
    }

    const load = startLoad({
      url: `http://127.0.0.1:${ctx.ports[0]}/`,
      ...ROLLOUT_LOAD,
      rate: 150,
      maxDurationSec: 300,
    });
    try {
      // As Ctrl-C or a supervisor's stop: SIGTERM; the instances keep serving meanwhile.
      stack.daemon.proc.kill('SIGTERM');
      expect(await stack.daemon.exited).toBe(0);
      const again = spawnDaemon(join(stack.dir, 'scheduler.config.ts'), {
        apiUrl: stack.api,
        dir: stack.dir,
      });
      restarted = again;
      await waitFor(
        async () =>
          /"app":"hostnet","action":"(kept|deployment|busy|error)"/.test(again.output()) ? true : undefined,
        { what: 'the restarted daemon to compare the app with its declaration', timeoutMs: 120_000 },
      ).catch((err: Error) => {
        throw new Error(`${err.message}; daemon output: ${again.output().slice(-3000)}`);
      });
      // Adopted from the list: the same containers, at the ports their labels name.
      expect(again.output()).toMatch(/"app":"hostnet","action":"kept"/);
      const after = await ready('both instances adopted by the restarted daemon');
      const byId = (list: Instance[]) => new Map(list.map((i) => [i.containerId, i.address]));
      expect(byId(after)).toEqual(byId(before));
    } finally {
      load.stop();
    }
    const summary = await load.result;
    console.log(formatLoad('[host network, daemon restarted] load', summary));
    expectEveryRequestAnswered(summary, { atLeast: 30 });
  });
});
