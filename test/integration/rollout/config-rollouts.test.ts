import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppRecord, type DeploymentRecord, EtcdStateStore } from '../../../src/etcd/index.ts';
import { silentLogger } from '../../../src/log/index.ts';
import { ConfigRollouts } from '../../../src/rollout/index.ts';
import { expectEveryRequestAnswered } from '../../support/expect-every-request-answered.ts';
import { formatLoad, ROLLOUT_LOAD, startLoad } from '../../support/http-load.ts';
import { type RolloutStack, startRolloutStack } from '../../support/rollout-stack.ts';
import { waitFor } from '../../support/wait-for.ts';

const SUITE = 'rollout-config-rollouts';
// Not 'web': other suites share the Docker engine.
const APP = 'cfgroll';
const KEY = (name: string) => `/glint/config/${APP}/${name}`;

let stack: RolloutStack;
let store: EtcdStateStore;
let rollouts: ConfigRollouts;
const docker = new Docker();

beforeAll(async () => {
  stack = await startRolloutStack(
    SUITE,
    (frontendPort) => ({
      image: 'unused',
      version: '1.0.0',
      instances: 2,
      port: 8080,
      health: { type: 'http', path: '/healthz', interval: '500ms', timeout: '500ms', healthyThreshold: 1 },
      strategy: {
        maxSurge: 1,
        maxUnavailable: 0,
        minHealthyTime: '500ms',
        healthyDeadline: '8s',
        drainTimeout: '5s',
        stopTimeout: '3s',
      },
      routing: { frontendPort },
    }),
    APP,
  );
  await stack.push('1.0.0');
  store = new EtcdStateStore(stack.etcd);
  await stack.etcd.put(KEY('GREETING'), 'one');
  const first = await stack.engine.startDeployment(APP, { kind: 'deploy', version: '1.0.0' });
  expect((await stack.finished(APP, first.id)).state).toBe('succeeded');
  rollouts = new ConfigRollouts({
    etcd: stack.etcd,
    apps: () => stack.config.apps,
    engine: stack.engine,
    store,
    clock: { now: () => Date.now() },
    log: silentLogger(),
  });
  await rollouts.start();
}, 300_000);

afterAll(async () => {
  await rollouts?.stop();
  await stack?.close();
});

/** The env each running container of the app was created with, as Docker has it. */
async function runningEnvs(): Promise<{ env: Record<string, string>; labels: Record<string, string> }[]> {
  const containers = (await stack.nodes.list(APP)).filter((c) => c.running);
  return Promise.all(
    containers.map(async (c) => {
      const info = await docker.getContainer(c.containerId).inspect();
      const env = Object.fromEntries(
        (info.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
      );
      return { env, labels: info.Config.Labels ?? {} };
    }),
  );
}

async function appRecord(): Promise<AppRecord> {
  const found = await store.getApp(APP);
  if (!found) throw new Error(`${APP} has no app record`);
  return found.record;
}

const configDeployments = async () => (await store.listDeployments(APP)).filter((d) => d.kind === 'config');

/** The config deployment whose trigger names `key`, started after `since` (an etcd revision). */
function deploymentFor(key: string, since: number): Promise<DeploymentRecord> {
  return waitFor(
    async () =>
      (await configDeployments()).find(
        (d) => d.trigger && d.trigger.revision > since && d.trigger.keys.includes(key),
      ),
    { what: `a config deployment for ${key}`, timeoutMs: 60_000 },
  );
}

const revisionNow = async () => (await stack.etcd.txn({ compare: [], success: [] })).revision;

const load = () =>
  startLoad({
    url: `http://127.0.0.1:${stack.frontendPort}/`,
    ...ROLLOUT_LOAD,
    rate: 150,
    maxDurationSec: 240,
  });

describe('config changes in etcd rolled out as config deployments', () => {
  it('rolls a change out under load with no client error, every new container carrying the new value', async () => {
    const since = await revisionNow();
    const traffic = load();
    let done: DeploymentRecord;
    try {
      await stack.etcd.put(KEY('GREETING'), 'two');
      const started = await deploymentFor(`config/${APP}/GREETING`, since);
      done = await stack.finished(APP, started.id);
    } finally {
      traffic.stop();
    }
    const summary = await traffic.result;
    console.log(formatLoad('config change rolled out', summary));
    expect({ state: done.state, error: done.error }).toEqual({ state: 'succeeded', error: undefined });
    expect(done.trigger).toMatchObject({
      source: 'etcd',
      keys: [`config/${APP}/GREETING`],
      reasons: ['config'],
    });
    expect(done.cause).toContain(`config/${APP}/GREETING`);
    expectEveryRequestAnswered(summary, { atLeast: 101 });
    const envs = await runningEnvs();
    expect(envs).toHaveLength(2);
    for (const c of envs) {
      expect(c.env.GREETING).toBe('two');
      expect(c.labels['glint.env-fingerprint']).toBe(done.to.env.fingerprint);
      expect(Number(c.labels['glint.config-revision'])).toBeGreaterThan(since);
    }
    const [change] = (await appRecord()).configChanges ?? [];
    expect(change).toMatchObject({
      outcome: 'started',
      deploymentId: done.id,
      keys: [`config/${APP}/GREETING`],
    });
  });

  it('makes one deployment of a burst of 20 puts', async () => {
    const since = await revisionNow();
    const before = (await configDeployments()).length;
    for (let i = 0; i < 20; i++) await stack.etcd.put(KEY(`BURST_${i % 4}`), `v${i}`);
    const started = await deploymentFor(`config/${APP}/BURST_0`, since);
    const done = await stack.finished(APP, started.id);
    expect(done.state).toBe('succeeded');
    expect(done.trigger?.keys).toEqual([0, 1, 2, 3].map((i) => `config/${APP}/BURST_${i}`));
    expect((await configDeployments()).length).toBe(before + 1);
    const changes = ((await appRecord()).configChanges ?? []).filter((c) => c.revision > since);
    expect(changes.map((c) => c.outcome)).toEqual(['started']);
    for (const c of await runningEnvs())
      expect([0, 1, 2, 3].map((i) => c.env[`BURST_${i}`])).toEqual(['v16', 'v17', 'v18', 'v19']);
  });

  it('rolls changes made during an active deployment out after it ends, as one deployment', async () => {
    const rotate = await stack.engine.startDeployment(APP, { kind: 'rotate' });
    await stack.waitState(APP, rotate.id, 'running');
    // Held paused, so the changes surely land while it is active.
    await stack.engine.pause(APP, rotate.id);
    const since = await revisionNow();
    const queued = async (key: string) =>
      waitFor(
        async () =>
          (await appRecord()).configChanges?.find(
            (c) => c.revision > since && c.outcome === 'queued' && c.keys.includes(key),
          ),
        { what: `the change of ${key} to be queued`, timeoutMs: 30_000 },
      );
    await stack.etcd.put(KEY('GREETING'), 'queued');
    expect((await queued(`config/${APP}/GREETING`)).keys).toEqual([`config/${APP}/GREETING`]);
    // A second change, in a later window, joins the first.
    await stack.etcd.put(KEY('LATER'), 'too');
    await queued(`config/${APP}/LATER`);
    expect((await configDeployments()).some((d) => d.trigger && d.trigger.revision > since)).toBe(false);
    await stack.engine.resume(APP, rotate.id);
    const rotated = await stack.finished(APP, rotate.id);
    expect(rotated.state).toBe('succeeded');
    const started = await deploymentFor(`config/${APP}/GREETING`, since);
    expect(started.trigger?.keys).toEqual([`config/${APP}/GREETING`, `config/${APP}/LATER`]);
    expect(Date.parse(started.createdAt)).toBeGreaterThanOrEqual(Date.parse(rotated.finishedAt!));
    const done = await stack.finished(APP, started.id);
    expect(done.state).toBe('succeeded');
    expect((await configDeployments()).filter((d) => d.trigger && d.trigger.revision > since)).toHaveLength(
      1,
    );
    for (const c of await runningEnvs()) expect([c.env.GREETING, c.env.LATER]).toEqual(['queued', 'too']);
  });

  it("records a change of an app that says onConfigChange: 'none' without deploying", async () => {
    const app = stack.config.apps[APP]!;
    app.onConfigChange = 'none';
    rollouts.reload();
    try {
      const since = await revisionNow();
      const before = (await store.listDeployments(APP)).length;
      await stack.etcd.put(KEY('GREETING'), 'quiet');
      const recorded = await waitFor(
        async () => (await appRecord()).configChanges?.find((c) => c.revision > since),
        { what: 'the change to be recorded', timeoutMs: 30_000 },
      );
      expect(recorded).toMatchObject({ outcome: 'recorded', keys: [`config/${APP}/GREETING`] });
      expect(recorded.deploymentId).toBeUndefined();
      expect(await store.activeDeployment(APP)).toBeUndefined();
      expect((await store.listDeployments(APP)).length).toBe(before);
      for (const c of await runningEnvs()) expect(c.env.GREETING).toBe('queued');
    } finally {
      app.onConfigChange = 'rotate';
      rollouts.reload();
    }
  });

  it('rolls out, once watching starts, a change made while no one watched', async () => {
    await rollouts.stop();
    await stack.etcd.put(KEY('GREETING'), 'offline');
    const since = await revisionNow();
    await rollouts.start();
    const started = await waitFor(
      async () => (await configDeployments()).find((d) => d.trigger && d.trigger.revision >= since),
      { what: 'a config deployment for the missed change', timeoutMs: 30_000 },
    );
    // Named from the keys written after the running release read its env.
    expect(started.trigger).toMatchObject({ keys: [`config/${APP}/GREETING`], reasons: ['resync'] });
    expect(started.cause).toContain(`while no daemon watched at revision ${started.trigger?.revision}`);
    const done = await stack.finished(APP, started.id);
    expect(done.state).toBe('succeeded');
    for (const c of await runningEnvs()) expect(c.env.GREETING).toBe('offline');
  });

  it('rolls back to the previous env with no client error when FAIL_HEALTH=1 makes the new instances fail', async () => {
    const previous = (await appRecord()).current!;
    const since = await revisionNow();
    const traffic = load();
    let done: DeploymentRecord;
    try {
      await stack.etcd.put(KEY('FAIL_HEALTH'), '1');
      const started = await deploymentFor(`config/${APP}/FAIL_HEALTH`, since);
      done = await stack.finished(APP, started.id);
    } finally {
      traffic.stop();
    }
    const summary = await traffic.result;
    console.log(formatLoad('failed config change rolled back', summary));
    expect(done.state).toBe('rolled_back');
    expect(done.error?.message).toMatch(
      new RegExp(`^config change of config/${APP}/FAIL_HEALTH made the new instances fail: `),
    );
    expectEveryRequestAnswered(summary, { atLeast: 101 });
    const envs = await runningEnvs();
    expect(envs).toHaveLength(2);
    for (const c of envs) {
      expect(c.env.FAIL_HEALTH).toBeUndefined();
      expect(c.env.GREETING).toBe('offline');
      expect(c.labels['glint.env-fingerprint']).toBe(previous.env.fingerprint);
    }
    expect((await appRecord()).current?.env.fingerprint).toBe(previous.env.fingerprint);
  });
});
