import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEveryRequestAnswered } from '../../support/expect-every-request-answered.ts';
import { formatLoad, ROLLOUT_LOAD, startLoad } from '../../support/http-load.ts';
import { type RolloutStack, startRolloutStack } from '../../support/rollout-stack.ts';

const SUITE = 'rollout-host-network';
// A range of its own: the test can tell a picked port from anything else on the host.
const HOST_PORTS = { min: 24100, max: 24899 };
let stack: RolloutStack;
const docker = new Docker();

beforeAll(async () => {
  stack = await startRolloutStack(
    SUITE,
    (frontendPort) => ({
      image: 'unused',
      version: '1.0.0',
      instances: 3,
      port: 8080,
      network: 'host',
      env: { PORT: '8080' },
      health: { type: 'http', path: '/healthz', interval: '1s', timeout: '1s' },
      strategy: { maxSurge: '100%', maxUnavailable: 0, minHealthyTime: '1s', stopTimeout: '5s' },
      routing: { frontendPort },
    }),
    'web',
    {},
    { addressMode: 'container', hostPorts: HOST_PORTS },
  );
  await stack.push('1.0.0');
  await stack.push('1.1.0');
});

afterAll(async () => {
  await stack?.close();
});

/** Each running instance: where the engine's list says it is, and how its container was made. */
async function instances() {
  const listed = (await stack.nodes.list('web')).filter((c) => c.running);
  return Promise.all(
    listed.map(async (c) => {
      const info = await docker.getContainer(c.containerId).inspect();
      return {
        instance: c.instance,
        address: `${c.host}:${c.port}`,
        port: c.port ?? 0,
        networkMode: info.HostConfig.NetworkMode,
        envPort: info.Config.Env.find((e) => e.startsWith('PORT='))?.slice('PORT='.length),
        label: info.Config.Labels['glint.port'],
      };
    }),
  );
}

async function versionAt(address: string): Promise<string> {
  const res = await fetch(`http://${address}/version`, { headers: { connection: 'close' } });
  return ((await res.json()) as { version: string }).version;
}

describe("an app in the host's network (network: 'host')", () => {
  it('gives each instance its own port of the range, told as PORT over the env, and everyone reaches it there', async () => {
    const started = await stack.engine.startDeployment('web', { kind: 'deploy', version: '1.0.0' });
    const done = await stack.finished('web', started.id);
    expect({ state: done.state, error: done.error }).toEqual({ state: 'succeeded', error: undefined });

    const running = await instances();
    expect(running).toHaveLength(3);
    expect(new Set(running.map((i) => i.port)).size).toBe(3);
    for (const i of running) {
      expect(i.networkMode).toBe('host');
      expect(i.port).toBeGreaterThanOrEqual(HOST_PORTS.min);
      expect(i.port).toBeLessThanOrEqual(HOST_PORTS.max);
      expect(i.address).toBe(`127.0.0.1:${i.port}`);
      expect(i.envPort).toBe(String(i.port));
      expect(i.label).toBe(String(i.port));
      expect(await versionAt(i.address)).toBe('1.0.0');
    }
    const byName = new Map(running.map((i) => [i.instance, i.address]));
    const servers = await stack.lb.runtime.backendServersState('be_web');
    expect(new Map(servers.map((s) => [s.name, `${s.address}:${s.port}`]))).toEqual(byName);
    const registered = await stack.registered('web');
    expect(new Map(registered.map((e) => [e.instance, `${e.host}:${e.port}`]))).toEqual(byName);
  });

  it('replaces all three at once under 32 connections of GET and POST, keep-alive and new, with no client error', async () => {
    const before = new Set((await instances()).map((i) => i.port));
    const load = startLoad({
      url: `http://127.0.0.1:${stack.frontendPort}/`,
      ...ROLLOUT_LOAD,
      rate: 150,
      maxDurationSec: 240,
    });
    try {
      const started = await stack.engine.startDeployment('web', { kind: 'deploy', version: '1.1.0' });
      const done = await stack.finished('web', started.id);
      expect({ state: done.state, error: done.error }).toEqual({ state: 'succeeded', error: undefined });
      // Three launched together: none may have been handed a port another one held.
      expect(done.steps.filter((s) => s.kind === 'start')).toHaveLength(3);
    } finally {
      load.stop();
    }
    const summary = await load.result;
    console.log(formatLoad("replacing 3 instances in the host's network at once", summary));
    expectEveryRequestAnswered(summary, { atLeast: 301 });

    const running = await instances();
    expect(running).toHaveLength(3);
    const ports = running.map((i) => i.port);
    expect(new Set(ports).size).toBe(3);
    // The new ones started while the old ones still listened: no port of theirs was free.
    expect(ports.filter((p) => before.has(p))).toEqual([]);
    expect(await Promise.all(running.map((i) => versionAt(i.address)))).toEqual(['1.1.0', '1.1.0', '1.1.0']);
  });
});
