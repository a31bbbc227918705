import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../../src/config/index.ts';
import { silentLogger } from '../../../src/log/index.ts';
import { EtcdRotationStore, RotationScheduler } from '../../../src/rotation/index.ts';
import { type RolloutStack, startRolloutStack } from '../../support/rollout-stack.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'rotation-max-age';
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
  // One instance first, two more once it serves: the first is seconds older than the others.
  const first = await stack.engine.startDeployment('web', { kind: 'deploy', version: '1.0.0', instances: 1 });
  expect((await stack.finished('web', first.id)).state).toBe('succeeded');
  const scaled = await stack.engine.startDeployment('web', { kind: 'scale', instances: 3 });
  expect((await stack.finished('web', scaled.id)).state).toBe('succeeded');
});

afterAll(async () => {
  await stack?.close();
});

describe('maxAge rotation against real Docker, etcd, HAProxy and registry', () => {
  it('replaces only the instances older than maxAge', async () => {
    const running = (await stack.nodes.list('web'))
      .filter((c) => c.running)
      .sort((x, y) => x.createdAt - y.createdAt);
    expect(running).toHaveLength(3);
    const oldest = running[0]!;
    const younger = running.slice(1);
    const now = Date.now();
    const gap = younger[0]!.createdAt - oldest.createdAt;
    // Docker lists creation times in whole seconds.
    expect(gap).toBeGreaterThanOrEqual(2_000);
    // Halfway between the oldest's age and the next one's: only the oldest is past it.
    const maxAge = Math.round(now - oldest.createdAt - gap / 2);
    const base = stack.config.apps.web as AppConfig;
    const apps = { web: { ...base, rotation: { ...base.rotation, maxAge, jitter: 0 } } };
    const scheduler = new RotationScheduler({
      apps: () => apps,
      instances: (app) => stack.nodes.list(app),
      startDeployment: (app, request) => stack.engine.startDeployment(app, request),
      store: new EtcdRotationStore(stack.etcd),
      clock: { now: () => Date.now() },
      log: silentLogger(),
    });
    let rotationId: string | undefined;
    try {
      scheduler.start();
      rotationId = await waitFor(
        async () => (await new EtcdRotationStore(stack.etcd).get('web'))?.record.last?.deploymentId,
        { what: 'the maxAge rotation to start', timeoutMs: 30_000 },
      );
    } finally {
      // The younger instances age past maxAge seconds later: nothing more may start.
      await scheduler.stop();
    }
    const record = (await new EtcdRotationStore(stack.etcd).get('web'))?.record;
    expect(record?.last).toMatchObject({
      trigger: 'maxAge',
      outcome: 'started',
      instances: [oldest.instance],
    });
    const done = await stack.finished('web', rotationId);
    expect({ kind: done.kind, state: done.state, error: done.error }).toEqual({
      kind: 'rotate',
      state: 'succeeded',
      error: undefined,
    });
    const after = (await stack.nodes.list('web')).filter((c) => c.running).map((c) => c.instance);
    expect(after).toHaveLength(3);
    expect(after).not.toContain(oldest.instance);
    expect(younger.map((c) => c.instance).filter((i) => after.includes(i))).toEqual(
      younger.map((c) => c.instance),
    );
  });
});
