import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../support/free-port.ts';
import { type RolloutStack, startRolloutStack } from '../../support/rollout-stack.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'rollout-service-refs';
// web's upstream; a name of this file's own, since the engine is shared with other suites.
const WEB = 'svcrefweb';
const UPSTREAM = 'svcrefapi';
let stack: RolloutStack;
let upstreamPort: number;

const app = (frontendPort: number, env: Record<string, string> = {}) => ({
  image: 'unused',
  version: '1.0.0',
  instances: 1,
  port: 8080,
  env,
  health: {
    type: 'http' as const,
    path: '/healthz',
    interval: '500ms',
    timeout: '500ms',
    healthyThreshold: 1,
  },
  strategy: { minHealthyTime: '500ms', drainTimeout: '2s', stopTimeout: '3s' },
  routing: { frontendPort },
});

beforeAll(async () => {
  upstreamPort = await freePort();
  stack = await startRolloutStack(
    SUITE,
    (port) => app(port, { UPSTREAM_URL: `http://{{service:${UPSTREAM}}}/` }),
    WEB,
    {
      [UPSTREAM]: app(upstreamPort),
    },
  );
  await stack.push('1.0.0');
}, 240_000);

afterAll(async () => {
  await stack?.close();
});

async function deploy(name: string, version: string) {
  const started = await stack.engine.startDeployment(name, { kind: 'deploy', version });
  const done = await stack.finished(name, started.id);
  expect({ state: done.state, error: done.error }).toEqual({ state: 'succeeded', error: undefined });
}

async function webAnswer(): Promise<{
  status: number;
  body: { upstream?: { version: string }; error?: string };
}> {
  const res = await fetch(`http://127.0.0.1:${stack.frontendPort}/`, { headers: { connection: 'close' } });
  return {
    status: res.status,
    body: (await res.json()) as { upstream?: { version: string }; error?: string },
  };
}

describe("{{service:x}} reaches x's HAProxy frontend from inside a container, against real Docker and HAProxy", () => {
  it('deploys web while its upstream has no instance: the env names the frontend, and HAProxy answers 503 behind it', async () => {
    await deploy(WEB, '1.0.0');
    const [web] = (await stack.nodes.list(WEB)).filter((c) => c.running);
    const inspected = await new Docker().getContainer(web!.containerId).inspect();
    const serviceAddress = stack.nodes.serviceAddressOf('local');
    expect(serviceAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(inspected.HostConfig.ExtraHosts).toEqual([`glint-lb:${serviceAddress}`]);
    expect(inspected.Config.Env).toContain(`UPSTREAM_URL=http://glint-lb:${upstreamPort}/`);
    expect(inspected.HostConfig.NetworkMode).toBe('default');
    const answer = await webAnswer();
    expect(answer.status).toBe(502);
    expect(answer.body.error).toContain('status 503');
  }, 240_000);

  it("a container on the bridge network gets the upstream's answer through glint-lb once it runs, and web is not replaced", async () => {
    const before = (await stack.nodes.list(WEB)).map((c) => c.containerId);
    await deploy(UPSTREAM, '1.0.0');
    const answer = await waitFor(
      async () => {
        const a = await webAnswer();
        return a.status === 200 ? a : undefined;
      },
      { what: 'web answering with its upstream', timeoutMs: 30_000 },
    );
    expect(answer.body.upstream?.version).toBe('1.0.0');
    expect((await stack.nodes.list(WEB)).map((c) => c.containerId)).toEqual(before);
  }, 240_000);
});
