import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEveryRequestAnswered } from '../../support/expect-every-request-answered.ts';
import { formatLoad, ROLLOUT_LOAD, startLoad } from '../../support/http-load.ts';
import { type RolloutStack, startRolloutStack } from '../../support/rollout-stack.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'rollout-rolling-deploy';
let stack: RolloutStack;

beforeAll(async () => {
  stack = await startRolloutStack(SUITE, (frontendPort) => ({
    image: 'unused',
    version: '1.0.0',
    instances: 3,
    port: 8080,
    health: { type: 'http', path: '/healthz', interval: '1s', timeout: '1s', healthyThreshold: 2 },
    strategy: {
      maxSurge: 1,
      maxUnavailable: 0,
      minHealthyTime: '1s',
      drainTimeout: '10s',
      stopTimeout: '5s',
    },
    routing: { frontendPort },
  }));
  await stack.push('1.0.0');
  await stack.push('1.1.0');
});

afterAll(async () => {
  await stack?.close();
});

async function versionsBehindHaproxy(): Promise<string[]> {
  const seen = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const res = await fetch(`http://127.0.0.1:${stack.frontendPort}/`, { headers: { connection: 'close' } });
    seen.add(((await res.json()) as { version: string }).version);
  }
  return [...seen].sort();
}

async function runningVersions(): Promise<string[]> {
  const containers = await stack.nodes.list('web');
  return containers
    .filter((c) => c.running)
    .map((c) => c.version)
    .sort();
}

describe('rolling deploy through the engine, against real Docker, etcd, HAProxy and registry', () => {
  it('brings a new app to 3 ready instances, in HAProxy and in the service registry', async () => {
    const started = await stack.engine.startDeployment('web', { kind: 'deploy', version: '1.0.0' });
    const done = await stack.finished('web', started.id);
    expect({ state: done.state, error: done.error }).toEqual({ state: 'succeeded', error: undefined });
    expect(await runningVersions()).toEqual(['1.0.0', '1.0.0', '1.0.0']);
    const servers = await stack.lb.servers('web');
    expect(servers.filter((s) => s.state === 'ready' && s.checkPassed)).toHaveLength(3);
    expect((await stack.registered('web')).map((e) => e.version)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
    expect(await versionsBehindHaproxy()).toEqual(['1.0.0']);
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
    console.log(formatLoad('rolling 1.0.0 → 1.1.0', summary));
    expectEveryRequestAnswered(summary, { atLeast: 301 });
    expect(await runningVersions()).toEqual(['1.1.0', '1.1.0', '1.1.0']);
    expect(await versionsBehindHaproxy()).toEqual(['1.1.0']);
    await waitFor(
      async () => ((await stack.registered('web')).every((e) => e.version === '1.1.0') ? true : undefined),
      { what: 'the registry to hold only 1.1.0', timeoutMs: 30_000 },
    );
  });
});
