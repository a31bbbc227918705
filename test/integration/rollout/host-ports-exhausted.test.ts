import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEveryRequestAnswered } from '../../support/expect-every-request-answered.ts';
import { formatLoad, ROLLOUT_LOAD, startLoad } from '../../support/http-load.ts';
import { type RolloutStack, startRolloutStack } from '../../support/rollout-stack.ts';

const SUITE = 'rollout-host-ports-exhausted';
// Three host ports for three instances: a surge instance has none left.
const HOST_PORTS = { min: 24900, max: 24902 };
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
      strategy: { maxSurge: 1, maxUnavailable: 0, minHealthyTime: '1s', stopTimeout: '5s' },
      routing: { frontendPort },
    }),
    'web',
    {},
    { addressMode: 'container', hostPorts: HOST_PORTS },
  );
  await stack.push('1.0.0');
  await stack.push('1.1.0');
  const started = await stack.engine.startDeployment('web', { kind: 'deploy', version: '1.0.0' });
  const done = await stack.finished('web', started.id);
  expect({ state: done.state, error: done.error }).toEqual({ state: 'succeeded', error: undefined });
});

afterAll(async () => {
  await stack?.close();
});

/** The running instances' versions and host ports, in port order. */
async function running(): Promise<Array<{ version: string; port: number; networkMode: string }>> {
  const listed = (await stack.nodes.list('web')).filter((c) => c.running);
  const rows = await Promise.all(
    listed.map(async (c) => ({
      version: c.version,
      port: c.port ?? 0,
      networkMode: (await docker.getContainer(c.containerId).inspect()).HostConfig.NetworkMode ?? '',
    })),
  );
  return rows.sort((a, b) => a.port - b.port);
}

/**
 * Runs `deploy` under the rollout tests' load through HAProxy; every request must get a 2xx.
 * `seconds`: the load runs that long whatever `deploy` takes (a deployment that fails at once
 * must still be seen to leave the app serving); otherwise it stops when `deploy` is done.
 */
async function underLoad<T>(label: string, deploy: () => Promise<T>, seconds?: number): Promise<T> {
  const load = startLoad({
    url: `http://127.0.0.1:${stack.frontendPort}/`,
    ...ROLLOUT_LOAD,
    rate: 100,
    maxDurationSec: seconds ?? 240,
  });
  let result: T;
  try {
    result = await deploy();
  } finally {
    if (seconds === undefined) load.stop();
  }
  const summary = await load.result;
  console.log(formatLoad(label, summary));
  expectEveryRequestAnswered(summary, { atLeast: seconds === undefined ? 30 : seconds * 50 });
  return result;
}

const allPorts = (version: string) =>
  [24900, 24901, 24902].map((port) => ({ version, port, networkMode: 'host' }));

describe("a host-network app whose engine has no host port left (a real engine's containers hold them all)", () => {
  it('a surge instance finds no host port: the deployment fails naming the range and the fix, and the three running keep serving', async () => {
    expect(await running()).toEqual(allPorts('1.0.0'));
    const done = await underLoad(
      'surge with no host port left, and the 3 s after',
      async () => {
        const d = await stack.engine.startDeployment('web', { kind: 'deploy', version: '1.1.0' });
        return stack.finished('web', d.id);
      },
      3,
    );
    // Nothing new started, so there is nothing to roll back: the deployment just fails.
    expect(done.state).toBe('failed');
    expect(done.error?.reason).toBe('StepFailed');
    expect(done.error?.message).toMatch(/every host port 24900-24902 on docker endpoint local is held/);
    expect(done.error?.message).toContain("widen the endpoint's hostPorts");
    expect(await running()).toEqual(allPorts('1.0.0'));
    expect((await stack.lb.servers('web')).filter((s) => s.state === 'ready')).toHaveLength(3);
  });

  it('without a surge (one stopped first, maxUnavailable 1) the same three ports take the new version', async () => {
    const done = await underLoad('one at a time within three host ports', async () => {
      const d = await stack.engine.startDeployment('web', {
        kind: 'deploy',
        version: '1.1.0',
        strategy: { maxSurge: 0, maxUnavailable: 1 },
      });
      return stack.finished('web', d.id);
    });
    expect({ state: done.state, error: done.error }).toEqual({ state: 'succeeded', error: undefined });
    expect(await running()).toEqual(allPorts('1.1.0'));
  });
});
