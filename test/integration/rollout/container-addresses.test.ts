import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkIp } from '../../../src/docker/instance-address.ts';
import { expectEveryRequestAnswered } from '../../support/expect-every-request-answered.ts';
import { formatLoad, ROLLOUT_LOAD, startLoad } from '../../support/http-load.ts';
import { type RolloutStack, startRolloutStack } from '../../support/rollout-stack.ts';

const SUITE = 'rollout-container-addresses';
let stack: RolloutStack;
const docker = new Docker();

beforeAll(async () => {
  stack = await startRolloutStack(
    SUITE,
    (frontendPort) => ({
      image: 'unused',
      version: '1.0.0',
      instances: 2,
      port: 8080,
      health: { type: 'http', path: '/healthz', interval: '1s', timeout: '1s' },
      strategy: { maxSurge: 1, maxUnavailable: 0, minHealthyTime: '1s', stopTimeout: '5s' },
      routing: { frontendPort },
    }),
    'web',
    {},
    { addressMode: 'container' },
  );
  await stack.push('1.0.0');
  await stack.push('1.1.0');
});

afterAll(async () => {
  await stack?.close();
});

/** Each running instance: where the engine's list says it is, and what its container publishes. */
async function instances() {
  const listed = (await stack.nodes.list('web')).filter((c) => c.running);
  return Promise.all(
    listed.map(async (c) => {
      const info = await docker.getContainer(c.containerId).inspect();
      return {
        instance: c.instance,
        address: `${c.host}:${c.port}`,
        ip: networkIp(info.NetworkSettings),
        published: Object.values(info.NetworkSettings.Ports ?? {}).filter((b) => b && b.length > 0).length,
      };
    }),
  );
}

describe('an engine whose instances are reached at their container IP (addressMode container)', () => {
  it('publishes no port, and HAProxy, the registry and the engine list name each instance by its container IP', async () => {
    const started = await stack.engine.startDeployment('web', { kind: 'deploy', version: '1.0.0' });
    const done = await stack.finished('web', started.id);
    expect({ state: done.state, error: done.error }).toEqual({ state: 'succeeded', error: undefined });

    const running = await instances();
    expect(running).toHaveLength(2);
    for (const i of running) {
      expect(i.published).toBe(0);
      expect(i.address).toBe(`${i.ip}:8080`);
    }
    const byName = new Map(running.map((i) => [i.instance, i.address]));
    const servers = await stack.lb.runtime.backendServersState('be_web');
    expect(new Map(servers.map((s) => [s.name, `${s.address}:${s.port}`]))).toEqual(byName);
    const registered = await stack.registered('web');
    expect(new Map(registered.map((e) => [e.instance, `${e.host}:${e.port}`]))).toEqual(byName);
  });

  it('rolls 1.0.0 → 1.1.0 under 32 connections of GET and POST, keep-alive and new, with no client error', async () => {
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
    } finally {
      load.stop();
    }
    const summary = await load.result;
    console.log(formatLoad('rolling 1.0.0 → 1.1.0 at container IPs', summary));
    expectEveryRequestAnswered(summary, { atLeast: 301 });
    const running = await instances();
    expect(running.map((i) => i.address.startsWith(`${i.ip}:`))).toEqual([true, true]);
    const versions = await Promise.all(
      running.map(
        async (i) =>
          ((await (await fetch(`http://${i.address}/version`)).json()) as { version: string }).version,
      ),
    );
    expect(versions).toEqual(['1.1.0', '1.1.0']);
  });
});
