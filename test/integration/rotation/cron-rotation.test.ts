import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../../src/config/index.ts';
import { type DeploymentRecord, isTerminal } from '../../../src/etcd/index.ts';
import { createLogger } from '../../../src/log/index.ts';
import { EtcdRotationStore, RotationScheduler } from '../../../src/rotation/index.ts';
import { expectEveryRequestAnswered } from '../../support/expect-every-request-answered.ts';
import { formatLoad, ROLLOUT_LOAD, startLoad } from '../../support/http-load.ts';
import { type RolloutStack, startRolloutStack } from '../../support/rollout-stack.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'rotation-cron';
const EVERY_5S = '*/5 * * * * *';
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
    rotation: { cron: EVERY_5S },
    routing: { frontendPort },
  }));
  await stack.push('1.0.0');
  const first = await stack.engine.startDeployment('web', { kind: 'deploy', version: '1.0.0' });
  expect((await stack.finished('web', first.id)).state).toBe('succeeded');
});

afterAll(async () => {
  await stack?.close();
});

/** A scheduler on the stack's engine, etcd and Docker, as the daemon wires it; its log lines are kept. */
function schedulerOnStack(apps: () => Readonly<Record<string, AppConfig>>) {
  const lines: Array<{ msg: string; deploymentId?: string }> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const scheduler = new RotationScheduler({
    apps,
    instances: (app) => stack.nodes.list(app),
    startDeployment: (app, request) => stack.engine.startDeployment(app, request),
    store: new EtcdRotationStore(stack.etcd),
    clock: { now: () => Date.now() },
    log: createLogger({ destination, level: 'debug' }),
  });
  return { scheduler, lines };
}

const rotations = async (): Promise<DeploymentRecord[]> =>
  (await stack.engine.list('web')).filter((d) => d.kind === 'rotate');

async function runningInstances(): Promise<string[]> {
  return (await stack.nodes.list('web'))
    .filter((c) => c.running)
    .map((c) => c.instance)
    .sort();
}

describe('cron rotations against real Docker, etcd, HAProxy and registry', () => {
  it('replace every instance under load with no client error, each slot once with two schedulers on one record', async () => {
    const before = await runningInstances();
    expect(before).toHaveLength(3);
    const a = schedulerOnStack(() => stack.config.apps);
    const b = schedulerOnStack(() => stack.config.apps);
    const load = startLoad({
      url: `http://127.0.0.1:${stack.frontendPort}/`,
      ...ROLLOUT_LOAD,
      rate: 150,
      maxDurationSec: 300,
    });
    try {
      a.scheduler.start();
      b.scheduler.start();
      await waitFor(
        async () =>
          (await rotations()).filter((d) => d.state === 'succeeded').length >= 2 ? true : undefined,
        { what: 'two cron rotations to succeed', timeoutMs: 240_000, intervalMs: 500 },
      );
    } finally {
      await Promise.all([a.scheduler.stop(), b.scheduler.stop()]);
      const active = (await rotations()).filter((d) => !isTerminal(d.state));
      for (const d of active) await stack.finished('web', d.id);
      load.stop();
    }
    const summary = await load.result;
    console.log(formatLoad('cron rotations every 5 s', summary));
    expectEveryRequestAnswered(summary, { atLeast: 301 });

    const done = await rotations();
    expect(done.map((d) => d.state).every((s) => s === 'succeeded')).toBe(true);
    // Each rotation stands for one scheduled time, and no time was run twice.
    const slots = done.map((d) => /at (\S+Z)/.exec(d.cause ?? '')?.[1]);
    expect(slots.every((s) => s !== undefined && Date.parse(s) % 5_000 === 0)).toBe(true);
    expect(new Set(slots).size).toBe(done.length);
    const startedLines = [...a.lines, ...b.lines].filter((l) => l.msg === 'cron rotation started');
    expect(startedLines.map((l) => l.deploymentId).sort()).toEqual(done.map((d) => d.id).sort());

    const after = await runningInstances();
    expect(after).toHaveLength(3);
    expect(after.filter((i) => before.includes(i))).toEqual([]);
    const record = await new EtcdRotationStore(stack.etcd).get('web');
    expect(record?.record.lastSlot && Date.parse(record.record.lastSlot)).toBeGreaterThanOrEqual(
      Math.max(...slots.map((s) => Date.parse(s ?? ''))),
    );
  });
});
